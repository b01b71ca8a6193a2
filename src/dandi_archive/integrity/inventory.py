"""The bucket lists itself: inventories under ``inventory/``, in S3 Inventory's format.

Each inventory is what S3 Inventory would write for a CSV configuration with the
fields Size, LastModifiedDate and ETag, so tools written for S3 inventories (Athena
tables, mirroring scripts) read it unchanged::

    inventory/<bucket>/<config id>/data/<uuid>.csv.gz           the listing, in chunks
    inventory/<bucket>/<config id>/<YYYY-MM-DDTHH-MMZ>/manifest.json   written last
    inventory/<bucket>/<config id>/<YYYY-MM-DDTHH-MMZ>/manifest.checksum

Data files are gzipped CSV rows ``"bucket","key","size","last modified","etag"`` (every
field quoted, the key URL-encoded as S3 does), in key order, at most
``inventory_rows_per_file`` rows each. The listing is streamed from the store into one
data file at a time, so memory stays flat for any number of objects. The manifest
names the data files with their sizes and MD5s; it is written last, so a manifest
always describes a complete inventory. Objects under ``inventory/`` are not listed.

The listing names every object, embargoed blobs included, so inventories are never
public: the folder store serves no ``inventory/`` key (``access.bucket`` knows no such
prefix), and on S3 they are written tagged like embargoed objects, which the archive's
bucket policy refuses to anonymous readers.

:func:`verify` checks the latest inventory against the bucket with one merge of two
sorted streams (the inventory's rows and a new listing), again in flat memory.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, unquote_plus

from dandi_archive.storage.base import BlobStore, ObjectInfo

if TYPE_CHECKING:
    from dandi_archive.config import Settings

log = logging.getLogger(__name__)

PREFIX = "inventory/"
FILE_SCHEMA = "Bucket, Key, Size, LastModifiedDate, ETag"
MANIFEST_VERSION = "2016-11-30"  # the version every S3 inventory manifest carries
CSV_GZIP = "application/gzip"
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z")


@dataclass(frozen=True)
class Row:
    key: str
    size: int
    modified: str
    etag: str


@dataclass
class InventoryReport:
    manifest_key: str
    created: datetime
    listed: int = 0
    problems: list[str] = field(default_factory=list)


class InventoryProblem(Exception):
    """No inventory to check, or one that cannot be read (message says which)."""


def root(store: BlobStore, config_id: str) -> str:
    return f"{PREFIX}{store.bucket_name}/{config_id}/"


def _last_modified(moment: datetime | None) -> str:
    """S3 inventory's LastModifiedDate: ISO 8601 in UTC with milliseconds."""
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- writing ------------------------------------------------------------------------------


class _DataFile:
    """One gzipped CSV data file being written to a temporary file."""

    def __init__(self, tmp_dir: Path) -> None:
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="inventory-", suffix=".csv.gz")
        os.close(fd)
        self.path = Path(name)
        self.rows = 0
        self._text = gzip.open(self.path, "wt", encoding="utf-8", newline="")  # noqa: SIM115
        self._csv = csv.writer(self._text, quoting=csv.QUOTE_ALL, lineterminator="\n")

    def write(self, bucket: str, info: ObjectInfo) -> None:
        key = quote_plus(info.key, safe="/")
        self._csv.writerow([bucket, key, info.size, _last_modified(info.modified), info.etag])
        self.rows += 1

    def store(self, store: BlobStore, key: str) -> dict[str, Any]:
        """Close the file, store it under ``key``; its entry in the manifest."""
        self._text.close()
        entry = {"key": key, "size": self.path.stat().st_size, "MD5checksum": _md5(self.path)}
        store.put_file(key, self.path, CSV_GZIP, private=True)
        return entry

    def discard(self) -> None:
        self._text.close()
        self.path.unlink(missing_ok=True)


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 * 2**20):
            digest.update(chunk)
    return digest.hexdigest()


