"""Background jobs of the standards' checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dandi_archive.standards import nwb
from dandi_archive.tasks.registry import job

if TYPE_CHECKING:
    from dandi_archive.instance import Archive


@job
def inspect_nwb(archive: Archive, blob_id: str) -> None:
    """Run the NWB Inspector over an NWB blob (streamed, in a child process)."""
    nwb.run(archive, blob_id)
