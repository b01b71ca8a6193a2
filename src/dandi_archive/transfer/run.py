"""One transfer, start to end: claim the target, copy the rows, then the objects.

The target database records the transfer (``transfers``: which archive, how far), so
that running the command again after an interruption resumes it, while a target that
holds anything else is refused before a row is written.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import exists, select

from dandi_archive.db.models import Transfer, utcnow
from dandi_archive.db.session import Database
from dandi_archive.errors import Conflict
from dandi_archive.storage.folder import FolderStore
from dandi_archive.storage.s3 import S3Store
from dandi_archive.transfer import objects, rows
from dandi_archive.transfer.urls import UrlRewrite


@dataclass
class Source:
    """The embedded archive: its SQLite database and its folder store."""

    db: Database
    store: FolderStore
    identity: str  # source_identity(): the same for every run from this archive


@dataclass
class Target:
    db: Database
    store: S3Store


@dataclass
class Progress:
    """Hooks the command shows progress with (each may also stop the transfer)."""

    rows_started: Callable[[dict[str, int]], None] = lambda _counts: None
    rows: rows.RowProgress = lambda _table, _n: None
    objects_started: Callable[[int, int], None] = lambda _count, _size: None
    objects: objects.ObjectProgress = lambda _outcome: None


@dataclass
class TransferReport:
    rows: dict[str, rows.TableCount] = field(default_factory=dict)
    rows_already_copied: bool = False  # an earlier run copied every row
    objects: objects.ObjectCounts = field(default_factory=objects.ObjectCounts)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.objects.problems


def source_identity(signing_key: str) -> str:
    """A name for the source archive that its data does not reveal: a digest of the
    secret it was created with (kept in its data dir)."""
    return hashlib.sha256(b"dandi-archive transfer\0" + signing_key.encode()).hexdigest()[:32]


def transfer(
    source: Source,
    target: Target,
    *,
    tmp_dir: Path,
    jobs: int = 8,
    progress: Progress | None = None,
) -> TransferReport:
    """Copy every row and object (both databases migrated to the same head first)."""
    progress = progress or Progress()
    started = time.monotonic()
    report = TransferReport()
    rewrite = UrlRewrite(source.store.url_prefixes(), target.store.public_url(""))
    claim = claim_target(target, source.identity)
    if claim.rows_copied is None:
        progress.rows_started(rows.count_rows(source.db))
        report.rows = rows.copy_rows(source.db, target.db, rewrite, progress.rows)
        _mark(target.db, source.identity, rows_copied=True)
    else:
        report.rows_already_copied = True
    progress.objects_started(*objects.survey(source.store))
    with source.db.session() as session:
        report.objects = objects.copy_objects(
            source.store,
            target.store,
            session,
            rewrite,
            tmp_dir=tmp_dir,
            jobs=jobs,
            progress=progress.objects,
        )
    if report.complete:
        _mark(target.db, source.identity, finished=True)
    report.seconds = time.monotonic() - started
    return report


def claim_target(target: Target, identity: str) -> Transfer:
    """This archive's transfer record in the target: found (a resumed transfer) or
    made, which only an empty target (database and bucket) allows."""
    with target.db.session(write=True) as session:
        records = session.scalars(select(Transfer)).all()
        mine = next((r for r in records if r.source == identity), None)
        if mine is not None:
            return mine
        if records:
            raise Conflict(
                "The target database received a transfer from another archive; "
                "transfer into an empty database."
            )
        holding = [t.name for t in rows.tables() if session.scalar(select(exists().select_from(t)))]
        if holding:
            raise Conflict(
                f"The target database already holds data (tables {', '.join(holding[:5])}"
                f"{', ...' if len(holding) > 5 else ''}); transfer into an empty database "
                "(created, or only migrated)."
            )
        stored = next(target.store.list_keys(""), None)
        if stored is not None:
            raise Conflict(
                f"The bucket {target.store.bucket} already holds objects ({stored.key}, "
                "...); transfer into an empty bucket."
            )
        record = Transfer(source=identity)
        session.add(record)
    return record


def _mark(db: Database, identity: str, *, rows_copied: bool = False, finished: bool = False):
    with db.session(write=True) as session:
        record = session.get(Transfer, identity, with_for_update=True)
        assert record is not None  # claimed at the start
        if rows_copied:
            record.rows_copied = utcnow()
        if finished:
            record.finished = utcnow()
