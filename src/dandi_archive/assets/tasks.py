"""Background jobs of assets: the SHA-256 of a new blob, validating an asset (its metadata,
and for an NWB file what the NWB Inspector found), and lifting the embargo mark of a blob
that became public."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from dandi_archive.assets.assets import dandisets_of_asset
from dandi_archive.dandisets import metadata as md
from dandi_archive.dandisets.versions import queue_validation
from dandi_archive.db.models import (
    Asset,
    AssetBlob,
    AssetStatus,
    Version,
    VersionAsset,
    VersionStatus,
    ZarrStatus,
)
from dandi_archive.standards import nwb
from dandi_archive.storage.hashing import sha256_of_object
from dandi_archive.tasks.registry import job
from dandi_archive.zarr import zarrs

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.instance import Archive


@job
def compute_sha256(archive: Archive, blob_id: str) -> None:
    """Hash a stored blob (streamed), then validate the assets that waited for it."""
    with archive.db.session() as session:
        blob = session.get(AssetBlob, uuid.UUID(blob_id))
        if blob is None or blob.sha256:
            return
        key = blob.key
    sha256 = sha256_of_object(archive.store, key)
    with archive.db.session(write=True) as session:
        session.execute(
            update(AssetBlob)
            .where(AssetBlob.id == uuid.UUID(blob_id), AssetBlob.sha256.is_(None))
            .values(sha256=sha256)
        )
    # Only now, with the digest committed: an asset added meanwhile is either seen here
    # or validated by its own job, which then sees the digest.
    with archive.db.session() as session:
        waiting = session.scalars(
            select(Asset.id).where(
                Asset.blob_id == uuid.UUID(blob_id), Asset.status == AssetStatus.PENDING
            )
        )
        for asset_id in waiting:
            archive.defer(session, "validate_asset", asset_id=str(asset_id))
        # Whether the bytes are a container image (containers/tasks.py): once per blob.
        archive.defer(session, "inspect_container", blob_id=blob_id)


# Draft states whose assetsSummary a newly validated asset no longer changes.
_SUMMARY_FROZEN = (VersionStatus.PUBLISHING, VersionStatus.PUBLISHED)


@job
def validate_asset(archive: Archive, asset_id: str) -> None:
    """Judge an asset's metadata as dandischema's published Asset (needs its SHA-256)."""
    aid = uuid.UUID(asset_id)
    with archive.db.session(write=True) as session:
        # Drafts before the asset: the lock order of every change (db/locking.py).
        drafts = [
            session.get(Version, draft_id, with_for_update=True)
            for draft_id in _drafts_holding(session, aid)
        ]
        asset = session.get(Asset, aid, with_for_update={"of": Asset})
        if asset is None or asset.status != AssetStatus.PENDING:
            return
        if asset.blob is not None and asset.blob.sha256 is None:
            return  # compute_sha256 queues this job again when the digest is known
        if asset.zarr is not None and asset.zarr.status != ZarrStatus.COMPLETE:
            return  # the Zarr's ingest queues this job again when its checksum is known
        embargoed = any(d.embargo_status != "OPEN" for d in dandisets_of_asset(session, asset))
        errors = md.validate_asset_metadata(
            md.asset_full_metadata(archive, asset, embargoed=embargoed)
        )
        errors += zarrs.ngff_errors(asset)
        nwb_errors = nwb.blocking_errors(archive, session, asset)
        if nwb_errors is None:
            return  # the NWB Inspector's run queues this job again when it is done
        errors += nwb_errors
        asset.status = AssetStatus.INVALID if errors else AssetStatus.VALID
        asset.validation_errors = errors
        # Only valid assets count in the assetsSummary, so the draft's must be redone.
        for draft in drafts:
            if draft is not None and draft.status not in _SUMMARY_FROZEN:
                queue_validation(archive, session, draft)


def _drafts_holding(session: Session, asset_id: uuid.UUID) -> list[int]:
    return sorted(
        session.scalars(
            select(VersionAsset.version_id)
            .join(Version, Version.id == VersionAsset.version_id)
            .where(VersionAsset.asset_id == asset_id, Version.version == "draft")
        )
    )


@job
def make_blob_public(archive: Archive, blob_id: str) -> None:
    """Lift the embargo mark of a blob's object once the blob is public (in an open
    Dandiset); the row says so already."""
    with archive.db.session() as session:
        blob = session.get(AssetBlob, uuid.UUID(blob_id))
        if blob is None or blob.embargoed:
            return
        key = blob.key
    archive.store.make_public(key)
