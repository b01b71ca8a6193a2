"""Presigned URLs computed without botocore's request machinery are botocore's own URLs.

Each URL the S3 store hands out is compared with the one botocore makes at the same
moment (same signature, same query), for path-style (an endpoint URL) and
virtual-hosted (AWS) addressing, and the URLs work against a moto server (which does
not check signatures: the comparison with botocore is what shows they are right).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import botocore.auth
import httpx
import pytest
from dandischema.digests.dandietag import Part

from dandi_archive.storage.s3 import S3Store
from dandi_archive.testing import S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY

MOMENT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
KEYS = ["blobs/5c1/0a2/5c10a2f4-1d3e", "zarr/x/a b/ü+%;=?.json", "tilde~/plus+"]


def store(endpoint_url: str | None, bucket: str = "the-bucket") -> S3Store:
    return S3Store(
        bucket,
        endpoint_url=endpoint_url,
        region="us-east-2" if endpoint_url is None else "us-east-1",
        access_key_id=S3_ACCESS_KEY_ID,
        secret_access_key=S3_SECRET_ACCESS_KEY,
    )


def without_signer(s3: S3Store) -> S3Store:
    s3.__dict__["_signer"] = None  # the cached_property: botocore's path
    return s3


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: MOMENT.replace(tzinfo=None))
    import dandi_archive.storage.presign as presign

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return MOMENT

    monkeypatch.setattr(presign, "datetime", Frozen)


def same_url(ours: str, botocore_url: str) -> None:
    a, b = urlsplit(ours), urlsplit(botocore_url)
    assert (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)
    assert parse_qs(a.query, keep_blank_values=True) == parse_qs(b.query, keep_blank_values=True)


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9", None], ids=["path-style", "aws"])
@pytest.mark.parametrize("key", KEYS)
def test_urls_are_botocores(frozen: None, endpoint: str | None, key: str) -> None:
    fast, slow = store(endpoint), without_signer(store(endpoint))
    assert fast._signer is not None
    for method in ("GET", "HEAD"):
        for filename in (None, 'a "quoted" name ü.nwb'):
            same_url(
                fast.presign_download(key, 600, filename, method),
                slow.presign_download(key, 600, filename, method),
            )
    part = Part(number=3, offset=0, size=64 * 2**20)
    same_url(
        fast.presign_upload_part(key, "upload-id/+=", part, 900),
        slow.presign_upload_part(key, "upload-id/+=", part, 900),
    )


def test_no_static_credentials_means_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env")
    s3 = S3Store("b", endpoint_url="http://127.0.0.1:9")
    assert s3._signer is None
    assert "from-env" in s3.presign_download("k", 60)


def test_urls_work_on_s3(moto_endpoint: str) -> None:
    s3 = store(moto_endpoint, f"presign-{uuid.uuid4().hex[:8]}")
    s3.ensure_bucket()
    key = KEYS[1]
    multipart_id = s3.create_multipart_upload(key, embargoed=False)
    data = b"x" * 1000
    url = s3.presign_upload_part(key, multipart_id, Part(number=1, offset=0, size=len(data)), 60)
    put = httpx.put(url, content=data)
    assert put.status_code == 200, put.text
    s3.client.complete_multipart_upload(
        Bucket=s3.bucket,
        Key=key,
        UploadId=multipart_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": put.headers["etag"]}]},
    )
    got = httpx.get(s3.presign_download(key, 60, "file.nwb"))
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-disposition"] == 'attachment; filename="file.nwb"'
    assert httpx.head(s3.presign_download(key, 60, method="HEAD")).status_code == 200
