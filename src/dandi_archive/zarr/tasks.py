"""Background jobs of Zarrs: ingesting a finalized upload, preserving a frozen copy,
removing a deleted Zarr's objects."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from dandi_archive.tasks.registry import job
from dandi_archive.zarr import freeze as zarr_freeze
from dandi_archive.zarr import ingest as zarr_ingest
from dandi_archive.zarr import zarrs

if TYPE_CHECKING:
    from dandi_archive.instance import Archive


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
