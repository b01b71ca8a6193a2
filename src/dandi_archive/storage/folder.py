"""The bucket as a local folder, for the embedded default and development.

``<root>`` holds exactly what the S3 bucket would (``blobs/``, ``dandisets/``, ``zarr/``).
Unfinished multipart uploads live outside it, in ``<staging>/<upload id>/``: parts are
written straight into one data file at their offsets, so completing an upload is a
rename, not a second copy of the bytes. Each object's S3-style ETag is kept in an
extended attribute so ``head`` need not re-read the file.

Presigned URLs point back at the archive (see ``dandi_archive.api.bucket``), signed
with the instance's secret. Objects are addressed S3 path-style,
``{archive}/{bucket name}/{key}`` (as a client sees them on S3, bucket name included);
``{archive}/bucket/{key}``, the older spelling, still names the same objects.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any
from urllib.parse import quote, unquote

from dandischema.digests.dandietag import Part

from dandi_archive.storage.base import MAX_PUT_SIZE, ObjectInfo
from dandi_archive.storage.signing import UrlSigner

ETAG_XATTR = "user.s3.etag"
CONTENT_TYPE_XATTR = "user.s3.content-type"


class UploadError(Exception):
    """A multipart upload request S3 would refuse; ``code`` is S3's error code."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def multipart_etag(part_md5s: list[str]) -> str:
    """S3's ETag of a multipart object (the dandi-etag): md5 of the part digests."""
    digest = hashlib.md5(b"".join(bytes.fromhex(m) for m in part_md5s))
    return f"{digest.hexdigest()}-{len(part_md5s)}"


