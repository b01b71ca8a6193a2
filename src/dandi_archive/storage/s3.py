"""The bucket on any S3-compatible service, through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import boto3
from botocore.client import Config
from botocore.exceptions import ClientError
from dandischema.digests.dandietag import Part

from .base import ObjectInfo

EMBARGO_TAGGING = "embargoed=true"


class S3Store:
    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                signature_version="s3v4",
                # Path-style addressing works with every S3-compatible service.
                s3={"addressing_style": "path"} if endpoint_url else {},
                retries={"mode": "standard", "max_attempts": 5},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (for tests and fresh installs)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    # -- multipart uploads -----------------------------------------------------------

    def create_multipart_upload(self, key: str, *, embargoed: bool) -> str:
        extra = {"Tagging": EMBARGO_TAGGING} if embargoed else {}
        response = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType="application/octet-stream", **extra
        )
        return response["UploadId"]

    def presign_upload_part(self, key: str, multipart_id: str, part: Part, expires: int) -> str:
        return self.client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "UploadId": multipart_id,
                "PartNumber": part.number,
                "ContentLength": part.size,
            },
            ExpiresIn=expires,
            HttpMethod="PUT",
        )

    def presign_complete(
        self, key: str, multipart_id: str, *, etag: str, part_sizes: list[int], expires: int
    ) -> str:
        return self.client.generate_presigned_url(
            "complete_multipart_upload",
            Params={"Bucket": self.bucket, "Key": key, "UploadId": multipart_id},
            ExpiresIn=expires,
            HttpMethod="POST",
        )

    def abort_multipart_upload(self, key: str, multipart_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=multipart_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("NoSuchUpload", "404"):
                raise

    def multipart_upload_exists(self, key: str, multipart_id: str) -> bool:
        try:
            self.client.list_parts(Bucket=self.bucket, Key=key, UploadId=multipart_id, MaxParts=1)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchUpload", "404"):
                return False
            raise
        return True

    # -- objects ---------------------------------------------------------------------

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return ObjectInfo(key=key, size=response["ContentLength"], etag=response["ETag"].strip('"'))

    def iter_bytes(self, key: str, chunk_size: int = 8 * 2**20) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        # A PUT replaces an object atomically: readers get the old or the new one.
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        # upload_file streams from disk, in parts for large files; S3 swaps the object
        # in only once the whole upload completes.
        self.client.upload_file(
            str(path), self.bucket, key, ExtraArgs={"ContentType": content_type}
        )
        path.unlink()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def make_public(self, key: str) -> None:
        # The bucket policy denies anonymous reads of objects tagged embargoed=true.
        self.client.delete_object_tagging(Bucket=self.bucket, Key=key)

    def public_url(self, key: str) -> str:
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/{self.bucket}/{quote(key)}"
        return f"https://{self.bucket}.s3.amazonaws.com/{quote(key)}"

    def key_for_url(self, url: str) -> str | None:
        prefix = self.public_url("")
        return unquote(url.partition("?")[0][len(prefix) :]) if url.startswith(prefix) else None

    def presign_download(self, key: str, expires: int, filename: str | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    def list_keys(self, prefix: str) -> Iterator[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield ObjectInfo(key=obj["Key"], size=obj["Size"], etag=obj["ETag"].strip('"'))
