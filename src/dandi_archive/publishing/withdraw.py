"""Withdrawing a published version (``DELETE /api/dandisets/{id}/versions/{v}/``).

Upstream deletes the version row. A self-hosted archive keeps the record instead: a
published version was cited, and its DOI can never be deleted once findable. So the
version is *withdrawn*: marked with the time, hidden from the version list and from
"most recent published version", its DOI hidden at DataCite (see
:func:`dandisets.dois.withdraw_version`), its manifests kept in the bucket next to a
``WITHDRAWN`` tombstone, and its landing page says so.

Its assets are kept: asset rows are shared between versions, and the withdrawn
version's own list of them stays so its landing page, manifests and the tombstone stay
consistent. Nothing any version holds disappears.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from dandi_archive.audit import events as audit
from dandi_archive.dandisets import dois
from dandi_archive.dandisets.dandisets import get_dandiset
from dandi_archive.dandisets.versions import get_version
from dandi_archive.db.models import User, Version
from dandi_archive.errors import NotAuthenticated, PermissionDenied
from dandi_archive.publishing.manifests import manifest_prefix

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)

TOMBSTONE = "WITHDRAWN"


def withdraw_version(
    archive: Archive, session: Session, user: User | None, identifier: str, version: str
) -> Version:
    """Withdraw a published version; only admins may. Withdrawing twice changes nothing."""
    if user is None:
        raise NotAuthenticated()
    dandiset = get_dandiset(session, identifier, lock="change")
    found = get_version(session, dandiset, version, lock=True)
    if found.is_draft:
        raise PermissionDenied("Cannot delete draft versions")
    if not user.is_admin:
        raise PermissionDenied("Cannot delete published versions")
    if found.withdrawn is not None:
        return found
    found.withdrawn = datetime.now(UTC)
    session.flush()
    dois.withdraw_version(archive, session, found)
    audit.withdraw_version(session, dandiset.id, user, found.version)
    archive.defer(session, "write_withdrawal_tombstone", version_id=found.id)
    return found


def tombstone(version: Version) -> dict[str, Any]:
    metadata = version.metadata_ or {}
    return {
        "id": metadata.get("id"),
        "version": version.version,
        "doi": metadata.get("doi"),
        "withdrawn": version.withdrawn.isoformat() if version.withdrawn else None,
        "message": "This version was withdrawn by the archive's administrators. "
        "Its manifests are kept for the record.",
    }


def write_tombstone(archive: Archive, version_id: int) -> None:
    """Put the ``WITHDRAWN`` marker next to the version's manifests (the job)."""
    with archive.db.session() as session:
        version = session.get(Version, version_id)
        if version is None or version.withdrawn is None:
            return
        key = manifest_prefix(version.dandiset.identifier, version.version) + TOMBSTONE
        body = json.dumps(tombstone(version), indent=2).encode()
    archive.store.put_bytes(key, body, "application/json")
    log.info("wrote %s", key)
