"""Fixity: stored bytes are re-hashed on a cycle, so silent corruption is found.

Each run checks a batch of the blobs checked longest ago (never-checked ones first)
against their recorded size and SHA-256, and records when and with what result. A
blob that fails is reported to admins (``GET /api/admin/fixity/``) and in the log, and
is no longer served for download.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dandi_archive.db.models import Asset, AssetBlob, Dandiset, Version, VersionAsset
from dandi_archive.storage.hashing import sha256_of_object

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)


def check_blob(archive: Archive, key: str, size: int, sha256: str) -> str | None:
    """None if the stored object has the recorded size and digest, else what is wrong."""
    try:
        info = archive.store.head(key)
        if info is None:
            return "the object is missing from storage"
        if info.size != size:
            return f"the object has {info.size} bytes instead of {size}"
        stored = sha256_of_object(archive.store, key)
    except OSError as exc:
        return f"the object cannot be read: {exc}"
    if stored != sha256:
        return f"the SHA-256 is {stored} instead of {sha256}"
    return None


def run_batch(archive: Archive, now: datetime | None = None) -> int:
    """Check the blobs most overdue for a check; return how many were checked."""
    now = now or datetime.now(UTC)
    due_before = now - timedelta(days=archive.settings.fixity_cycle_days)
    with archive.db.session() as session:
        due = session.execute(
            select(AssetBlob.id, AssetBlob.key, AssetBlob.size, AssetBlob.sha256)
            .where(
                AssetBlob.sha256.is_not(None),
                or_(AssetBlob.fixity_checked.is_(None), AssetBlob.fixity_checked < due_before),
            )
            .order_by(AssetBlob.fixity_checked.is_not(None), AssetBlob.fixity_checked)
            .limit(archive.settings.fixity_batch_size)
        ).all()
    for blob_id, key, size, sha256 in due:
        problem = check_blob(archive, key, size, sha256)
        if problem:
            log.error("fixity check failed for blob %s (%s): %s", blob_id, key, problem)
        with archive.db.session(write=True) as session:
            blob = session.get(AssetBlob, blob_id)
            if blob is not None:
                blob.fixity_checked = datetime.now(UTC)
                blob.fixity_ok = problem is None
                blob.fixity_message = problem
    return len(due)


def report(session: Session, cycle_days: float) -> dict[str, Any]:
    """Counts, and every blob whose last check failed with the assets that use it."""
    now = datetime.now(UTC)
    total = session.scalar(select(func.count()).select_from(AssetBlob)) or 0
    current = session.scalar(
        select(func.count())
        .select_from(AssetBlob)
        .where(AssetBlob.fixity_checked >= now - timedelta(days=cycle_days))
    )
    failed = session.scalars(select(AssetBlob).where(AssetBlob.fixity_ok.is_(False)))
    return {
        "cycle_days": cycle_days,
        "blobs": total,
        "checked_this_cycle": current or 0,
        "failures": [
            {
                "blob_id": str(blob.id),
                "key": blob.key,
                "size": blob.size,
                "checked": blob.fixity_checked,
                "problem": blob.fixity_message,
                "assets": _uses(session, blob),
            }
            for blob in failed
        ],
    }


def _uses(session: Session, blob: AssetBlob) -> list[dict[str, str]]:
    rows = session.execute(
        select(Dandiset.id, Version.version, VersionAsset.path)
        .join(Version, Version.dandiset_id == Dandiset.id)
        .join(VersionAsset, VersionAsset.version_id == Version.id)
        .join(Asset, Asset.id == VersionAsset.asset_id)
        .where(Asset.blob_id == blob.id)
        .order_by(Dandiset.id, Version.version)
    )
    return [{"dandiset": f"{d:06d}", "version": v, "path": p} for d, v, p in rows]