class FolderStore:
    def __init__(
        self,
        root: Path,
        staging: Path,
        public_url: str,
        signer: UrlSigner,
        bucket_name: str = "dandi-dandisets",
    ) -> None:
        self.root = root
        self.staging = staging
        self.base_url = public_url.rstrip("/")
        self.signer = signer
        self.bucket_name = bucket_name
        root.mkdir(parents=True, exist_ok=True)
        staging.mkdir(parents=True, exist_ok=True)
        self._real_root = root.resolve()  # once: resolving costs a syscall per segment

    # -- paths ---------------------------------------------------------------------

    def path(self, key: str) -> Path:
        """File of a key; refuses keys that would leave the bucket folder."""
        path = (self._real_root / key).resolve()
        if not path.is_relative_to(self._real_root) or key.startswith("/"):
            raise ValueError(f"invalid key {key!r}")
        return path

    def object_file(self, key: str) -> Path | None:
        """The regular file stored under exactly ``key``, or None.

        For serving reads: the file must be ``<root>/<key>`` itself, reached through no
        symbolic link and no other spelling, so that the key judged by the access rule
        (``access.bucket``) is the object served. The key must already be
        canonical (no ``.``/``..``/empty segments).
        """
        root = str(self._real_root)
        candidate = os.path.join(root, key)
        if os.path.realpath(candidate) != candidate:
            return None  # a symlink on the way, or a spelling that resolves elsewhere
        try:
            mode = os.lstat(candidate).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        return Path(candidate) if S_ISREG(mode) else None

    def _upload_dir(self, multipart_id: str) -> Path:
        return self.staging / uuid.UUID(hex=multipart_id).hex

    # -- multipart uploads -----------------------------------------------------------

    def create_multipart_upload(self, key: str, *, embargoed: bool) -> str:
        multipart_id = uuid.uuid4().hex
        upload_dir = self._upload_dir(multipart_id)
        upload_dir.mkdir()
        (upload_dir / "upload.json").write_text(json.dumps({"key": key, "embargoed": embargoed}))
        return multipart_id

    def presign_upload_part(self, key: str, multipart_id: str, part: Part, expires: int) -> str:
        token = self.signer.sign(
            "put-part", expires, mp=multipart_id, n=part.number, off=part.offset, size=part.size
        )
        return f"{self.base_url}/storage/parts/{token}"

    def presign_complete(
        self, key: str, multipart_id: str, *, etag: str, part_sizes: list[int], expires: int
    ) -> str:
        token = self.signer.sign(
            "complete", expires, mp=multipart_id, key=key, etag=etag, parts=len(part_sizes)
        )
        return f"{self.base_url}/storage/complete/{token}"

    def abort_multipart_upload(self, key: str, multipart_id: str) -> None:
        shutil.rmtree(self._upload_dir(multipart_id), ignore_errors=True)

    def multipart_upload_exists(self, key: str, multipart_id: str) -> bool:
        return self._upload_dir(multipart_id).is_dir()

    def open_part(self, claims: dict) -> PartWriter:
        """A writer for one part's bytes, at the part's offset in the upload's data file."""
        upload_dir = self._upload_dir(claims["mp"])
        if not upload_dir.is_dir():
            raise UploadError("NoSuchUpload", "The upload does not exist or was aborted.", 404)
        return PartWriter(upload_dir, claims)

    def complete_upload(self, claims: dict, listed: list[tuple[int, str]]) -> str:
        """Check the listed parts, then move the assembled file to its key.

        ``listed`` are the (part number, ETag) pairs of the CompleteMultipartUpload body.
        Returns the object's ETag, which must equal the dandi-etag the upload announced.
        """
        upload_dir = self._upload_dir(claims["mp"])
        if not upload_dir.is_dir():
            raise UploadError("NoSuchUpload", "The upload does not exist or was aborted.", 404)
        expected = list(range(1, claims["parts"] + 1))
        if [number for number, _ in listed] != expected:
            raise UploadError(
                "InvalidPartOrder",
                f"The body must list parts 1 to {claims['parts']} in order, once each.",
            )
        md5s = []
        for number, etag in listed:
            md5_file = upload_dir / f"part-{number}.md5"
            stored = md5_file.read_text() if md5_file.exists() else None
            if stored is None:
                raise UploadError("InvalidPart", f"Part {number} has not been uploaded.")
            if stored != etag.strip('"'):
                raise UploadError("InvalidPart", f"Part {number} has ETag {stored}, not {etag}.")
            md5s.append(stored)
        etag = multipart_etag(md5s)
        if etag != claims["etag"]:
            self.abort_multipart_upload(claims["key"], claims["mp"])
            raise UploadError(
                "BadDigest",
                f"The uploaded data has ETag {etag}, not the announced {claims['etag']}.",
            )
        data = upload_dir / "data"
        _set_etag(data, etag)
        with open(data, "rb+") as fh:
            os.fsync(fh.fileno())
        target = self.path(claims["key"])
        target.parent.mkdir(parents=True, exist_ok=True)
        # link() never replaces: if the same content is already there, it stays untouched.
        with contextlib.suppress(FileExistsError):
            os.link(data, target)
        shutil.rmtree(upload_dir, ignore_errors=True)
        return etag

    # -- objects ---------------------------------------------------------------------

    def problem(self) -> str | None:
        for folder in (self.root, self.staging):
            if not folder.is_dir():
                return f"the folder {folder.name}/ is missing"
            if not os.access(folder, os.W_OK | os.X_OK):
                return f"the folder {folder.name}/ cannot be written"
        return None

    def head(self, key: str) -> ObjectInfo | None:
        path = self.path(key)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not S_ISREG(stat.st_mode):
            return None
        modified = datetime.fromtimestamp(stat.st_mtime, UTC)
        return ObjectInfo(key=key, size=stat.st_size, etag=_get_etag(path), modified=modified)

    def content_type(self, key: str) -> str | None:
        """The Content-Type the object was uploaded with, if one was recorded."""
        with contextlib.suppress(OSError):
            return os.getxattr(self.path(key), CONTENT_TYPE_XATTR).decode()
        return None

    def iter_bytes(self, key: str, chunk_size: int = 8 * 2**20) -> Iterator[bytes]:
        with open(self.path(key), "rb") as fh:
            while chunk := fh.read(chunk_size):
                yield chunk

    def read_range(self, key: str, start: int, length: int) -> bytes:
        with open(self.path(key), "rb") as fh:
            fh.seek(start)
            return fh.read(length)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, data, self.staging, etag=hashlib.md5(data).hexdigest())

    def put_file(self, key: str, path: Path, content_type: str, *, private: bool = False) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        _set_etag(path, _md5_of_file(path))
        try:
            os.replace(path, target)  # same file system: an atomic rename, no copy
        except OSError:
            tmp = self.staging / f".tmp-{uuid.uuid4().hex}"
            shutil.copyfile(path, tmp)
            _set_etag(tmp, _get_etag(path))
            os.replace(tmp, target)

    def delete(self, key: str) -> None:
        path = self.path(key)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            path.unlink()
        self._prune_empty_parents(path)

    def copy(self, source: str, target: str, *, if_etag: str) -> bool:
        # A hard link: writes always replace a key's file, so the link keeps these bytes.
        tmp = self.staging / f".copy-{uuid.uuid4().hex}"
        try:
            os.link(self.path(source), tmp)
        except (FileNotFoundError, NotADirectoryError):
            return False
        try:
            if _get_etag(tmp) != if_etag:
                return False
            target_path = self.path(target)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target_path)
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def delete_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.delete(key)

    def _prune_empty_parents(self, path: Path) -> None:
        """Drop folders left empty, as S3 has no folders: a key may later be a file there."""
        root = self._real_root
        parent = path.parent
        while parent != root and parent.is_relative_to(root):
            try:
                parent.rmdir()
            except OSError:  # not empty (or already gone)
                return
            parent = parent.parent

    def make_public(self, key: str) -> None:
        pass  # the folder store asks the database whether a blob is embargoed

    def public_url(self, key: str) -> str:
        return f"{self.base_url}/{self.bucket_name}/{quote(key)}"

    def url_prefixes(self) -> tuple[str, ...]:
        """Every spelling of this store's object URLs before the key: ``public_url``'s
        and the older ``/bucket/`` one."""
        return (f"{self.base_url}/{self.bucket_name}/", f"{self.base_url}/bucket/")

    def key_for_url(self, url: str) -> str | None:
        """The key an object URL names, in either spelling (URLs written before the
        bucket name was part of them stay valid, e.g. in published metadata)."""
        address = url.partition("?")[0]
        for prefix in self.url_prefixes():
            if address.startswith(prefix):
                return unquote(address[len(prefix) :])
        return None

    def presign_download(
        self, key: str, expires: int, filename: str | None = None, method: str = "GET"
    ) -> str:
        token = self.signer.sign("get", expires, key=key, filename=filename)
        return f"{self.public_url(key)}?token={token}"

    def presign_put(self, key: str, *, md5_base64: str, expires: int, embargoed: bool) -> str:
        md5 = base64.b64decode(md5_base64).hex()
        token = self.signer.sign("put", expires, key=key, md5=md5)
        return f"{self.public_url(key)}?token={token}"

    def open_object(self, key: str, md5: str, content_type: str | None) -> ObjectWriter:
        """A writer for a whole object; ``md5`` is the digest its bytes must have."""
        self.path(key)  # refuse keys outside the bucket before reading any byte
        return ObjectWriter(self, key, md5, content_type)

    def list_keys(self, prefix: str, start_after: str = "") -> Iterator[ObjectInfo]:
        folder = prefix.rpartition("/")[0]
        yield from self._walk(folder + "/" if folder else "", prefix, start_after)

    def _walk(self, folder: str, prefix: str, start_after: str) -> Iterator[ObjectInfo]:
        """Keys below ``folder`` in S3's order: a folder ``d`` sorts as ``d/``."""
        try:
            with os.scandir(self.root / folder) as it:
                entries = sorted(folder + e.name + ("/" if e.is_dir() else "") for e in it)
        except (FileNotFoundError, NotADirectoryError):
            return
        for key in entries:
            if key.endswith("/"):
                if not (key.startswith(prefix) or prefix.startswith(key)):
                    continue
                if start_after >= key and not start_after.startswith(key):
                    continue  # everything below sorts before start_after
                yield from self._walk(key, prefix, start_after)
            elif key.startswith(prefix) and key > start_after:
                info = self.head(key)
                if info is not None:
                    yield info

    def list_directory(self, prefix: str) -> tuple[list[ObjectInfo], list[str]]:
        objects: list[ObjectInfo] = []
        prefixes: list[str] = []
        try:
            with os.scandir(self.path(prefix)) as it:
                entries = sorted((e.name, e.is_dir()) for e in it)
        except (FileNotFoundError, NotADirectoryError):
            return objects, prefixes
        for name, is_dir in entries:
            if is_dir:
                prefixes.append(f"{prefix}{name}/")
            elif (info := self.head(prefix + name)) is not None:
                objects.append(info)
        return objects, prefixes

    def fsspec_location(self, prefix: str) -> tuple[str, dict[str, Any]]:
        return f"file://{self.root.resolve()}/{prefix}", {}


