"""The background job that looks at each new blob once, to recognise container images."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from dandi_archive.containers.inspect import inspect_object
from dandi_archive.containers.reader import StoreUnreadable
from dandi_archive.db.models import Asset, AssetBlob, AssetStatus
from dandi_archive.tasks.registry import job

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)


@job
def inspect_container(archive: Archive, blob_id: str) -> None:
    """Read what a blob is (streamed by ranges, bounded in time) and record it; if it is
    a container image, validate its assets again, which brings their metadata and their
    drafts' software links up to date."""
    bid = uuid.UUID(blob_id)
    with archive.db.session() as session:
        blob = session.get(AssetBlob, bid)
        if blob is None or blob.container is not None:
            return
        key, size = blob.key, blob.size
    seconds = archive.settings.container_inspect_seconds
    try:
        result = inspect_object(archive.store, key, size, seconds)
    except StoreUnreadable:
        if archive.store.head(key) is not None:
            raise  # the store failed: the job fails, to be run again
        log.info("blob %s is gone from the store", blob_id)
        return
    except Exception:
        # A file no reader foresaw: recorded as unreadable rather than retried forever.
        log.exception("container inspection of blob %s failed", blob_id)
        result = {"content": "unknown", "problem": "it could not be read"}
    with archive.db.session(write=True) as session:
        recorded = session.execute(
            update(AssetBlob)
            .where(AssetBlob.id == bid, AssetBlob.container.is_(None))
            .values(container=result)
        ).rowcount
        if not recorded or "image" not in result:
            return
        asset_ids = list(session.scalars(select(Asset.id).where(Asset.blob_id == bid)))
        session.execute(
            update(Asset)
            .where(Asset.id.in_(asset_ids), Asset.status != AssetStatus.PENDING)
            .values(status=AssetStatus.PENDING, validation_errors=[])
            .execution_options(synchronize_session=False)
        )
        for asset_id in asset_ids:
            archive.defer(session, "validate_asset", asset_id=str(asset_id))
