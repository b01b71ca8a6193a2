"""Who may learn of a stored blob and use it in an asset: the one rule, written once.

Deduplication must never hand embargoed content to someone who cannot read it. A blob
that is not embargoed is public: its bytes are, or may become, part of an open
Dandiset. An embargoed blob may be found by its digest, and added to an asset, only by
an administrator or an approved owner of a Dandiset that holds it in an asset or into
which its bytes were uploaded (:class:`~dandi_archive.db.models.BlobGrant`). Everyone
else is told it does not exist, and uploads the bytes themselves.
"""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import is_active
from dandi_archive.db.models import (
    Asset,
    AssetBlob,
    BlobGrant,
    DandisetOwner,
    User,
    Version,
    VersionAsset,
)
from dandi_archive.db.upsert import dialect_insert


def may_use(session: Session, blob: AssetBlob, user: User | None) -> bool:
    if not blob.embargoed:
        return True
    if user is None or not is_active(user) or not user.is_approved:
        return False
    if user.is_admin:
        return True
    owned = select(DandisetOwner.dandiset_id).where(DandisetOwner.user_id == user.id)
    granted = exists().where(BlobGrant.blob_id == blob.id, BlobGrant.dandiset_id.in_(owned))
    held = exists().where(
        Asset.blob_id == blob.id,
        VersionAsset.asset_id == Asset.id,
        Version.id == VersionAsset.version_id,
        Version.dandiset_id.in_(owned),
    )
    return bool(session.scalar(select(granted | held)))


def grant(session: Session, blob_id: uuid.UUID, dandiset_id: int) -> None:
    """Record that the blob's bytes were uploaded into this Dandiset (idempotent, also
    when two uploads of the same bytes into one Dandiset finish at once)."""
    session.execute(
        dialect_insert(session, BlobGrant)
        .values(blob_id=blob_id, dandiset_id=dandiset_id)
        .on_conflict_do_nothing()
    )