class ObjectWriter:
    """Receives one whole object (a PUT); the key changes only once the bytes are all
    there and match the announced MD5, so a refused PUT leaves the old object as it was."""

    def __init__(self, store: FolderStore, key: str, md5: str, content_type: str | None) -> None:
        self.store = store
        self.key = key
        self.expected_md5 = md5
        self.content_type = content_type
        self.md5 = hashlib.md5()
        self.written = 0
        fd, self.tmp = tempfile.mkstemp(dir=store.staging, prefix=".put-")
        self.fh = os.fdopen(fd, "wb")

    def write(self, chunks: Sequence[bytes]) -> None:
        """Hash and store the next bytes, given as the chunks they came in."""
        for chunk in chunks:
            if self.written + len(chunk) > MAX_PUT_SIZE:
                raise UploadError(
                    "EntityTooLarge", "An object written in one PUT can be at most 5 GiB."
                )
            self.md5.update(chunk)
            self.fh.write(chunk)
            self.written += len(chunk)

    def finish(self) -> str:
        digest = self.md5.hexdigest()
        if digest != self.expected_md5:
            raise UploadError(
                "BadDigest", "The Content-MD5 you specified did not match what we received."
            )
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        _set_etag(Path(self.tmp), digest)
        if self.content_type:
            with contextlib.suppress(OSError):
                os.setxattr(self.tmp, CONTENT_TYPE_XATTR, self.content_type.encode())
        target = self.store.path(self.key)
        for _ in range(3):  # a concurrent delete may prune the folder we just made
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_dir():
                    raise IsADirectoryError(target)
                os.replace(self.tmp, target)
                return digest
            except FileNotFoundError:
                continue
            except (NotADirectoryError, IsADirectoryError, FileExistsError):
                raise UploadError(
                    "KeyConflict",
                    "A file and a folder cannot have the same path in this bucket; "
                    "delete the other one first.",
                    409,
                ) from None
        raise UploadError("InternalError", "The object could not be stored; retry.", 503)

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)