def write(store: BlobStore, settings: Settings, now: datetime | None = None) -> str:
    """List the whole bucket into a new inventory; returns its manifest's key."""
    # The listing starts now: whatever changes after this moment may or may not be in it.
    started = (now or datetime.now(UTC)).replace(microsecond=0)
    base = root(store, settings.inventory_config_id)
    tmp_dir = settings.data_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    current: _DataFile | None = None
    try:
        for info in store.list_keys(""):
            if info.key.startswith(PREFIX):
                continue
            if current is None:
                current = _DataFile(tmp_dir)
            current.write(store.bucket_name, info)
            if current.rows == settings.inventory_rows_per_file:
                files.append(current.store(store, f"{base}data/{uuid.uuid4()}.csv.gz"))
                current = None
        if current is not None:
            files.append(current.store(store, f"{base}data/{uuid.uuid4()}.csv.gz"))
            current = None
    finally:
        if current is not None:
            current.discard()
    manifest_key = f"{base}{started.strftime('%Y-%m-%dT%H-%MZ')}/manifest.json"
    manifest = {
        "sourceBucket": store.bucket_name,
        "destinationBucket": f"arn:aws:s3:::{store.bucket_name}",
        "version": MANIFEST_VERSION,
        "creationTimestamp": str(int(started.timestamp() * 1000)),
        "fileFormat": "CSV",
        "fileSchema": FILE_SCHEMA,
        "files": files,
    }
    body = json.dumps(manifest, indent=2).encode()
    _put_private(store, manifest_key, body, "application/json", tmp_dir)
    checksum_key = manifest_key.replace("manifest.json", "manifest.checksum")
    _put_private(store, checksum_key, hashlib.md5(body).hexdigest().encode(), "text/plain", tmp_dir)
    log.info("inventory %s: %d data file(s)", manifest_key, len(files))
    prune(store, settings)
    return manifest_key


