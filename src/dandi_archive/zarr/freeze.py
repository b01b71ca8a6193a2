"""Freezing a Zarr for a published version.

The dandi client keeps writing an updated Zarr into the same Zarr id, so a published
version gets a *frozen* Zarr of its own (see README, "Publishing Zarrs"):

* :func:`freeze` (inside the publish transaction) adds a ``zarrs`` row that names the
  live Zarr in ``frozen_from`` and copies the live Zarr's file and directory rows with
  two ``INSERT … SELECT`` statements; the checksum needs no recomputation. A live Zarr
  unchanged since its last freeze reuses that frozen Zarr.
* :func:`preserve` (a job after commit) copies, inside the bucket, each object whose
  MD5 has no frozen copy yet to ``zarr-content/{live id}/{md5}``: identical chunks are
  stored once, and a later version copies only what changed. The copy is conditional on
  the ingested MD5, so only the bytes the checksum describes are frozen. It then writes
  a manifest in fsspec's reference format, so the frozen tree reads from the bucket
  alone. Until it is done the live Zarr refuses changes (423).

A frozen Zarr never changes: uploads, deletions and finalize answer 400. Its listing
comes from its rows and downloads redirect to the frozen copies.
"""

from __future__ import annotations

import json
import logging
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Uuid, exists, func, insert, literal, select
from sqlalchemy.orm import Session

from dandi_archive.db.models import Zarr, ZarrContent, ZarrDirectory, ZarrFile, ZarrStatus
from dandi_archive.db.upsert import dialect_insert
from dandi_archive.errors import Conflict
from dandi_archive.storage.base import content_key, manifest_key

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)

COPY_THREADS = 16
BATCH = 1000


def freeze(archive: Archive, session: Session, live: Zarr) -> Zarr:
    """The frozen Zarr holding ``live``'s current content (rows now, bytes by a job)."""
    if live.is_frozen:
        return live
    live = session.get(Zarr, live.id, with_for_update=True) or live
    if live.status != ZarrStatus.COMPLETE:
        raise Conflict(
            f"Zarr {live.name!r} is {live.status.value}: finish its upload (finalize) and "
            "wait until it is Complete before publishing."
        )
    same = session.scalar(
        select(Zarr).where(Zarr.frozen_from == live.id, Zarr.checksum == live.checksum)
    )
    if same is not None:
        return same
    now = datetime.now(UTC)
    frozen = Zarr(
        dandiset_id=live.dandiset_id,
        name=live.name,
        status=ZarrStatus.COMPLETE,
        checksum=live.checksum,
        file_count=live.file_count,
        size=live.size,
        ngff=live.ngff,
        frozen_from=live.id,
        preserved=False,
        created=now,
        modified=now,
    )
    session.add(frozen)
    session.flush()
    _copy_rows(session, live.id, frozen.id)
    archive.defer(session, "preserve_zarr", zarr_id=str(frozen.id))
    return frozen


def _copy_rows(session: Session, live_id: uuid.UUID, frozen_id: uuid.UUID) -> None:
    new_id = literal(frozen_id, Uuid)
    session.execute(
        insert(ZarrFile).from_select(
            ["zarr_id", "path", "directory", "size", "md5", "modified"],
            select(
                new_id,
                ZarrFile.path,
                ZarrFile.directory,
                ZarrFile.size,
                ZarrFile.md5,
                ZarrFile.modified,
            ).where(ZarrFile.zarr_id == live_id),
        )
    )
    session.execute(
        insert(ZarrDirectory).from_select(
            ["zarr_id", "path", "parent", "digest", "file_count", "size"],
            select(
                new_id,
                ZarrDirectory.path,
                ZarrDirectory.parent,
                ZarrDirectory.digest,
                ZarrDirectory.file_count,
                ZarrDirectory.size,
            ).where(ZarrDirectory.zarr_id == live_id),
        )
    )


