"""Background jobs that keep the archive sound: fixity batches, and the sweep that
re-queues work a crash or a lost message left undone; and their schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dandi_archive.db.models import (
    Asset,
    AssetBlob,
    AssetStatus,
    Dandiset,
    Doi,
    DoiState,
    EmbargoStatus,
    Version,
    VersionStatus,
    Zarr,
    ZarrStatus,
)
from dandi_archive.integrity import fixity, inventory
from dandi_archive.mail import outbox
from dandi_archive.standards import bids
from dandi_archive.tasks.registry import job
from dandi_archive.zarr import ingest as zarr_ingest

if TYPE_CHECKING:
    from dandi_archive.config import Settings
    from dandi_archive.instance import Archive


def periodic_jobs(settings: Settings) -> dict[str, tuple[float, dict[str, Any]]]:
    """Jobs run on a schedule: name -> (interval in seconds, keyword arguments)."""
    sweep_every = settings.sweep_interval_seconds
    inventory_every = settings.inventory_interval_seconds
    return {
        # Only work that waited long enough to be lost, not work still in a queue.
        "sweep": (sweep_every, {"min_age_seconds": 2 * sweep_every}),
        "check_fixity": (settings.fixity_interval_seconds, {}),
        # Warnings before an embargo ends, and lifting it on its end date (embargo/).
        "lift_ended_embargoes": (settings.embargo_check_interval_seconds, {}),
        # The bucket's own listing (S3 Inventory's format), unless turned off.
        **({"write_inventory": (inventory_every, {})} if inventory_every > 0 else {}),
    }


@job
def check_fixity(archive: Archive) -> None:
    fixity.run_batch(archive)


@job
def write_inventory(archive: Archive) -> None:
    inventory.write(archive.store, archive.settings)


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
        bids.requeue_stuck(archive, session, cutoff, restarted=restarted)
        for zarr_id in session.scalars(
            select(Zarr.id).where(Zarr.preserved.is_(False), Zarr.modified <= cutoff)
        ):
            archive.defer(session, "preserve_zarr", zarr_id=str(zarr_id))
        # Mails are due by their own clock (a retry's pause, a digest's window), not
        # by ``cutoff``; a job sending one holds it, so it is never sent twice.
        outbox.requeue_due(archive, session)