def _put_private(store: BlobStore, key: str, data: bytes, content_type: str, tmp: Path) -> None:
    fd, name = tempfile.mkstemp(dir=tmp, prefix="inventory-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    try:
        store.put_file(key, Path(name), content_type, private=True)
    finally:
        Path(name).unlink(missing_ok=True)


def manifests(store: BlobStore, config_id: str) -> list[str]:
    """Keys of the inventory manifests, oldest first."""
    base = root(store, config_id)
    found = []
    for info in store.list_keys(base):
        stamp, _, name = info.key[len(base) :].partition("/")
        if name == "manifest.json" and _STAMP.fullmatch(stamp):
            found.append(info.key)
    return sorted(found)


def prune(store: BlobStore, settings: Settings) -> None:
    """Keep the newest ``inventory_keep`` inventories; drop the older ones with their
    data files, and data files no manifest names that are older than every kept
    inventory (a crash's leftovers: an inventory being written now has none so old)."""
    config_id = settings.inventory_config_id
    found = manifests(store, config_id)
    old, kept = found[: -settings.inventory_keep], found[-settings.inventory_keep :]
    named: set[str] = set()
    oldest: datetime | None = None
    for key in kept:
        with contextlib.suppress(InventoryProblem):
            manifest = read_manifest(store, key)
            named |= {entry["key"] for entry in manifest["files"]}
            created = _created(manifest)
            oldest = created if oldest is None else min(oldest, created)
    for key in old:
        with contextlib.suppress(InventoryProblem):
            listed = {entry["key"] for entry in read_manifest(store, key)["files"]}
            store.delete_many(sorted(listed - named))
        store.delete_many([key, key.replace("manifest.json", "manifest.checksum")])
    if oldest is None:
        return
    stale = [
        info.key
        for info in store.list_keys(f"{root(store, config_id)}data/")
        if info.key not in named and info.modified is not None and info.modified < oldest
    ]
    store.delete_many(stale)


def _created(manifest: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(manifest["creationTimestamp"]) / 1000, UTC)


# -- checking -----------------------------------------------------------------------------


def read_manifest(store: BlobStore, key: str) -> dict[str, Any]:
    try:
        manifest = json.loads(b"".join(store.iter_bytes(key)))
    except (OSError, ValueError) as exc:
        raise InventoryProblem(f"{key} cannot be read: {exc}") from None
    if manifest.get("fileFormat") != "CSV" or manifest.get("fileSchema") != FILE_SCHEMA:
        raise InventoryProblem(f"{key} is not a CSV inventory with the fields {FILE_SCHEMA}")
    return manifest


def latest(store: BlobStore, config_id: str) -> str:
    found = manifests(store, config_id)
    if not found:
        raise InventoryProblem(
            f"No inventory under {root(store, config_id)}; run `dandi-archive inventory write`."
        )
    return found[-1]


def _rows(store: BlobStore, manifest: dict[str, Any], problems: list[str]) -> Iterator[Row]:
    """The rows of every data file, in manifest order; a data file whose bytes are not
    those the manifest lists is reported (its rows are still read)."""
    for entry in manifest["files"]:
        if store.head(entry["key"]) is None:
            problems.append(f"{entry['key']}: data file of the inventory is missing")
            continue
        raw = _ChunkReader(store.iter_bytes(entry["key"]))
        try:
            with gzip.open(raw, "rt", encoding="utf-8", newline="") as text:
                for _bucket, key, size, modified, etag in csv.reader(text):
                    yield Row(unquote_plus(key), int(size), modified, etag)
        except (OSError, EOFError, ValueError, csv.Error) as exc:
            problems.append(f"{entry['key']}: data file of the inventory cannot be read ({exc})")
            continue
        if (raw.size, raw.md5.hexdigest()) != (entry["size"], entry["MD5checksum"]):
            problems.append(f"{entry['key']}: not the data file the manifest lists")


class _ChunkReader(io.RawIOBase):
    """A file-like view of a stream of chunks (for gzip), counting and hashing them."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self.size = 0
        self.md5 = hashlib.md5()

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
            self.size += len(chunk)
            self.md5.update(chunk)
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def verify(
    store: BlobStore, config_id: str, progress: Callable[[int], None] = lambda _n: None
) -> InventoryReport:
    """Compare the latest inventory with the bucket as it is now.

    A listed object must be in the bucket with the listed size and ETag, unless it
    changed after the inventory was made; an object not listed is a difference unless
    it was written after. Objects under ``inventory/`` are not compared.
    """
    key = latest(store, config_id)
    manifest = read_manifest(store, key)
    created = _created(manifest)
    report = InventoryReport(key, created)
    rows = _rows(store, manifest, report.problems)
    objects = (o for o in store.list_keys("") if not o.key.startswith(PREFIX))
    row, obj = next(rows, None), next(objects, None)
    previous = ""
    while row is not None or obj is not None:
        if row is not None and row.key <= previous:
            report.problems.append(f"{row.key}: rows of the inventory are not in key order")
            return report
        if obj is None or (row is not None and row.key < obj.key):
            assert row is not None
            report.problems.append(f"{row.key}: listed in the inventory, not in the bucket")
            previous, row = row.key, next(rows, None)
            report.listed += 1
        elif row is None or obj.key < row.key:
            if obj.modified is None or obj.modified < created:
                report.problems.append(f"{obj.key}: in the bucket, not in the inventory")
            obj = next(objects, None)
        else:
            if (problem := _difference(row, obj, created)) is not None:
                report.problems.append(problem)
            previous, row, obj = row.key, next(rows, None), next(objects, None)
            report.listed += 1
        progress(1)
    return report


def _difference(row: Row, obj: ObjectInfo, created: datetime) -> str | None:
    if obj.modified is not None and obj.modified >= created:
        return None  # replaced since: the inventory said what was there then
    if obj.size != row.size:
        return f"{row.key}: {obj.size} bytes in the bucket, {row.size} listed"
    if obj.etag != row.etag:
        return f"{row.key}: ETag {obj.etag} in the bucket, {row.etag} listed"
    return None
