"""Figures for the home page, from the per-version folder totals (no asset scans), the
archive-wide figures of ``/api/stats/`` (download counts: :mod:`.downloads`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Exists, exists, func, select
from sqlalchemy.orm import Session

from dandi_archive.db.models import (
    Asset,
    AssetBlob,
    Dandiset,
    EmbargoStatus,
    Folder,
    User,
    UserStatus,
    Version,
    VersionAsset,
    Zarr,
)


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


@dataclass
class ApplicationStats:
    """``/api/stats/`` as upstream's ``ApplicationStats``."""

    dandiset_count: int
    published_dandiset_count: int
    user_count: int
    size: int


def application_stats(session: Session) -> ApplicationStats:
    """Upstream's figures: every Dandiset (embargoed ones too, only counted), those with
    a published version, approved users, and the bytes of every distinct blob and Zarr
    that some version holds (embargoed included). Upstream recomputes them every six
    hours; here they are a few aggregate queries, so they are always current."""
    return ApplicationStats(
        dandiset_count=session.scalar(select(func.count()).select_from(Dandiset)) or 0,
        published_dandiset_count=session.scalar(
            select(func.count(func.distinct(Version.dandiset_id))).where(
                Version.version != "draft", Version.withdrawn.is_(None)
            )
        )
        or 0,
        user_count=session.scalar(
            select(func.count()).select_from(User).where(User.status == UserStatus.APPROVED)
        )
        or 0,
        size=_blob_bytes(session) + _zarr_bytes(session),
    )


def _in_a_version() -> Exists:
    return exists().where(VersionAsset.asset_id == Asset.id)


def _blob_bytes(session: Session) -> int:
    """Each blob once, however many assets and versions share it."""
    held = exists().where(Asset.blob_id == AssetBlob.id, _in_a_version())
    return int(session.scalar(select(func.coalesce(func.sum(AssetBlob.size), 0)).where(held)))


def _zarr_bytes(session: Session) -> int:
    """Each Zarr once, at its live size, as upstream (where a published version shares
    the live Zarr): a frozen copy of a published version counts as the Zarr it froze."""
    shown = (
        select(func.coalesce(Zarr.frozen_from, Zarr.id))
        .join(Asset, Asset.zarr_id == Zarr.id)
        .where(_in_a_version())
    )
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Zarr.size), 0)).where(
                Zarr.frozen_from.is_(None), Zarr.id.in_(shown)
            )
        )
    )