def preserve(archive: Archive, frozen_id: uuid.UUID) -> None:
    """Copy the frozen Zarr's objects that have no frozen copy yet, then its manifest."""
    with archive.db.session() as session:
        frozen = session.get(Zarr, frozen_id)
        if frozen is None or frozen.preserved or frozen.frozen_from is None:
            return
        live_id = frozen.frozen_from
        missing = session.execute(
            select(ZarrFile.md5, func.min(ZarrFile.path), func.min(ZarrFile.size))
            .where(
                ZarrFile.zarr_id == frozen_id,
                ~exists().where(ZarrContent.zarr_id == live_id, ZarrContent.md5 == ZarrFile.md5),
            )
            .group_by(ZarrFile.md5)
        ).all()

    def copy(row: tuple[str, str, int]) -> bool:
        md5, path, _ = row
        source = f"zarr/{live_id}/{path}"
        return archive.store.copy(source, content_key(live_id, md5), if_etag=md5)

    with ThreadPoolExecutor(COPY_THREADS) as pool:
        results = list(pool.map(copy, missing))
    copied = [row for row, ok in zip(missing, results, strict=True) if ok]
    failed = [row[1] for row, ok in zip(missing, results, strict=True) if not ok]
    with archive.db.session(write=True) as session:
        for i in range(0, len(copied), BATCH):
            rows = [{"zarr_id": live_id, "md5": m, "size": n} for m, _, n in copied[i : i + BATCH]]
            statement = dialect_insert(session, ZarrContent).values(rows)
            session.execute(statement.on_conflict_do_nothing())
    if failed:
        # Only a stale upload URL replayed after the ingest can cause this.
        log.error(
            "zarr %s: %d objects changed before being frozen: %s", frozen_id, len(failed), failed
        )
        return
    _write_manifest(archive, frozen_id, live_id)
    with archive.db.session(write=True) as session:
        frozen = session.get(Zarr, frozen_id, with_for_update=True)
        if frozen is not None:
            frozen.preserved = True
    log.info("zarr %s frozen: %d new objects copied", frozen_id, len(copied))


def _write_manifest(archive: Archive, frozen_id: uuid.UUID, live_id: uuid.UUID) -> None:
    """fsspec's reference format: ``zarr.open_group(fsspec.get_mapper("reference://",
    fo=URL))`` reads the frozen tree with nothing but the bucket."""
    with tempfile.NamedTemporaryFile(
        "w", suffix=".json", dir=archive.settings.data_dir, delete=False
    ) as out:
        out.write('{"version": 1, "refs": {')
        with archive.db.session() as session:
            rows = session.execute(
                select(ZarrFile.path, ZarrFile.md5)
                .where(ZarrFile.zarr_id == frozen_id)
                .order_by(ZarrFile.path)
                .execution_options(yield_per=BATCH)
            )
            for n, (path, md5) in enumerate(rows):
                url = archive.store.public_url(content_key(live_id, md5))
                out.write(("," if n else "") + json.dumps(path) + ":" + json.dumps([url]))
        out.write("}}")
    path = Path(out.name)
    try:
        archive.store.put_file(manifest_key(frozen_id), path, "application/json")
    finally:
        path.unlink(missing_ok=True)


def live_zarr_locked(session: Session, live_id: uuid.UUID) -> bool:
    """Whether a freeze of this live Zarr still needs its objects as they are."""
    return (
        session.scalar(
            select(Zarr.id).where(Zarr.frozen_from == live_id, Zarr.preserved.is_(False)).limit(1)
        )
        is not None
    )


def frozen_object_key(session: Session, frozen: Zarr, path: str) -> str | None:
    """Where a frozen Zarr's file is stored (None if it has no such file)."""
    md5 = session.scalar(
        select(ZarrFile.md5).where(ZarrFile.zarr_id == frozen.id, ZarrFile.path == path)
    )
    if md5 is None or frozen.frozen_from is None:
        return None
    if not frozen.preserved:  # the live object is still exactly this (changes wait)
        return f"zarr/{frozen.frozen_from}/{path}"
    return content_key(frozen.frozen_from, md5)
