"""The bucket read as an S3 bucket by S3 clients (boto3, s3fs, zarr over s3fs), unsigned.

On the embedded backend the archive itself answers at ``{archive}/{bucket name}``
(``api.bucket_reads``); on postgres-s3 the same tests read the moto bucket, to show the
folder store answers exactly as S3 does. What only the folder store can promise (a
listing that leaves embargoed objects out) is tested on the embedded backend: moto
enforces no bucket policy, and the archive's policy grants no anonymous listing on S3.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import httpx
import numpy as np
import pytest
import s3fs
import uvicorn
import zarr
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from dandi_archive.app import create_app
from dandi_archive.testing import free_port

from ..helpers import BIN, ApiClient
from ..omezarr import tree_files, write_ome_zarr
from ..zarr.test_ngff import upload_asset

FILES = {
    ".zattrs": b'{"note": "top"}',
    "a/0": b"chunk a0 bytes",
    "a/1": b"chunk a1 bytes",
    "a/b/0": b"deep chunk",
    "c/0": b"chunk c0",
    "name with space+plus": b"odd key",
    "z": b"0123456789abcdef",
}


@dataclass
class Bucket:
    api: ApiClient
    endpoint: str
    name: str
    embedded: bool

    def client(self, signed: bool = False):
        config = Config(s3={"addressing_style": "path"})
        if not signed:
            config = config.merge(Config(signature_version=UNSIGNED))
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            config=config,
            aws_access_key_id="anything",
            aws_secret_access_key="anything",
        )

    def reader(self):
        """The client for HEAD requests: moto (5.2) refuses an unsigned HEAD that the
        public-read policy allows (S3 allows it: HeadObject is s3:GetObject), so on moto
        it signs; the archive's bucket is read unsigned."""
        return self.client(signed=not self.embedded)

    def fs(self) -> s3fs.S3FileSystem:
        """s3fs, unsigned on the archive's bucket (signed on moto, see ``reader``)."""
        return s3fs.S3FileSystem(**self.storage_options())

    def storage_options(self) -> dict:
        options = {"endpoint_url": self.endpoint, "client_kwargs": {"region_name": "us-east-1"}}
        if self.embedded:
            return {"anon": True, **options}
        return {"key": "testing", "secret": "testing", **options}