class PartWriter:
    """Receives one part chunk by chunk; the part counts as uploaded only once
    ``finish`` has checked its length and recorded its MD5."""

    def __init__(self, upload_dir: Path, claims: dict) -> None:
        self.upload_dir = upload_dir
        self.number: int = claims["n"]
        self.size: int = claims["size"]
        self.offset: int = claims["off"]
        self.written = 0
        self.md5 = hashlib.md5()
        self.fd = os.open(upload_dir / "data", os.O_WRONLY | os.O_CREAT, 0o644)

    def write(self, chunks: Sequence[bytes]) -> None:
        """Hash and store the next bytes of the part, given as the chunks they came in.

        Taking the chunks as received, rather than one joined buffer, spares the caller
        (the event loop) a copy of every byte; hashing and writing release the GIL.
        """
        size = sum(len(chunk) for chunk in chunks)
        if self.written + size > self.size:
            raise UploadError(
                "EntityTooLarge", f"Part {self.number} must be {self.size} bytes; got more."
            )
        for chunk in chunks:
            self.md5.update(chunk)
            _pwrite_all(self.fd, chunk, self.offset + self.written)
            self.written += len(chunk)

    def finish(self) -> str:
        if self.written != self.size:
            raise UploadError(
                "IncompleteBody",
                f"Part {self.number} must be {self.size} bytes, got {self.written}.",
            )
        digest = self.md5.hexdigest()
        _write_atomically(
            self.upload_dir / f"part-{self.number}.md5", digest.encode(), self.upload_dir
        )
        return digest

    def close(self) -> None:
        os.close(self.fd)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    """``os.pwrite`` until every byte is written (it may write fewer than asked)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _write_atomically(path: Path, data: bytes, tmp_dir: Path, etag: str | None = None) -> None:
    """Write via a temporary file on the same file system, so readers never see half."""
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if etag is not None:
            _set_etag(Path(tmp), etag)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _set_etag(path: Path, etag: str) -> None:
    with contextlib.suppress(OSError):
        os.setxattr(path, ETAG_XATTR, etag.encode())


def _get_etag(path: Path) -> str:
    """The stored ETag, or the MD5 of the file (then remembered) if none was stored."""
    with contextlib.suppress(OSError):
        return os.getxattr(path, ETAG_XATTR).decode()
    etag = _md5_of_file(path)
    _set_etag(path, etag)
    return etag


def _md5_of_file(path: Path) -> str:
    md5 = hashlib.md5()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 * 2**20):
            md5.update(chunk)
    return md5.hexdigest()
