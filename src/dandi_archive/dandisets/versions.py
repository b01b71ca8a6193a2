"""Versions of a Dandiset: finding them, editing the draft, and their validation state."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select, union_all
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import require_owner, require_readable
from dandi_archive.audit import events as audit
from dandi_archive.dandisets import metadata as md
from dandi_archive.dandisets.dandisets import get_dandiset, parse_identifier
from dandi_archive.db.models import (
    Asset,
    AssetStatus,
    Dandiset,
    User,
    Version,
    VersionAsset,
    VersionStatus,
)
from dandi_archive.errors import BadRequest, MethodNotAllowed, NotFound
from dandi_archive.search import index as search_index
from dandi_archive.standards import findings as standard_findings

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

VERSION_ID = re.compile(r"^(draft|0\.\d{6}\.\d{4})$")
MAX_LISTED_ASSET_ERRORS = 50


def get_version(
    session: Session, dandiset: Dandiset, version: str, *, lock: bool = False
) -> Version:
    if not VERSION_ID.match(version):
        raise NotFound(f"{version!r} is not a version (use 'draft' or 0.YYMMDD.HHMM).")
    query = select(Version).where(Version.dandiset_id == dandiset.id, Version.version == version)
    if lock:
        query = query.with_for_update()
    found = session.scalars(query).one_or_none()
    if found is None:
        raise NotFound(f"Dandiset {dandiset.identifier} has no version {version}.")
    return found


def get_readable_version(
    session: Session, user: User | None, identifier: str, version: str
) -> tuple[Dandiset, Version]:
    if not VERSION_ID.match(version):  # refused after the Dandiset's own checks
        dandiset = get_dandiset(session, identifier)
        require_readable(session, dandiset, user)
        return dandiset, get_version(session, dandiset, version)
    # The Dandiset and its version in one query: this starts most read requests.
    row = session.execute(
        select(Dandiset, Version)
        .outerjoin(Version, (Version.dandiset_id == Dandiset.id) & (Version.version == version))
        .where(Dandiset.id == parse_identifier(identifier))
    ).one_or_none()
    if row is None:
        raise NotFound(f"Dandiset {identifier} does not exist.")
    dandiset, found = row
    require_readable(session, dandiset, user)
    if found is None:
        raise NotFound(f"Dandiset {dandiset.identifier} has no version {version}.")
    return dandiset, found


def get_writable_draft(
    session: Session, user: User | None, identifier: str, version: str
) -> tuple[Dandiset, Version]:
    """The draft, locked for this transaction (after its Dandiset, in the lock order of
    :mod:`dandi_archive.db.locking`), after checking the caller owns it."""
    dandiset = get_dandiset(session, identifier, lock="change")
    require_owner(session, dandiset, user)
    if dandiset.embargo_status == "UNEMBARGOING":
        raise BadRequest("Dandiset modification not allowed while its embargo is being lifted.")
    found = get_version(session, dandiset, version, lock=True)
    if not found.is_draft:
        raise MethodNotAllowed("Only draft versions can be modified.")
    if found.status == VersionStatus.PUBLISHING:
        raise BadRequest("The Dandiset is being published; try again when that is done.")
    return dandiset, found


# A draft in one of these states has exactly one validation run queued or under way.
_RUN_AHEAD = (VersionStatus.PENDING, VersionStatus.VALIDATING)


def queue_validation(archive: Archive, session: Session, version: Version) -> None:
    """Set a draft back to Pending, with one validation run that will see the change.

    Coalesced, so adding N assets costs a bounded number of whole-draft runs, not N: a
    Pending draft has its run queued already, and a Validating one is being validated
    by a run that, finding the draft changed under it, queues the next itself. A run a
    crash lost is queued again by the sweep (``integrity.tasks.sweep``).
    """
    run_ahead = version.status in _RUN_AHEAD
    version.status = VersionStatus.PENDING
    version.revision += 1  # a run under way drops its verdict
    if not run_ahead:
        archive.defer(session, "validate_version", version_id=version.id)


def mark_changed(archive: Archive, session: Session, version: Version) -> None:
    """Record that a draft changed: it must be validated again."""
    queue_validation(archive, session, version)
    version.modified = datetime.now(UTC)
    version.validation_errors = []


class WrongTypes(BadRequest):
    """Metadata refused because some values have the wrong type; ``errors`` says where."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        where = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"Some metadata values have the wrong type: {where}{more}.")
        self.errors = errors


