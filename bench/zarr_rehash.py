"""Checksum of a large Zarr after a small change: incremental update vs full re-hash.

Builds a Zarr of ``--objects`` objects (NGFF-like nesting, 100 files per directory)
through the archive's own services (upload URLs recorded, objects written to the
store, finalize, ingest), changes ``--changed`` objects, then times

* the incremental update: finalize (storage checked for the changed paths only) and the
  ingest job (only the directories above them re-hashed);
* a full re-hash the way dandiarchive.org does it: list every object of the Zarr in the
  bucket and build the whole ``zarr_checksum`` tree;
* a full re-hash from the database rows (every directory re-hashed).

All three must give the same checksum.

    python bench/zarr_rehash.py [--objects 100000] [--changed 10] [--backend embedded]

``--backend postgres-s3`` uses PostgreSQL on 127.0.0.1:5432 and a moto S3 server.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, select, text
from zarr_checksum import compute_zarr_checksum
from zarr_checksum.generators import ZarrArchiveFile

from dandi_archive.accounts import users
from dandi_archive.archive import build_archive
from dandi_archive.config import Settings
from dandi_archive.dandisets import dandisets
from dandi_archive.db.migrate import upgrade
from dandi_archive.db.models import User, Zarr, ZarrDirectory, ZarrFile
from dandi_archive.testing import moto_server, s3_settings
from dandi_archive.zarr import ingest as zarr_ingest
from dandi_archive.zarr import tree as zarr_tree
from dandi_archive.zarr import zarrs

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


class NoJobs:
    """A job queue that runs nothing."""

    def submit(self, job: str, **kwargs: object) -> None:
        pass

    def depth(self) -> int | None:
        return 0

    def problem(self) -> str | None:
        return None

    def shutdown(self) -> None:
        pass


@contextmanager
def timed(label: str, results: dict[str, float]):
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start
    print(f"  {label:<46} {results[label]:9.3f} s")


def object_paths(count: int) -> list[str]:
    per_dir, dirs_per_level = 100, 100
    return [
        f"0/c/{i // (per_dir * dirs_per_level)}/{(i // per_dir) % dirs_per_level}/{i % per_dir}"
        for i in range(count)
    ]


def content(path: str, generation: int) -> bytes:
    return hashlib.sha256(f"{path}@{generation}".encode()).digest() * 4


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def write(archive, user_id: int, zarr_id: str, files: dict[str, bytes]) -> None:
    """What the client does: ask for upload URLs, then PUT the bytes (to the store)."""
    items = list(files.items())
    for i in range(0, len(items), zarrs.MAX_FILES_PER_REQUEST):
        batch = items[i : i + zarrs.MAX_FILES_PER_REQUEST]
        with archive.db.session(write=True) as session:
            user = session.get(User, user_id)
            body = [{"path": p, "base64md5": md5_b64(d)} for p, d in batch]
            zarrs.request_upload_urls(archive, session, user, zarr_id, body)
        for path, data in batch:
            archive.store.put_bytes(f"zarr/{zarr_id}/{path}", data, "application/octet-stream")


def finalize_and_ingest(archive, user_id: int, zarr_id: str, results: dict, label: str) -> str:
    with (
        timed(f"{label}: finalize (check storage)", results),
        archive.db.session(write=True) as session,
    ):
        zarrs.finalize(archive, session, session.get(User, user_id), zarr_id)
    with timed(f"{label}: ingest (apply, re-hash)", results):
        zarr_ingest.ingest(archive, uuid.UUID(zarr_id))
    with archive.db.session() as session:
        return session.get(Zarr, uuid.UUID(zarr_id)).checksum


def full_listing_checksum(archive, zarr_id: str) -> str:
    prefix = f"zarr/{zarr_id}/"
    files = (
        ZarrArchiveFile(path=Path(o.key.removeprefix(prefix)), size=o.size, digest=o.etag)
        for o in archive.store.list_keys(prefix)
    )
    return str(compute_zarr_checksum(files))


def full_database_checksum(archive, zarr_id: str) -> str:
    zid = uuid.UUID(zarr_id)
    with archive.db.session(write=True) as session:
        dirs = {""}
        for (path,) in session.execute(select(ZarrFile.path).where(ZarrFile.zarr_id == zid)):
            dirs.update(zarr_tree.folders_above(path))
        session.query(ZarrDirectory).filter_by(zarr_id=zid).delete()
        digest = str(zarr_tree.rehash(session, zid, dirs))
        session.rollback()  # measuring only
    return digest


def settings_for(backend: str, work: Path) -> tuple[Settings, Callable[[], None]]:
    """Settings of the backend, and how to clean it up afterwards."""
    if backend == "embedded":
        upgrade(f"sqlite:///{work / 'archive.sqlite3'}")
        return Settings(data_dir=work), lambda: None
    moto = contextlib.ExitStack()
    endpoint = moto.enter_context(moto_server())
    name = f"zarr_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(f"{PG}/{name}")
    settings = Settings(
        data_dir=work, database_url=f"{PG}/{name}", **s3_settings(endpoint, "zarr-bench")
    )

    def cleanup() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        moto.close()

    return settings, cleanup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--backend", choices=["embedded", "postgres-s3"], default="embedded")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zarr-checksum-bench-"))
    settings, cleanup = settings_for(args.backend, work)
    archive = build_archive(settings, run_jobs_in_process=True)
    archive.jobs.shutdown()
    archive.jobs = NoJobs()  # the bench runs the ingest itself, timed
    if settings.s3_bucket:
        archive.store.ensure_bucket()  # type: ignore[attr-defined]
    results: dict[str, float] = {}
    try:
        with archive.db.session(write=True) as session:
            user = users.create_user(session, "bench@example.org", name="Bench Mark", admin=True)
            dandiset = dandisets.create_dandiset(archive, session, user, "Bench", {}).dandiset
            zarr = zarrs.create_zarr(archive, session, user, "big.zarr", dandiset.identifier)
            user_id, zarr_id = user.id, str(zarr.id)
        paths = object_paths(args.objects)
        print(f"{args.backend}: {args.objects} objects, {args.changed} changed")
        with timed("write all objects (URLs + store)", results):
            write(archive, user_id, zarr_id, {p: content(p, 0) for p in paths})
        finalize_and_ingest(archive, user_id, zarr_id, results, "first upload")

        step = max(1, len(paths) // args.changed)
        changed = {p: content(p, 1) for p in paths[::step][: args.changed]}
        write(archive, user_id, zarr_id, changed)
        incremental = finalize_and_ingest(archive, user_id, zarr_id, results, "after change")
        with timed("full re-hash from a bucket listing (upstream)", results):
            listed = full_listing_checksum(archive, zarr_id)
        with timed("full re-hash from the database rows", results):
            from_rows = full_database_checksum(archive, zarr_id)
        assert incremental == listed == from_rows, (incremental, listed, from_rows)
        update = (
            results["after change: finalize (check storage)"]
            + results["after change: ingest (apply, re-hash)"]
        )
        print(f"  checksum {incremental}")
        print(
            f"  incremental update {update:.3f} s: "
            f"{results['full re-hash from a bucket listing (upstream)'] / update:.0f}x faster "
            "than a full re-hash from the listing, "
            f"{results['full re-hash from the database rows'] / update:.0f}x faster than "
            "from the rows"
        )
    finally:
        archive.close()
        cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
