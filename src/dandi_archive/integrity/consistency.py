"""Does the archive hold together? Checks an operator (``dandi-archive check``) and the
race tests run after concurrent changes.

Each check is one query (or one pass over the bucket) and names what is wrong, so a
problem found in production points at the rows to look at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from dandi_archive.db.models import (
    Asset,
    AssetBlob,
    Folder,
    Version,
    VersionAsset,
    VersionStatus,
)
from dandi_archive.paths import ancestors

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.instance import Archive

# States a version may only pass through while a job works on it.
IN_PROGRESS = (VersionStatus.VALIDATING, VersionStatus.PUBLISHING)


def check(archive: Archive, *, objects: bool = True, settled: bool = False) -> list[str]:
    """Every problem found, as sentences; empty when all holds.

    ``objects`` also asks the bucket for every blob's object (one request per blob).
    ``settled`` says no job is running, so no version may be half-way through one.
    """
    with archive.db.session() as session:
        problems = _orphan_assets(session) + _folder_totals(session)
        if settled:
            problems += _versions_in_progress(session)
        blobs = session.execute(select(AssetBlob.key, AssetBlob.size)).all()
    if objects:
        problems += _missing_objects(archive, blobs)
    return problems


def _orphan_assets(session: Session) -> list[str]:
    orphans = session.scalars(
        select(Asset.id).where(
            ~select(VersionAsset.asset_id).where(VersionAsset.asset_id == Asset.id).exists()
        )
    ).all()
    return [f"asset {a} belongs to no version" for a in orphans]


def _folder_totals(session: Session) -> list[str]:
    """Folder rows say exactly what their versions' assets add up to."""
    expected: dict[tuple[int, str], list[int]] = {}
    rows = session.execute(
        select(VersionAsset.version_id, VersionAsset.path, Asset.blob_id, AssetBlob.size)
        .join(Asset, Asset.id == VersionAsset.asset_id)
        .outerjoin(AssetBlob, AssetBlob.id == Asset.blob_id)
    )
    zarr_versions: set[int] = set()
    for version_id, path, blob_id, size in rows:
        if blob_id is None:
            zarr_versions.add(version_id)  # Zarr sizes move with ingests; count files only
        for folder in ancestors(path):
            totals = expected.setdefault((version_id, folder), [0, 0])
            totals[0] += 1
            totals[1] += size or 0
    problems = []
    stored = {
        (f.version_id, f.path): (f.file_count, f.total_size)
        for f in session.scalars(select(Folder).where(Folder.file_count > 0))
    }
    for key in expected.keys() | stored.keys():
        want = expected.get(key, [0, 0])
        have = stored.get(key, (0, 0))
        if want[0] != have[0] or (key[0] not in zarr_versions and want[1] != have[1]):
            problems.append(
                f"folder {key[1]!r} of version {key[0]}: {have[0]} files, {have[1]} bytes "
                f"recorded, {want[0]} files, {want[1]} bytes held"
            )
    return problems


def _versions_in_progress(session: Session) -> list[str]:
    stuck = session.execute(
        select(Version.dandiset_id, Version.version, Version.status).where(
            Version.status.in_(IN_PROGRESS)
        )
    ).all()
    return [f"version {d:06d}/{v} is stuck in {s.value}" for d, v, s in stuck]


def _missing_objects(archive: Archive, blobs: list[tuple[str, int]]) -> list[str]:
    problems = []
    for key, size in blobs:
        info = archive.store.head(key)
        if info is None:
            problems.append(f"blob object {key} is missing from the bucket")
        elif info.size != size:
            problems.append(f"blob object {key} has {info.size} bytes, not {size}")
    return problems