@pytest.fixture
def bucket(make_api, backend) -> Iterator[Bucket]:
    if backend != "embedded":
        api = make_api()
        api.make_bucket_public()
        settings = api.archive.settings
        assert settings.s3_endpoint_url and settings.s3_bucket
        yield Bucket(api, settings.s3_endpoint_url, settings.s3_bucket, False)
        return
    port = free_port()
    api = make_api(base_url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(
        uvicorn.Config(create_app(api.archive), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Bucket(api, f"http://127.0.0.1:{port}", api.archive.settings.folder_bucket_name, True)
    finally:
        server.should_exit = True
        thread.join(30)


def open_zarr(api, files: dict[str, bytes], embargo: str | None = None) -> tuple[str, str]:
    owner = api.make_user(f"owner-{uuid.uuid4().hex[:8]}@example.org")
    dandiset = (
        api.create_dandiset(owner, embargo=embargo) if embargo else api.create_dandiset(owner)
    )
    zarr_id = api.create_zarr(owner, dandiset)
    api.put_zarr_files(owner, zarr_id, files)
    api.finalize_zarr(owner, zarr_id)
    api.wait_for_jobs()
    return owner, zarr_id


def listed(client, **params) -> tuple[list[str], list[str], int]:
    """Every key and common prefix of a paginated ListObjectsV2, and the page count."""
    keys, prefixes, pages = [], [], 0
    for page in client.get_paginator("list_objects_v2").paginate(**params):
        pages += 1
        keys += [item["Key"] for item in page.get("Contents", [])]
        prefixes += [item["Prefix"] for item in page.get("CommonPrefixes", [])]
    return keys, prefixes, pages


def test_boto3_lists_and_reads_the_bucket(bucket: Bucket):
    _, zarr_id = open_zarr(bucket.api, FILES)
    base = f"zarr/{zarr_id}/"
    s3 = bucket.client()

    page = s3.list_objects_v2(Bucket=bucket.name, Prefix=base, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == [base + "a/", base + "c/"]
    contents = {item["Key"]: item for item in page["Contents"]}
    assert sorted(contents) == [base + ".zattrs", base + "name with space+plus", base + "z"]
    z = contents[base + "z"]
    assert z["Size"] == 16 and z["ETag"] == f'"{hashlib.md5(FILES["z"]).hexdigest()}"'
    assert page["KeyCount"] == 5 and page["IsTruncated"] is False

    # Beyond max-keys: pages, in S3's key order, with and without a delimiter.
    everything = sorted(base + path for path in FILES)
    keys, _, pages = listed(s3, Bucket=bucket.name, Prefix=base, PaginationConfig={"PageSize": 2})
    assert keys == everything and pages == 4
    keys, prefixes, pages = listed(
        s3, Bucket=bucket.name, Prefix=base, Delimiter="/", PaginationConfig={"PageSize": 1}
    )
    assert prefixes == [base + "a/", base + "c/"] and pages == 5
    assert keys == [base + ".zattrs", base + "name with space+plus", base + "z"]
    after = s3.list_objects_v2(Bucket=bucket.name, Prefix=base, StartAfter=base + "a/1")
    assert [item["Key"] for item in after["Contents"]] == everything[3:]
    # The older ListObjects, with markers.
    v1 = s3.list_objects(Bucket=bucket.name, Prefix=base + "a/", MaxKeys=2)
    assert [item["Key"] for item in v1["Contents"]] == [base + "a/0", base + "a/1"]
    assert v1["IsTruncated"] is True
    rest = s3.list_objects(Bucket=bucket.name, Prefix=base + "a/", Marker=base + "a/1")
    assert [item["Key"] for item in rest["Contents"]] == [base + "a/b/0"]
    assert s3.list_objects_v2(Bucket=bucket.name, Prefix=base + "nothing/")["KeyCount"] == 0

    head = bucket.reader().head_object(Bucket=bucket.name, Key=base + "z")
    assert head["ContentLength"] == 16
    assert head["ETag"] == f'"{hashlib.md5(FILES["z"]).hexdigest()}"'
    assert head["LastModified"].year >= 2024
    part = s3.get_object(Bucket=bucket.name, Key=base + "z", Range="bytes=4-9")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["Body"].read() == b"456789" and part["ContentRange"] == "bytes 4-9/16"
    tail = s3.get_object(Bucket=bucket.name, Key=base + "z", Range="bytes=-3")
    assert tail["Body"].read() == b"def" and tail["ContentRange"] == "bytes 13-15/16"
    odd = s3.get_object(Bucket=bucket.name, Key=base + "name with space+plus")
    assert odd["Body"].read() == b"odd key"

    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=bucket.name, Key=base + "z", Range="bytes=16-")
    assert refused.value.response["Error"]["Code"] == "InvalidRange"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=bucket.name, Key=base + "missing")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
    with pytest.raises(ClientError) as no_head:
        bucket.reader().head_object(Bucket=bucket.name, Key=base + "missing")
    assert no_head.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    bucket.reader().head_bucket(Bucket=bucket.name)
    assert s3.get_bucket_location(Bucket=bucket.name)["LocationConstraint"] is None


def test_s3fs_and_zarr_read_a_live_zarr_from_the_bucket(bucket: Bucket, tmp_path):
    api = bucket.api
    owner = api.make_user()
    data = write_ome_zarr(tmp_path / "img.ome.zarr")
    dandiset = api.create_dandiset(owner)
    asset = upload_asset(
        api, owner, dandiset, "img.ome.zarr", tree_files(tmp_path / "img.ome.zarr")
    )
    api.wait_for_jobs()
    root = f"{bucket.name}/zarr/{asset['zarr']}"
    fs = bucket.fs()
    assert sorted(fs.ls(root, detail=False)) == [
        f"{root}/{n}" for n in (".zattrs", ".zgroup", "0", "1")
    ]
    zgroup = fs.cat(f"{root}/.zgroup")
    assert fs.cat_file(f"{root}/.zgroup", start=2, end=6) == zgroup[2:6]
    assert fs.info(f"{root}/.zgroup")["size"] == len(zgroup)
    assert fs.info(f"{root}/0")["type"] == "directory"

    group = zarr.open_group(f"s3://{root}", mode="r", storage_options=bucket.storage_options())
    assert np.array_equal(group["0"][:], data)
    assert group.attrs["multiscales"][0]["name"] == "test image"


def test_embargoed_objects_are_neither_listed_nor_read_anonymously(bucket: Bucket):
    if not bucket.embedded:
        pytest.skip("on S3 the bucket policy keeps embargoed objects private (moto ignores it)")
    api = bucket.api
    _, open_id = open_zarr(api, {"0": b"open chunk", "1": b"open chunk 1"})
    secret_owner, secret_id = open_zarr(api, {"0": b"secret chunk"}, embargo="true")
    open_owner = api.make_user("open-owner@example.org")
    api.add_asset(open_owner, api.create_dandiset(open_owner), "open.bin", b"open blob")
    secret_dandiset = api.create_dandiset(secret_owner, embargo="true")
    api.add_asset(secret_owner, secret_dandiset, "secret.bin", b"secret blob")
    api.wait_for_jobs()
    open_blob, secret_blob = api.blob_key(b"open blob"), api.blob_key(b"secret blob")

    for s3 in (bucket.client(), bucket.client(signed=True)):  # signatures grant nothing
        keys, _, _ = listed(s3, Bucket=bucket.name, PaginationConfig={"PageSize": 3})
        assert open_blob in keys and f"zarr/{open_id}/0" in keys
        assert not [k for k in keys if secret_id in k or k == secret_blob], keys
        _, prefixes, _ = listed(s3, Bucket=bucket.name, Prefix="zarr/", Delimiter="/")
        assert prefixes == [f"zarr/{open_id}/"]
        for key in (secret_blob, f"zarr/{secret_id}/0"):
            with pytest.raises(ClientError) as refused:
                s3.get_object(Bucket=bucket.name, Key=key)
            assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert s3.get_object(Bucket=bucket.name, Key=open_blob)["Body"].read() == b"open blob"
    fs = bucket.fs()
    assert fs.ls(f"{bucket.name}/zarr", detail=False) == [f"{bucket.name}/zarr/{open_id}"]
    with pytest.raises(PermissionError):  # S3's 403, as s3fs reports it
        fs.cat(f"{bucket.name}/zarr/{secret_id}/0")


def test_s3_errors_and_what_is_not_answered(bucket: Bucket):
    if not bucket.embedded:
        pytest.skip("the folder store's own answers")
    s3 = bucket.client()
    with pytest.raises(ClientError) as no_bucket:
        s3.list_objects_v2(Bucket="another-bucket")
    assert no_bucket.value.response["Error"]["Code"] == "NoSuchBucket"
    with pytest.raises(ClientError) as bad_token:
        s3.list_objects_v2(Bucket=bucket.name, ContinuationToken="%%%")
    assert bad_token.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError) as not_answered:
        s3.get_bucket_acl(Bucket=bucket.name)
    assert not_answered.value.response["Error"]["Code"] == "NotImplemented"
    with httpx.Client(base_url=bucket.endpoint) as plain:
        assert plain.get(f"/{bucket.name}?max-keys=x").status_code == 400
        listing = plain.get(f"/{bucket.name}/", params={"list-type": "2", "prefix": "../"})
        assert listing.status_code == 200 and "<KeyCount>0</KeyCount>" in listing.text
        # A Range S3 would ignore (several ranges): the whole object.
        _, zarr_id = open_zarr(bucket.api, {"z": b"0123456789"})
        whole = plain.get(f"/{bucket.name}/zarr/{zarr_id}/z", headers={"Range": "bytes=0-1,4-5"})
        assert (whole.status_code, whole.content) == (200, b"0123456789")
        etag = whole.headers["etag"]
        same = plain.get(f"/{bucket.name}/zarr/{zarr_id}/z", headers={"If-None-Match": etag})
        assert same.status_code == 304
        other = plain.get(f"/{bucket.name}/zarr/{zarr_id}/z", headers={"If-Match": '"x"'})
        assert other.status_code == 412 and "PreconditionFailed" in other.text
        # Pages are still pages for browsers.
        assert "text/html" in plain.get("/no-such-page").headers["content-type"]


def test_the_aws_cli_lists_and_copies_unsigned(bucket: Bucket, tmp_path):
    if not bucket.embedded:
        pytest.skip("moto refuses the unsigned HEAD that `aws s3 cp` sends (see Bucket.reader)")
    _, zarr_id = open_zarr(bucket.api, {"a/0": b"zero", "a/1": b"one", "b": b"bee"})
    aws = [str(BIN / "aws"), "--no-sign-request", "--endpoint-url", bucket.endpoint]
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    root = f"s3://{bucket.name}/zarr/{zarr_id}/"
    listing = subprocess.run([*aws, "s3", "ls", root], capture_output=True, text=True, env=env)
    assert listing.returncode == 0, listing.stderr
    assert "PRE a/" in listing.stdout and listing.stdout.rstrip().endswith(" 3 b")
    copied = subprocess.run(
        [*aws, "s3", "cp", "--recursive", root, str(tmp_path / "copy")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert copied.returncode == 0, copied.stderr
    assert (tmp_path / "copy" / "a" / "1").read_bytes() == b"one"
    assert (tmp_path / "copy" / "b").read_bytes() == b"bee"
