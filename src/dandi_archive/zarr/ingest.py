"""Ingesting a finalized Zarr: Uploaded -> Ingesting -> Complete.

The job applies what finalize recorded for each touched path to the per-file rows,
re-hashes only the directories above them (:mod:`.zarr_tree`), inspects the OME-NGFF
metadata if a metadata document changed and redraws an OME-Zarr's preview
(:mod:`.thumbnails`), then adjusts the drafts that show the Zarr: their folder totals,
and validation of the drafts and the Zarr's assets. It reads nothing from storage but
the metadata documents and the small top level of an image's pyramid.
"""

from __future__ import annotations

import base64
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dandi_archive.dandisets import folders
from dandi_archive.dandisets.versions import mark_changed
from dandi_archive.db.models import (
    Asset,
    AssetStatus,
    Version,
    VersionAsset,
    VersionStatus,
    Zarr,
    ZarrChange,
    ZarrStatus,
)
from dandi_archive.zarr import ngff
from dandi_archive.zarr import tree as zarr_tree

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)

# An ingest that has run this long is presumed lost (worker killed) and restarted.
STALE_INGEST = timedelta(hours=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


def ingest(archive: Archive, zarr_id: uuid.UUID) -> None:
    """Uploaded -> Ingesting -> Complete: apply the finalized changes, re-hash, update
    the assets that show this Zarr. Safe to run twice; only one run does the work."""
    token = _start_ingest(archive, zarr_id)
    if token is None:
        return
    with archive.db.session(write=True) as session:
        zarr = session.get(Zarr, zarr_id, with_for_update=True)
        if zarr is None or zarr.status != ZarrStatus.INGESTING or zarr.ingest_token != token:
            return
        changed = _apply_and_rehash(session, zarr)
        if zarr.ngff is None or any(ngff.is_metadata_path(p) for p in changed):
            zarr.ngff = ngff.inspect(archive.store, zarr.key_prefix)
        if changed and "multiscales" in zarr.ngff:
            from dandi_archive.zarr import thumbnails  # numpy, Pillow: in the job only

            png = thumbnails.render(archive.store, zarr.key_prefix)
            thumbnail = base64.b64encode(png).decode() if png else None
            zarr.ngff = {**zarr.ngff, "thumbnail": thumbnail}
    _assets_changed(archive, zarr_id)


def _start_ingest(archive: Archive, zarr_id: uuid.UUID) -> str | None:
    with archive.db.session(write=True) as session:
        zarr = session.get(Zarr, zarr_id, with_for_update=True)
        if zarr is None or zarr.status != ZarrStatus.UPLOADED:
            return None
        zarr.status = ZarrStatus.INGESTING
        zarr.ingest_token = uuid.uuid4().hex
        zarr.modified = utcnow()
        return zarr.ingest_token


def _apply_and_rehash(session: Session, zarr: Zarr) -> list[str]:
    rows = session.execute(
        select(
            ZarrChange.path, ZarrChange.seen_size, ZarrChange.seen_md5, ZarrChange.seen_modified
        ).where(ZarrChange.zarr_id == zarr.id, ZarrChange.seen.is_(True))
    ).all()
    states = [zarr_tree.FileState(r.path, r.seen_size, r.seen_md5, r.seen_modified) for r in rows]
    dirty = zarr_tree.apply_changes(session, zarr.id, states)
    root = zarr_tree.rehash(session, zarr.id, dirty)
    applied = (ZarrChange.zarr_id == zarr.id, ZarrChange.seen.is_(True))
    session.execute(delete(ZarrChange).where(*applied, ZarrChange.awaiting.is_(False)))
    # Paths an old URL may still write stay on record for the next finalize to look at.
    session.execute(
        update(ZarrChange)
        .where(*applied, ZarrChange.awaiting.is_(True))
        .values(seen=False, awaiting=False)
    )
    delta = root.size - zarr.size
    zarr.checksum = root.digest
    zarr.file_count = root.count
    zarr.size = root.size
    zarr.status = ZarrStatus.COMPLETE
    zarr.ingest_token = None
    zarr.modified = utcnow()
    if delta:
        _adjust_draft_folders(session, zarr.id, delta)
    log.info("zarr %s: %d changed paths, checksum %s", zarr.id, len(states), zarr.checksum)
    return [s.path for s in states]


def _adjust_draft_folders(session: Session, zarr_id: uuid.UUID, delta: int) -> None:
    """Drafts count a Zarr asset with the Zarr's size; published versions keep theirs."""
    links = session.execute(
        select(VersionAsset.version_id, VersionAsset.path)
        .join(Asset, Asset.id == VersionAsset.asset_id)
        .join(Version, Version.id == VersionAsset.version_id)
        .where(Asset.zarr_id == zarr_id, Version.version == "draft")
    ).all()
    for version_id, path in links:
        folders.adjust_folder_sizes(session, version_id, path, delta)


def _assets_changed(archive: Archive, zarr_id: uuid.UUID) -> None:
    """The drafts showing this Zarr changed: validate them and its assets again."""
    with archive.db.session(write=True) as session:
        version_ids = sorted(
            set(
                session.scalars(
                    select(VersionAsset.version_id)
                    .join(Asset, Asset.id == VersionAsset.asset_id)
                    .join(Version, Version.id == VersionAsset.version_id)
                    .where(Asset.zarr_id == zarr_id, Version.version == "draft")
                )
            )
        )
        for version_id in version_ids:
            version = session.get(Version, version_id, with_for_update=True)
            if version is None or version.status == VersionStatus.PUBLISHING:
                continue
            mark_changed(archive, session, version)
        asset_ids = list(
            session.scalars(
                # Published versions show frozen Zarrs, never this live one.
                select(Asset.id).where(Asset.zarr_id == zarr_id)
            )
        )
        session.execute(
            update(Asset)
            .where(Asset.id.in_(asset_ids))
            .values(status=AssetStatus.PENDING, validation_errors=[])
            .execution_options(synchronize_session=False)
        )
        for asset_id in asset_ids:
            archive.defer(session, "validate_asset", asset_id=str(asset_id))


def requeue_stuck(
    archive: Archive, session: Session, cutoff: datetime, *, restarted: bool = False
) -> None:
    """For the sweep: re-queue ingests whose job was lost (all that were under way, if
    the process running them was restarted; a run presumed lost that still finishes
    finds its token gone and changes nothing)."""
    stale = utcnow() if restarted else utcnow() - STALE_INGEST
    for zarr in session.scalars(
        select(Zarr).where(Zarr.status == ZarrStatus.INGESTING, Zarr.modified <= stale)
    ):
        zarr.status = ZarrStatus.UPLOADED
        zarr.ingest_token = None
    for zarr_id in session.scalars(
        select(Zarr.id).where(Zarr.status == ZarrStatus.UPLOADED, Zarr.modified <= cutoff)
    ):
        archive.defer(session, "ingest_zarr", zarr_id=str(zarr_id))
