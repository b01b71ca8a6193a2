"""Figures for the home page, from the per-version folder totals (no asset scans), and
the download counts behind its "most downloaded" list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dandi_archive.db.models import Dandiset, EmbargoStatus, Folder, User, UserStatus, Version

if TYPE_CHECKING:
    from dandi_archive.instance import Archive


@dataclass
class ArchiveStats:
    dandisets: int
    files: int
    bytes: int
    users: int


def archive_stats(session: Session) -> ArchiveStats:
    """Open Dandisets and the files and bytes of their drafts; approved users."""
    dandisets = (
        session.scalar(
            select(func.count())
            .select_from(Dandiset)
            .where(Dandiset.embargo_status == EmbargoStatus.OPEN)
        )
        or 0
    )
    files, size = session.execute(
        select(
            func.coalesce(func.sum(Folder.file_count), 0),
            func.coalesce(func.sum(Folder.total_size), 0),
        )
        .join(Version, Version.id == Folder.version_id)
        .join(Dandiset, Dandiset.id == Version.dandiset_id)
        .where(
            Folder.path == "",
            Version.version == "draft",
            Dandiset.embargo_status == EmbargoStatus.OPEN,
        )
    ).one()
    users = (
        session.scalar(
            select(func.count()).select_from(User).where(User.status == UserStatus.APPROVED)
        )
        or 0
    )
    return ArchiveStats(dandisets=dandisets, files=int(files), bytes=int(size), users=users)


def count_download(archive: Archive, dandiset_ids: Iterable[int]) -> None:
    """One more download for each of these Dandisets, in a transaction of its own (the
    request's own is a read)."""
    ids = sorted(set(dandiset_ids))
    if not ids:
        return
    with archive.db.session(write=True) as session:
        session.execute(
            update(Dandiset)
            .where(Dandiset.id.in_(ids))
            # A download changes nothing in the Dandiset: keep its modification time.
            .values(download_count=Dandiset.download_count + 1, modified=Dandiset.modified)
        )
