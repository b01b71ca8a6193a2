"""Lifting an embargo: an embargoed Dandiset becomes open to everyone.

An owner asks for it (``request_unembargo``), or its end date came (``embargo.expiry``).
The request moves it to UNEMBARGOING (no changes are accepted meanwhile); a job makes
its blobs public (on S3 by removing their ``embargoed`` tag), opens the Dandiset and
re-validates the draft, whose ``access`` metadata changes. Zarr objects are made
public the same way. A crash in between is resumed by the sweep. Once open, its readers
and unanswered access requests are dropped (everyone reads it now), and the owners are
told by mail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from dandi_archive.access.permissions import is_active, require_owner
from dandi_archive.audit import events as audit
from dandi_archive.dandisets import metadata as md
from dandi_archive.dandisets.dandisets import draft_of, get_dandiset
from dandi_archive.dandisets.versions import mark_changed
from dandi_archive.db.models import (
    Asset,
    AssetBlob,
    AssetStatus,
    Dandiset,
    EmbargoStatus,
    Upload,
    User,
    Version,
    VersionAsset,
    Zarr,
)
from dandi_archive.embargo import readers
from dandi_archive.errors import BadRequest
from dandi_archive.mail import notices
from dandi_archive.zarr import zarrs

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.instance import Archive


def request_unembargo(
    archive: Archive, session: Session, user: User | None, identifier: str
) -> None:
    dandiset = get_dandiset(session, identifier, lock=True)
    user = require_owner(session, dandiset, user)
    if dandiset.embargo_status != EmbargoStatus.EMBARGOED:
        raise BadRequest(f"Dandiset {dandiset.identifier} is not embargoed.")
    if session.scalar(select(Upload.id).where(Upload.dandiset_id == dandiset.id).limit(1)):
        raise BadRequest("Finish or cancel the unfinished uploads first.")
    dandiset.embargo_status = EmbargoStatus.UNEMBARGOING
    archive.defer(session, "unembargo", dandiset_id=dandiset.id, user_id=user.id)


def unembargo(archive: Archive, dandiset_id: int, user_id: int | None = None) -> None:
    """Make the Dandiset's blobs public, then open it (the ``unembargo`` job).

    ``user_id``, who asked, is named in the history (a job the sweep re-queued after a
    crash no longer knows it)."""
    with archive.db.session() as session:
        dandiset = session.get(Dandiset, dandiset_id)
        if dandiset is None or dandiset.embargo_status != EmbargoStatus.UNEMBARGOING:
            return
        keys = list(session.scalars(select(AssetBlob.key).where(_blob_of_dandiset(dandiset_id))))
        zarr_ids = list(session.scalars(select(Zarr.id).where(Zarr.dandiset_id == dandiset_id)))
    for key in keys:
        archive.store.make_public(key)
    zarrs.make_public(archive, zarr_ids)
    with archive.db.session(write=True) as session:
        dandiset = session.get(Dandiset, dandiset_id, with_for_update=True)
        session.execute(
            update(AssetBlob)
            .where(_blob_of_dandiset(dandiset_id))
            .values(embargoed=False)
            .execution_options(synchronize_session=False)
        )
        dandiset.embargo_status = EmbargoStatus.OPEN
        readers.drop_all(session, dandiset.id)
        requester = session.get(User, user_id) if user_id is not None else None
        audit.unembargo_dandiset(session, dandiset.id, requester)
        dandiset.embargo_end_date = datetime.now(UTC).date()
        draft = draft_of(session, dandiset, lock=True)
        draft.metadata_ = md.populate_version_metadata(archive, dandiset, draft, draft.metadata_)
        mark_changed(archive, session, draft)
        # Asset documents say "embargoed" until re-validated as open.
        session.execute(
            update(Asset)
            .where(Asset.id.in_(_assets_of(draft.id)))  # never published: it was embargoed
            .values(status=AssetStatus.PENDING)
            .execution_options(synchronize_session=False)
        )
        archive.defer(session, "sweep")
        # The owners hear it with the change: sent after commit, only if it committed.
        owners = [u for u in dandiset.owners if is_active(u)]
        notices.unembargo_finished(archive, session, dandiset, draft.name, owners)


def _assets_of(version_id: int):
    return select(VersionAsset.asset_id).where(VersionAsset.version_id == version_id)


def _blob_of_dandiset(dandiset_id: int):
    versions = select(Version.id).where(Version.dandiset_id == dandiset_id)
    assets = select(VersionAsset.asset_id).where(VersionAsset.version_id.in_(versions))
    return AssetBlob.id.in_(select(Asset.blob_id).where(Asset.id.in_(assets)))