def update_draft_metadata(
    archive: Archive,
    session: Session,
    user: User | None,
    identifier: str,
    version: str,
    name: Any,
    metadata: Any,
) -> Version:
    dandiset, draft = get_writable_draft(session, user, identifier, version)
    if not isinstance(metadata, dict):
        raise BadRequest("metadata must be a JSON object.")
    if name is None:
        name = metadata.get("name", draft.name)
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("name must be a non-empty string.")
    new = md.strip_version_metadata(metadata)
    if wrong := md.wrong_types(new):
        raise WrongTypes(wrong)
    old = md.strip_version_metadata(draft.metadata_)
    if new == old and name.strip() == draft.name:
        return draft
    previous = draft.metadata_
    draft.name = name.strip()
    # Keep what the server computed from assets; the user's fields replace the rest.
    new["assetsSummary"] = draft.metadata_.get("assetsSummary")
    draft.metadata_ = md.populate_version_metadata(archive, dandiset, draft, new)
    mark_changed(archive, session, draft)
    audit.update_metadata(session, dandiset.id, user, previous, draft.metadata_)
    search_index.index_dandiset(session, draft)
    dandiset.modified = draft.modified
    return draft


def list_versions(session: Session, dandiset: Dandiset, order: str | None) -> Any:
    order = order or "created"
    if order not in ("created", "-created"):
        raise BadRequest("order must be 'created' or '-created'.")
    key = Version.created.desc() if order.startswith("-") else Version.created.asc()
    # Withdrawn versions are gone from the list, as deleted ones are upstream; they
    # still answer by their id (metadata, info, landing page with its notice).
    return (
        select(Version)
        .where(Version.dandiset_id == dandiset.id, Version.withdrawn.is_(None))
        .order_by(key, Version.id)
    )


_WAITING = [AssetStatus.PENDING, AssetStatus.VALIDATING]


def asset_validation_errors(session: Session, version: Version) -> list[dict[str, str]]:
    """Errors of this version's assets, as [{field, message, path}], shortened for display.

    Assets still waiting for validation are listed with a message saying so, since the
    version cannot be published before they are done.
    """
    member = select(VersionAsset.asset_id).where(VersionAsset.version_id == version.id)

    def first(statuses: list[AssetStatus]) -> Any:
        """The first assets (by path) in one of these states, as a subquery."""
        return (
            select(Asset.path, Asset.status, Asset.validation_errors)
            .where(Asset.id.in_(member), Asset.status.in_(statuses))
            .order_by(Asset.path)
            .limit(MAX_LISTED_ASSET_ERRORS)
            .subquery()
        )

    # Both lists in one round trip; each keeps its own limit and the database's order.
    both = union_all(select(first(_WAITING)), select(first([AssetStatus.INVALID]))).subquery()
    rows = session.execute(
        select(both).order_by(case((both.c.status == AssetStatus.INVALID, 1), else_=0), both.c.path)
    ).all()
    errors: list[dict[str, str]] = []
    for path, status, asset_errors in rows:
        if status == AssetStatus.INVALID:
            errors.extend({**e, "path": path} for e in asset_errors or [])
        else:
            message = "asset is currently being validated, please wait."
            errors.append({"field": "", "message": message, "path": path})
    # What data standards' validators (BIDS) found wrong with files of the draft.
    for path, finding in standard_findings.blocking_asset_findings(
        session, version.id, MAX_LISTED_ASSET_ERRORS
    ):
        errors.append({**finding, "path": path})
    return errors


def count_unfinished_assets(session: Session, version: Version) -> int:
    member = select(VersionAsset.asset_id).where(VersionAsset.version_id == version.id)
    return (
        session.scalar(
            select(func.count())
            .select_from(Asset)
            .where(Asset.id.in_(member), Asset.status != AssetStatus.VALID)
        )
        or 0
    )
