"""Background jobs of publishing: making the published version, writing manifests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dandi_archive.publishing import manifests, publish, withdraw
from dandi_archive.tasks.registry import job

if TYPE_CHECKING:
    from dandi_archive.instance import Archive


@job
def publish_draft(archive: Archive, version_id: int) -> None:
    publish.publish_draft(archive, version_id)


@job
def write_manifests(archive: Archive, version_id: int) -> None:
    manifests.write_manifests(archive, version_id)


@job
def write_withdrawal_tombstone(archive: Archive, version_id: int) -> None:
    withdraw.write_tombstone(archive, version_id)
