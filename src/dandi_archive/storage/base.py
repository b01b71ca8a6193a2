"""What the archive needs from its bucket.

Two implementations sit side by side: :class:`~.folder.FolderStore` (a local folder
laid out like the bucket, with the archive itself serving signed URLs) and
:class:`~.s3.S3Store` (any S3-compatible service through boto3). Services and jobs only
ever see this interface.

Keys are bucket keys such as ``blobs/3f2/a1b/3f2a1b…-2``. Clients move bytes straight to
and from storage through presigned URLs; the archive only hands those URLs out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from dandischema.digests.dandietag import Part


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str  # S3 semantics: md5 hex, or "<md5 of part md5s>-<parts>" for multipart objects
    modified: datetime | None = None


# The largest object one PUT may write (S3's limit; Zarr files are single PUTs).
MAX_PUT_SIZE = 5 * 2**30


class BlobStore(Protocol):
    """The bucket: a flat namespace of keys, with multipart uploads."""

    @property
    def bucket_name(self) -> str:
        """The bucket's name (S3's, or the one the folder store's URLs carry)."""

    def create_multipart_upload(self, key: str, *, embargoed: bool) -> str:
        """Start a multipart upload to ``key`` and return its upload id."""

    def presign_upload_part(self, key: str, multipart_id: str, part: Part, expires: int) -> str:
        """A URL the client PUTs one part to; the answer's ETag header is the part's MD5."""

    def presign_complete(
        self, key: str, multipart_id: str, *, etag: str, part_sizes: list[int], expires: int
    ) -> str:
        """A URL the client POSTs the CompleteMultipartUpload XML to."""

    def abort_multipart_upload(self, key: str, multipart_id: str) -> None:
        """Drop an unfinished upload and its parts (no error if already gone)."""

    def multipart_upload_exists(self, key: str, multipart_id: str) -> bool:
        """Whether an upload can still receive parts or be completed."""

    def head(self, key: str) -> ObjectInfo | None:
        """Size and ETag of an object, or None if there is none."""

    def iter_bytes(self, key: str, chunk_size: int = 8 * 2**20) -> Iterator[bytes]:
        """Stream an object's bytes."""

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes of an object from offset ``start`` (fewer at its end), so
        that a file's headers can be read without fetching the whole object."""

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Write a small object in one go; readers see the old or the new one, never half."""

    def put_file(self, key: str, path: Path, content_type: str, *, private: bool = False) -> None:
        """Store a local file (streamed, any size) under ``key``, replacing it atomically.
        The file may be moved rather than copied. ``private``: never readable without a
        signed URL (on S3, tagged like an embargoed object; the folder store serves only
        the prefixes ``access.bucket`` knows)."""

    def delete(self, key: str) -> None:
        """Remove an object (no error if absent)."""

    def make_public(self, key: str) -> None:
        """Lift the embargo mark of an object (uploads of embargoed Dandisets carry one)."""

    def public_url(self, key: str) -> str:
        """The unsigned URL of an object, as written into metadata (``contentUrl``)."""

    def key_for_url(self, url: str) -> str | None:
        """The key behind one of this store's public URLs (None if it is not one)."""

    def presign_download(
        self, key: str, expires: int, filename: str | None = None, method: str = "GET"
    ) -> str:
        """A URL that serves the object's bytes (with Range support) for a limited time.

        ``method`` is GET or HEAD (S3 signs the method).
        """

    def presign_put(self, key: str, *, md5_base64: str, expires: int, embargoed: bool) -> str:
        """A URL the client PUTs a whole object (at most 5 GiB) to.

        The client must send ``Content-MD5: md5_base64``; storage refuses any other bytes,
        so the object at ``key`` is either unchanged or exactly the announced content.
        Embargoed objects are tagged (the client then sends ``x-amz-tagging``).
        """

    def list_keys(self, prefix: str, start_after: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix`` and sorts after ``start_after``,
        in key (UTF-8 byte) order."""

    def list_directory(self, prefix: str) -> tuple[list[ObjectInfo], list[str]]:
        """Objects directly under ``prefix`` (ending in ``/``) and the sub-prefixes below it
        (S3's listing with delimiter ``/``)."""

    def copy(self, source: str, target: str, *, if_etag: str) -> bool:
        """Copy an object inside the bucket (no bytes through the archive) if its ETag is
        ``if_etag``; False, and nothing copied, if it is not or is gone."""

    def delete_many(self, keys: Iterable[str]) -> None:
        """Remove objects (absent ones are no error)."""

    def fsspec_location(self, prefix: str) -> tuple[str, dict[str, Any]]:
        """URL and fsspec storage options that read ``prefix`` straight from the bucket."""

    def problem(self) -> str | None:
        """Why the bucket cannot be used right now (for health checks), or None."""


def blob_key(upload_id: uuid.UUID) -> str:
    """Bucket key of an uploaded blob: its upload's id (which becomes the blob's id), as
    on dandiarchive.org.

    Every upload writes a key of its own, so no upload, however it ends, can overwrite
    bytes another upload already stored. When the content turns out to be stored
    already, the new copy is deleted once checked, so the bucket keeps one object per
    content. The two three-character levels keep any one "directory" small.
    """
    name = str(upload_id)
    return f"blobs/{name[0:3]}/{name[3:6]}/{name}"


def content_key(live_id: uuid.UUID, md5: str) -> str:
    """Bucket key of a frozen Zarr object: the bytes with this MD5 of a live Zarr, stored
    once for every published version that holds them."""
    return f"zarr-content/{live_id}/{md5}"


def manifest_key(frozen_id: uuid.UUID) -> str:
    """Bucket key of a frozen Zarr's manifest (its paths mapped to content keys)."""
    return f"zarr-manifests/{frozen_id}.json"
