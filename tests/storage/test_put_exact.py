"""``S3Store.put_exact``: a file stored with the ETag the archive knows it by, one PUT
for an MD5, a multipart upload cut at the given parts for a dandi-etag (what
``dandi-archive transfer`` relies on)."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from dandischema.digests.dandietag import Part

from dandi_archive.storage.s3 import S3Store
from dandi_archive.testing import S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY

MiB = 2**20


def store_at(endpoint: str) -> S3Store:
    store = S3Store(
        f"put-exact-{uuid.uuid4().hex[:12]}",
        endpoint_url=endpoint,
        access_key_id=S3_ACCESS_KEY_ID,
        secret_access_key=S3_SECRET_ACCESS_KEY,
    )
    store.ensure_bucket()
    return store


def test_one_put_gives_the_md5(moto_endpoint: str, tmp_path: Path) -> None:
    store = store_at(moto_endpoint)
    path = tmp_path / "small"
    path.write_bytes(b"small object")
    etag = store.put_exact("a/b", path, parts=None, content_type="text/plain", embargoed=True)
    assert etag == hashlib.md5(b"small object").hexdigest()
    assert b"".join(store.iter_bytes("a/b")) == b"small object"
    assert path.exists()  # the source stays
    head = store.client.head_object(Bucket=store.bucket, Key="a/b")
    assert head["ContentType"] == "text/plain"
    tags = store.client.get_object_tagging(Bucket=store.bucket, Key="a/b")["TagSet"]
    assert tags == [{"Key": "embargoed", "Value": "true"}]


def test_parts_are_cut_where_given(moto_endpoint: str, tmp_path: Path) -> None:
    store = store_at(moto_endpoint)
    data = os.urandom(10 * MiB + 3)
    path = tmp_path / "large"
    path.write_bytes(data)
    # S3 takes parts of at least 5 MiB but the last: three parts, the last 3 bytes.
    parts = [Part(1, 0, 5 * MiB), Part(2, 5 * MiB, 5 * MiB), Part(3, 10 * MiB, 3)]
    etag = store.put_exact("blobs/x", path, parts=parts, content_type="a/b", embargoed=False)
    md5s = b"".join(hashlib.md5(data[p.offset : p.offset + p.size]).digest() for p in parts)
    assert etag == f"{hashlib.md5(md5s).hexdigest()}-3"
    assert store.head("blobs/x").etag == etag
    assert b"".join(store.iter_bytes("blobs/x")) == data
    assert store.client.get_object_tagging(Bucket=store.bucket, Key="blobs/x")["TagSet"] == []
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket)
    assert not uploads.get("Uploads")


def test_a_refused_upload_leaves_no_parts_behind(moto_endpoint: str, tmp_path: Path) -> None:
    import pytest
    from botocore.exceptions import ClientError

    store = store_at(moto_endpoint)
    path = tmp_path / "odd"
    path.write_bytes(b"x" * (5 * MiB + 2))
    # A first part under 5 MiB: S3 refuses to complete the upload.
    parts = [Part(1, 0, 1), Part(2, 1, 5 * MiB + 1)]
    with pytest.raises(ClientError):
        store.put_exact("blobs/odd", path, parts=parts, content_type="a/b", embargoed=False)
    assert store.head("blobs/odd") is None
    assert not store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads")
