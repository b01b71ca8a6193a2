"""``dandi-archive backup DEST`` and ``restore SRC`` for the embedded archive.

A backup is a folder::

    archive.sqlite3   the database, by SQLite's online backup: one consistent snapshot
                      taken while the server writes (WAL readers do not block writers)
    secret_key        the instance's secret (signed URLs, cookies), if kept in the data dir
    bucket/...        every object of the bucket folder
    files.jsonl       one line per file above: path, size, SHA-256, mtime, xattrs
    backup.json       written last: the format, the schema revision, the SHA-256 of
                      files.jsonl; a folder without it is an unfinished backup

The database is copied first, then the bucket: objects are written once and only added,
so every object the snapshot names is still there when the bucket is copied. Manifests
(``dandisets/``) are copied before the blobs and Zarrs for the same reason. Each copy is
read back and its SHA-256 compared. Both commands build their result in a hidden
sibling folder and rename it into place at the end: an interrupted or refused run leaves
the destination as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from dandi_archive.backup.files import copy_file, sha256_of, write_xattrs

FORMAT = 1
DATABASE = "archive.sqlite3"
SECRET_KEY = "secret_key"
BUCKET = "bucket"
MANIFEST = "files.jsonl"
META = "backup.json"
# Copied first (see the module's docstring); the rest of the bucket follows in order.
FIRST = "dandisets"

Progress = Callable[[int], None]  # bytes copied


class BackupRefused(Exception):
    """Nothing was changed; the message says why, in words for the operator."""


@dataclass
class Report:
    files: int = 0
    bytes: int = 0
    vanished: list[str] = field(default_factory=list)  # deleted while being backed up
    schema: str | None = None
    secret_key: bool = False


# -- shared ------------------------------------------------------------------------------


def _empty_or_missing(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def _staging(final: Path, what: str) -> Path:
    final = final.absolute()
    staging = final.parent / f".{final.name}.{what}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _move_into_place(staging: Path, final: Path) -> None:
    if final.exists():
        final.rmdir()  # checked empty before starting
    os.replace(staging, final)


def _schema_of(database: Path) -> str | None:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        try:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            return None
    return row[0] if row else None


def _integrity_problem(database: Path) -> str | None:
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            result = [row[0] for row in db.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        return f"{database.name} is not a readable SQLite database ({exc})"
    if result != ["ok"]:
        return f"{database.name} fails SQLite's integrity check: {'; '.join(result[:3])}"
    return None


# -- backup -----------------------------------------------------------------------------


def _snapshot_database(source: Path, target: Path) -> None:
    """SQLite's online backup, in one step: a consistent copy while others write."""
    with (
        closing(sqlite3.connect(source, timeout=60)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        # One self-contained file: no -wal beside it (the archive turns WAL on again).
        dst.execute("PRAGMA journal_mode=DELETE")


def _bucket_files(bucket: Path) -> Iterator[str]:
    """Keys of the bucket folder, manifests first, each part in sorted order."""
    if not bucket.is_dir():
        return
    tops = sorted(os.listdir(bucket), key=lambda name: (name != FIRST, name))
    for top in tops:
        path = bucket / top
        if path.is_file() and not path.is_symlink():
            yield top
            continue
        for folder, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = Path(folder) / name
                if not full.is_symlink():
                    yield str(full.relative_to(bucket).as_posix())


def backup(data_dir: Path, dest: Path, progress: Progress | None = None) -> Report:
    """Back up the embedded archive in ``data_dir`` into the new folder ``dest``."""
    database = data_dir / DATABASE
    if not database.is_file():
        raise BackupRefused(
            f"No embedded archive in {data_dir.absolute()} (no {DATABASE}); set --data-dir."
        )
    if not _empty_or_missing(dest):
        raise BackupRefused(f"{dest} is not empty; back up into a new or empty folder.")
    staging = _staging(dest, "partial")
    report = Report()
    try:
        _snapshot_database(database, staging / DATABASE)
        if problem := _integrity_problem(staging / DATABASE):
            raise BackupRefused(f"The database copy is damaged: {problem}.")
        report.schema = _schema_of(staging / DATABASE)
        with open(staging / MANIFEST, "w") as manifest:

            def add(relative: str, source: Path) -> None:
                target = staging / relative
                try:
                    copied = copy_file(source, target)
                except FileNotFoundError:
                    report.vanished.append(relative)  # deleted after the listing
                    return
                if sha256_of(target) != (copied.size, copied.sha256):
                    raise BackupRefused(f"{relative}: the copy differs from what was read.")
                line = {
                    "path": relative,
                    "size": copied.size,
                    "sha256": copied.sha256,
                    "mtime_ns": copied.mtime_ns,
                    "xattrs": copied.xattrs,
                }
                manifest.write(json.dumps(line, sort_keys=True) + "\n")
                report.files += 1
                report.bytes += copied.size
                if progress is not None:
                    progress(copied.size)

            # The database file was written by the snapshot: listed, not copied again.
            size, digest = sha256_of(staging / DATABASE)
            manifest.write(json.dumps({"path": DATABASE, "size": size, "sha256": digest}) + "\n")
            if (data_dir / SECRET_KEY).is_file():
                add(SECRET_KEY, data_dir / SECRET_KEY)
                report.secret_key = True
            for key in _bucket_files(data_dir / BUCKET):
                add(f"{BUCKET}/{key}", data_dir / BUCKET / key)
        meta = {
            "format": FORMAT,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "schema_revision": report.schema,
            "files": report.files + 1,
            "bytes": report.bytes + size,
            "manifest_sha256": sha256_of(staging / MANIFEST)[1],
        }
        (staging / META).write_text(json.dumps(meta, indent=2) + "\n")
        _move_into_place(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


# -- restore ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    path: str
    size: int
    sha256: str
    mtime_ns: int | None
    xattrs: dict[str, str]


def read_backup(source: Path) -> tuple[dict, list[Entry]]:
    """The backup's description and file list, checked to be whole; refuses otherwise."""
    if not source.is_dir():
        raise BackupRefused(f"There is no backup at {source} (no such folder).")
    try:
        meta = json.loads((source / META).read_text())
    except FileNotFoundError:
        raise BackupRefused(
            f"{source} is not a complete backup: it has no {META} (an unfinished backup, "
            "or not a backup at all)."
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupRefused(f"{source / META} cannot be read: {exc}.") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise BackupRefused(
            f"{source / META} is not a backup of format {FORMAT} (made by another version?)."
        )
    try:
        _, digest = sha256_of(source / MANIFEST)
    except OSError as exc:
        raise BackupRefused(f"{source / MANIFEST} cannot be read: {exc}.") from None
    if digest != meta.get("manifest_sha256"):
        raise BackupRefused(f"{source / MANIFEST} was changed or damaged since the backup.")
    entries = []
    for number, line in enumerate((source / MANIFEST).read_text().splitlines(), 1):
        record = json.loads(line)
        path = str(record["path"])
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise BackupRefused(f"{MANIFEST} line {number}: {path!r} is not a path inside.")
        entries.append(
            Entry(
                path,
                int(record["size"]),
                str(record["sha256"]),
                record.get("mtime_ns"),
                dict(record.get("xattrs") or {}),
            )
        )
    if not any(e.path == DATABASE for e in entries):
        raise BackupRefused(f"{source} holds no database ({DATABASE} is not listed).")
    if len(entries) != meta.get("files"):
        raise BackupRefused(
            f"{MANIFEST} lists {len(entries)} files, {META} says {meta.get('files')}."
        )
    return meta, entries


def check(source: Path, progress: Progress | None = None) -> tuple[dict, list[Entry]]:
    """Read every file of the backup against its SHA-256; refuses at the first problem."""
    meta, entries = read_backup(source)
    for entry in entries:
        _check_one(source / entry.path, entry)
        if progress is not None:
            progress(entry.size)
    if problem := _integrity_problem(source / DATABASE):
        raise BackupRefused(f"The backup's database is damaged: {problem}.")
    return meta, entries


def _check_one(path: Path, entry: Entry) -> None:
    try:
        size, digest = sha256_of(path)
    except FileNotFoundError:
        raise BackupRefused(f"{entry.path} is missing from the backup.") from None
    if (size, digest) != (entry.size, entry.sha256):
        raise BackupRefused(f"{entry.path} is damaged: its SHA-256 is not the one recorded.")


def restore(source: Path, data_dir: Path, progress: Progress | None = None) -> dict:
    """Restore the backup ``source`` into ``data_dir``, which must be new or empty."""
    if not _empty_or_missing(data_dir):
        raise BackupRefused(
            f"{data_dir.absolute()} is not empty; restore into a new or empty data folder "
            "(nothing of an archive is ever overwritten)."
        )
    meta, entries = read_backup(source)
    staging = _staging(data_dir, "restoring")
    try:
        for entry in entries:
            target = staging / entry.path
            try:
                copied = copy_file(source / entry.path, target)
            except FileNotFoundError:
                raise BackupRefused(f"{entry.path} is missing from the backup.") from None
            if (copied.size, copied.sha256) != (entry.size, entry.sha256):
                raise BackupRefused(
                    f"{entry.path} is damaged in the backup: its SHA-256 is not the one "
                    "recorded. Nothing was restored."
                )
            if sha256_of(target) != (entry.size, entry.sha256):
                raise BackupRefused(f"{entry.path}: the restored copy differs; nothing restored.")
            _set_attributes(target, entry)
            if progress is not None:
                progress(entry.size)
        if problem := _integrity_problem(staging / DATABASE):
            raise BackupRefused(f"The backup's database is damaged: {problem}.")
        with suppress(FileNotFoundError):
            (staging / SECRET_KEY).chmod(0o600)
        (staging / BUCKET).mkdir(exist_ok=True)  # a backup of an archive with no object
        data_dir.absolute().parent.mkdir(parents=True, exist_ok=True)
        _move_into_place(staging, data_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return meta


def _set_attributes(path: Path, entry: Entry) -> None:
    try:
        write_xattrs(path, entry.xattrs)
    except OSError as exc:
        raise BackupRefused(
            f"The data folder's file system keeps no extended attributes ({exc}); the "
            "bucket folder needs them (each object's ETag)."
        ) from None
    if entry.mtime_ns is not None:
        os.utime(path, ns=(entry.mtime_ns, entry.mtime_ns))
