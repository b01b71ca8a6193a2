"""Every object of the folder store copied to the S3 bucket under the same key.

The two listings are walked side by side (both in key order), so an object already in
the bucket with the size and ETag its copy would have is skipped without a request of
its own: a second run finishes what an interrupted one began.

Each copy keeps the ETag the archive knows the object by: an MD5 is written with one
PUT, a dandi-etag (``<md5>-<parts>``) with a multipart upload cut exactly at the
archive's part boundaries, each request carrying the MD5 of its bytes. The ETag S3
answers must equal the one the folder store recorded, so a byte that changed on disk
since it was uploaded is a problem reported, not a copy made.

The archive's own documents that name object URLs (manifests under ``dandisets/``,
frozen Zarr manifests under ``zarr-manifests/``) are copied with those URLs pointing
at the bucket; their ETag is that of the rewritten bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

from botocore.exceptions import ClientError
from dandischema.digests.dandietag import Part, PartGenerator
from sqlalchemy.orm import Session

from dandi_archive.access.bucket import tagged_embargoed
from dandi_archive.storage.base import MAX_PUT_SIZE, ObjectInfo
from dandi_archive.storage.folder import FolderStore
from dandi_archive.storage.s3 import S3Store
from dandi_archive.transfer.urls import UrlRewrite

# The archive's documents that hold object URLs, and their types as the archive
# stores them (publishing.manifests, publishing.withdraw, zarr.freeze).
REWRITTEN_PREFIXES = ("dandisets/", "zarr-manifests/")
DOCUMENT_TYPES = {
    ".jsonld": "application/ld+json",
    ".yaml": "application/x-yaml",
    ".json": "application/json",
}
DEFAULT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class Outcome:
    """What became of one object: copied, or already there; a problem if neither."""

    key: str
    size: int  # in the bucket
    copied: bool = False
    problem: str | None = None
    source_size: int | None = None  # in the folder, if not the same (a rewritten document)

    @property
    def read(self) -> int:
        """Bytes of the folder store this object stands for (what progress counts)."""
        return self.size if self.source_size is None else self.source_size


@dataclass
class ObjectCounts:
    copied: int = 0
    present: int = 0
    bytes_copied: int = 0
    bytes_present: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        if outcome.problem:
            self.problems.append(outcome.problem)
        elif outcome.copied:
            self.copied += 1
            self.bytes_copied += outcome.size
        else:
            self.present += 1
            self.bytes_present += outcome.size


ObjectProgress = Callable[[Outcome], None]


def survey(source: FolderStore) -> tuple[int, int]:
    """Number and total size of the objects to copy."""
    count = size = 0
    for info in source.list_keys(""):
        count += 1
        size += info.size
    return count, size


def copy_objects(
    source: FolderStore,
    target: S3Store,
    session: Session,
    rewrite: UrlRewrite,
    *,
    tmp_dir: Path,
    jobs: int = 8,
    progress: ObjectProgress = lambda _outcome: None,
) -> ObjectCounts:
    """Copy every object (``jobs`` at a time); ``progress`` hears of each one.

    ``session`` reads the source database, which says which objects are embargoed
    (those are tagged so, for the bucket policy).
    """
    counts = ObjectCounts()
    copier = _Copier(source, target, rewrite, tmp_dir)
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="transfer")
    pending: set[Future[Outcome]] = set()

    def settle(done: set[Future[Outcome]]) -> None:
        for future in done:
            outcome = future.result()
            counts.add(outcome)
            progress(outcome)

    try:
        for info, there in _side_by_side(source.list_keys(""), target.list_keys("")):
            if not copier.is_document(info.key) and copier.already_there(info, there):
                settle({_done(Outcome(info.key, info.size))})
                continue
            embargoed = tagged_embargoed(session, info.key)
            pending.add(pool.submit(copier.copy, info, there, embargoed))
            if len(pending) >= 2 * jobs:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                settle(done)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            settle(done)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return counts


def _done(outcome: Outcome) -> Future[Outcome]:
    future: Future[Outcome] = Future()
    future.set_result(outcome)
    return future


def _side_by_side(
    source: Iterator[ObjectInfo], target: Iterator[ObjectInfo]
) -> Iterator[tuple[ObjectInfo, ObjectInfo | None]]:
    """Each source object with the target's object of the same key, or None; both
    listings are in key order, so each is read once."""
    there = next(target, None)
    for info in source:
        while there is not None and there.key < info.key:
            there = next(target, None)
        yield info, (there if there is not None and there.key == info.key else None)


class _Copier:
    def __init__(
        self, source: FolderStore, target: S3Store, rewrite: UrlRewrite, tmp_dir: Path
    ) -> None:
        self.source = source
        self.target = target
        self.rewrite = rewrite
        self.tmp_dir = tmp_dir
        tmp_dir.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def is_document(key: str) -> bool:
        return key.startswith(REWRITTEN_PREFIXES)

    def already_there(self, info: ObjectInfo, there: ObjectInfo | None) -> bool:
        """Whether the bucket holds this object's copy (same size and expected ETag)."""
        if there is None or there.size != info.size:
            return False
        return there.etag == self._expected_etag(info)

    def _expected_etag(self, info: ObjectInfo) -> str:
        if "-" in info.etag or info.size <= MAX_PUT_SIZE:
            return info.etag
        # An MD5-only object too large for one PUT is copied in the archive's parts.
        return _layout_etag(self.source.path(info.key), _parts(info.size))

    def copy(self, info: ObjectInfo, there: ObjectInfo | None, embargoed: bool) -> Outcome:
        try:
            if self.is_document(info.key):
                return self._copy_document(info, there, embargoed)
            return self._copy_object(info, embargoed)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return Outcome(
                info.key,
                info.size,
                problem=f"{info.key}: S3 refused the copy ({error.get('Code')}: "
                f"{error.get('Message')})",
            )
        except OSError as exc:
            return Outcome(info.key, info.size, problem=f"{info.key}: cannot be read ({exc})")

    def _copy_object(self, info: ObjectInfo, embargoed: bool) -> Outcome:
        path = self.source.path(info.key)
        content_type = self.source.content_type(info.key) or DEFAULT_TYPE
        if "-" in info.etag:
            parts: list[Part] | None = _parts(info.size)
            if f"-{len(parts)}" != info.etag[info.etag.index("-") :]:
                return Outcome(
                    info.key,
                    info.size,
                    problem=f"{info.key}: ETag {info.etag} does not have the archive's "
                    f"{len(parts)} part(s) for {info.size} bytes; not copied",
                )
        else:
            parts = None if info.size <= MAX_PUT_SIZE else _parts(info.size)
        etag = self.target.put_exact(
            info.key, path, parts=parts, content_type=content_type, embargoed=embargoed
        )
        expected = self._expected_etag(info)
        return self._verified(info.key, info.size, etag, expected)

    def _copy_document(
        self, info: ObjectInfo, there: ObjectInfo | None, embargoed: bool
    ) -> Outcome:
        with tempfile.NamedTemporaryFile(dir=self.tmp_dir, prefix="document-") as out:
            self.rewrite.stream(self.source.iter_bytes(info.key), out)
            out.flush()
            path = Path(out.name)
            size = path.stat().st_size
            md5 = _md5_of(path)
            if there is not None and there.size == size and there.etag == md5:
                return Outcome(info.key, size, source_size=info.size)
            suffix = Path(info.key).suffix
            content_type = DOCUMENT_TYPES.get(suffix, DEFAULT_TYPE)
            etag = self.target.put_exact(
                info.key, path, parts=None, content_type=content_type, embargoed=embargoed
            )
        return replace(self._verified(info.key, size, etag, md5), source_size=info.size)

    def _verified(self, key: str, size: int, etag: str, expected: str) -> Outcome:
        """The copy checked against what the archive recorded; removed if it differs."""
        stored = self.target.head(key)
        if (
            etag == expected
            and stored is not None
            and (stored.size, stored.etag)
            == (
                size,
                expected,
            )
        ):
            return Outcome(key, size, copied=True)
        with contextlib.suppress(ClientError):
            self.target.delete(key)
        return Outcome(
            key,
            size,
            problem=f"{key}: the bytes on disk have ETag {etag}, the archive recorded "
            f"{expected} (check the source with `dandi-archive check`); not copied",
        )


def _parts(size: int) -> list[Part]:
    generator = PartGenerator.for_file_size(size)
    return [generator[n] for n in range(1, len(generator) + 1)]


def _md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 * 2**20):
            digest.update(chunk)
    return digest.hexdigest()


def _layout_etag(path: Path, parts: list[Part]) -> str:
    """The ETag a multipart upload of the file cut at ``parts`` gets."""
    md5s = []
    with open(path, "rb") as fh:
        for part in parts:
            digest = hashlib.md5()
            fh.seek(part.offset)
            left = part.size
            while left:
                chunk = fh.read(min(left, 8 * 2**20))
                if not chunk:
                    break
                digest.update(chunk)
                left -= len(chunk)
            md5s.append(digest.digest())
    return f"{hashlib.md5(b''.join(md5s)).hexdigest()}-{len(parts)}"
