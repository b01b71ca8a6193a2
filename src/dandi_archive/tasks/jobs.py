"""The background jobs. Each takes the archive and JSON-friendly keyword arguments,
opens its own short transactions, and does nothing if its work is already done."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

from dandi_archive.assets.assets import dandisets_of_asset
from dandi_archive.dandisets import dois, summary
from dandi_archive.dandisets import metadata as md
from dandi_archive.db.locking import is_transient
from dandi_archive.db.models import (
    Asset,
    AssetBlob,
    AssetStatus,
    Dandiset,
    Doi,
    DoiState,
    EmbargoStatus,
    Version,
    VersionAsset,
    VersionStatus,
    Zarr,
    ZarrStatus,
)
from dandi_archive.embargo import lifting as embargo
from dandi_archive.integrity import fixity
from dandi_archive.publishing import manifests, publish
from dandi_archive.zarr import freeze as zarr_freeze
from dandi_archive.zarr import ingest as zarr_ingest
from dandi_archive.zarr import zarrs

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.archive import Archive
    from dandi_archive.config import Settings

log = logging.getLogger(__name__)

JOBS: dict[str, Callable[..., None]] = {}


def job(fn: Callable[..., None]) -> Callable[..., None]:
    JOBS[fn.__name__] = fn
    return fn


# A job that lost a lock conflict was rolled back whole; being idempotent, it is simply
# run again, after a randomised pause so that the two contenders do not meet again.
_retry_transient = retry(
    retry=retry_if_exception(is_transient),
    wait=wait_random_exponential(multiplier=0.05, max=2),
    stop=stop_after_attempt(6),
    reraise=True,
    before_sleep=lambda state: log.info(
        "job retried after a lock conflict (attempt %d)", state.attempt_number
    ),
)


def run_job(archive: Archive, name: str, kwargs: dict[str, Any]) -> None:
    _retry_transient(JOBS[name])(archive, **kwargs)


def periodic_jobs(settings: Settings) -> dict[str, tuple[float, dict[str, Any]]]:
    """Jobs run on a schedule: name -> (interval in seconds, keyword arguments)."""
    sweep_every = settings.sweep_interval_seconds
    return {
        # Only work that waited long enough to be lost, not work still in a queue.
        "sweep": (sweep_every, {"min_age_seconds": 2 * sweep_every}),
        "check_fixity": (settings.fixity_interval_seconds, {}),
    }


@job
def compute_sha256(archive: Archive, blob_id: str) -> None:
    """Hash a stored blob (streamed), then validate the assets that waited for it."""
    with archive.db.session() as session:
        blob = session.get(AssetBlob, uuid.UUID(blob_id))
        if blob is None or blob.sha256:
            return
        key = blob.key
    digest = hashlib.sha256()
    for chunk in archive.store.iter_bytes(key):
        digest.update(chunk)
    with archive.db.session(write=True) as session:
        session.execute(
            update(AssetBlob)
            .where(AssetBlob.id == uuid.UUID(blob_id), AssetBlob.sha256.is_(None))
            .values(sha256=digest.hexdigest())
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


# Draft states in which a newly validated asset needs no new summary run.
_SUMMARY_SETTLED = (VersionStatus.PENDING, VersionStatus.PUBLISHING, VersionStatus.PUBLISHED)


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
        asset.status = AssetStatus.INVALID if errors else AssetStatus.VALID
        asset.validation_errors = errors
        # Only valid assets count in the assetsSummary, so the draft's must be redone.
        for draft in drafts:
            # A Pending draft has its run queued already, which will see this asset: so
            # an upload of many files costs a few summaries, not one per file.
            if draft is None or draft.status in _SUMMARY_SETTLED:
                continue
            # A new revision, so a validation already under way drops its result.
            draft.status = VersionStatus.PENDING
            draft.revision += 1
            archive.defer(session, "validate_version", version_id=draft.id)


def _drafts_holding(session: Session, asset_id: uuid.UUID) -> list[int]:
    return sorted(
        session.scalars(
            select(VersionAsset.version_id)
            .join(Version, Version.id == VersionAsset.version_id)
            .where(VersionAsset.asset_id == asset_id, Version.version == "draft")
        )
    )


@job
def validate_version(archive: Archive, version_id: int) -> None:
    """Pending -> Validating -> Valid/Invalid for a draft's own metadata, with the
    assetsSummary of its valid assets.

    The verdict is recorded only if nothing changed while it was reached: an edit or a
    newly validated asset sets the draft back to Pending and queues another run.
    """
    with archive.db.session(write=True) as session:
        version = session.get(Version, version_id, with_for_update=True)
        if version is None or not version.is_draft or version.status != VersionStatus.PENDING:
            return
        version.status = VersionStatus.VALIDATING
        revision, metadata = version.revision, dict(version.metadata_)
    errors = md.validate_version_metadata(metadata)
    with archive.db.session() as session:
        version = session.get(Version, version_id)
        assets_summary = summary.summarize(session, version) if version else None
    with archive.db.session(write=True) as session:
        version = session.get(Version, version_id, with_for_update=True)
        if (
            version is None
            or version.status != VersionStatus.VALIDATING
            or version.revision != revision
        ):
            return
        version.metadata_ = {**version.metadata_, "assetsSummary": assets_summary}
        version.status = VersionStatus.INVALID if errors else VersionStatus.VALID
        version.validation_errors = errors
        archive.defer(session, "write_manifests", version_id=version_id)


@job
def publish_draft(archive: Archive, version_id: int) -> None:
    publish.publish_draft(archive, version_id)


@job
def write_manifests(archive: Archive, version_id: int) -> None:
    manifests.write_manifests(archive, version_id)


@job
def register_dois(archive: Archive, dandiset_id: int) -> None:
    dois.register(archive, dandiset_id)


@job
def unembargo(archive: Archive, dandiset_id: int) -> None:
    embargo.unembargo(archive, dandiset_id)


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


@job
def check_fixity(archive: Archive) -> None:
    fixity.run_batch(archive)


@job
def ingest_zarr(archive: Archive, zarr_id: str) -> None:
    """Apply a finalized Zarr's changes and update its checksum (see dandi_archive.zarr.zarrs)."""
    zarr_ingest.ingest(archive, uuid.UUID(zarr_id))


