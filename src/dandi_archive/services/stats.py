"""Figures for the home page, from the per-version folder totals (no asset scans)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.models import Dandiset, EmbargoStatus, Folder, User, UserStatus, Version


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
