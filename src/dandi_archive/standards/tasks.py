"""Background jobs of the standards' checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dandi_archive.standards import bids, nwb
from dandi_archive.tasks.registry import job

if TYPE_CHECKING:
    from dandi_archive.instance import Archive


@job
def check_bids(archive: Archive, version_id: int, root: str) -> None:
    """Run the BIDS validator over the dataset at ``root`` of a draft (coalesced)."""
    bids.run_check(archive, version_id, root)


@job
def inspect_nwb(archive: Archive, blob_id: str) -> None:
    """Run the NWB Inspector over an NWB blob (streamed, in a child process)."""
    nwb.run(archive, blob_id)