@job
def preserve_zarr(archive: Archive, zarr_id: str) -> None:
    """Copy a frozen Zarr's objects to their content keys and write its manifest."""
    zarr_freeze.preserve(archive, uuid.UUID(zarr_id))


@job
def delete_zarr_objects(archive: Archive, zarr_id: str) -> None:
    """Remove a deleted Zarr's objects from the bucket."""
    zarrs.delete_objects(archive, zarr_id)


@job
def sweep(archive: Archive, min_age_seconds: float = 0, restarted: bool = False) -> None:
    """Re-queue work that a crash or a lost message left undone.

    ``restarted``: the process that ran this archive's in-process jobs died, so an
    ingest it had under way is lost now, not after the hour a live worker may take.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=min_age_seconds)
    with archive.db.session(write=True) as session:
        stuck = session.scalars(
            select(Version).where(
                Version.status == VersionStatus.VALIDATING, Version.modified <= cutoff
            )
        )
        for version in stuck:
            version.status = VersionStatus.PENDING
        for version_id in session.scalars(
            select(Version.id).where(
                Version.status == VersionStatus.PENDING, Version.modified <= cutoff
            )
        ):
            archive.defer(session, "validate_version", version_id=version_id)
        for blob_id in session.scalars(
            select(AssetBlob.id).where(AssetBlob.sha256.is_(None), AssetBlob.created <= cutoff)
        ):
            archive.defer(session, "compute_sha256", blob_id=str(blob_id))
        for dandiset_id in session.scalars(
            select(Dandiset.id).where(
                Dandiset.embargo_status == EmbargoStatus.UNEMBARGOING, Dandiset.modified <= cutoff
            )
        ):
            archive.defer(session, "unembargo", dandiset_id=dandiset_id)
        for version_id in session.scalars(
            select(Version.id).where(
                Version.status == VersionStatus.PUBLISHING, Version.modified <= cutoff
            )
        ):
            archive.defer(session, "publish_draft", version_id=version_id)
        for version_id in session.scalars(
            select(Version.id)
            .join(Dandiset, Dandiset.id == Version.dandiset_id)
            .where(
                Dandiset.embargo_status == EmbargoStatus.OPEN,
                Version.status.in_(
                    [VersionStatus.VALID, VersionStatus.INVALID, VersionStatus.PUBLISHED]
                ),
                Version.manifests_revision.is_distinct_from(Version.revision),
                Version.modified <= cutoff,
            )
        ):
            archive.defer(session, "write_manifests", version_id=version_id)
        for dandiset_id in session.scalars(
            select(Doi.dandiset_id)
            .where(Doi.state.in_([DoiState.PENDING, DoiState.FAILED]), Doi.updated <= cutoff)
            .distinct()
        ):
            archive.defer(session, "register_dois", dandiset_id=dandiset_id)
        for asset_id in session.scalars(
            select(Asset.id)
            .join(AssetBlob, AssetBlob.id == Asset.blob_id)
            .where(
                Asset.status == AssetStatus.PENDING,
                AssetBlob.sha256.is_not(None),
                Asset.modified <= cutoff,
            )
        ):
            archive.defer(session, "validate_asset", asset_id=str(asset_id))
        for asset_id in session.scalars(
            select(Asset.id)
            .join(Zarr, Zarr.id == Asset.zarr_id)
            .where(
                Asset.status == AssetStatus.PENDING,
                Zarr.status == ZarrStatus.COMPLETE,
                Asset.modified <= cutoff,
            )
        ):
            archive.defer(session, "validate_asset", asset_id=str(asset_id))
        zarr_ingest.requeue_stuck(archive, session, cutoff, restarted=restarted)
        for zarr_id in session.scalars(
            select(Zarr.id).where(Zarr.preserved.is_(False), Zarr.modified <= cutoff)
        ):
            archive.defer(session, "preserve_zarr", zarr_id=str(zarr_id))
