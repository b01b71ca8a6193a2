"""The bucket on any S3-compatible service, through boto3."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import boto3
from botocore.client import Config
from botocore.exceptions import BotoCoreError, ClientError
from dandischema.digests.dandietag import Part

from dandi_archive.storage.base import ObjectInfo
from dandi_archive.storage.presign import PROBE_KEY, QuerySigner

EMBARGO_TAGGING = "embargoed=true"


def bucket_policy(bucket: str) -> dict[str, Any]:
    """The bucket policy the archive needs: every object public-read, except objects
    tagged ``embargoed=true`` (the archive tags every object of an embargoed Dandiset
    and removes the tag when the embargo ends).

    Only ``s3:GetObject`` is granted: listing stays private, as a listing would name
    embargoed objects; everything public is reachable by key (the manifests under
    ``dandisets/`` name every blob). The condition allows rather than denies, so the
    archive's own presigned URLs for embargoed objects keep working (an explicit Deny
    would override them). ``StringNotEquals`` is true when an object has no such tag.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadExceptEmbargoed",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringNotEquals": {"s3:ExistingObjectTag/embargoed": "true"}},
            }
        ],
    }


class BucketPolicyError(Exception):
    """The bucket policy could not be read or set (message says why and what to do)."""


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
        self._credentials = (access_key_id, secret_access_key)
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

    @cached_property
    def _signer(self) -> QuerySigner | None:
        """Presigns without botocore's per-URL machinery; only for static credentials
        (from the environment or an instance profile they may rotate or carry a token)."""
        access_key_id, secret_access_key = self._credentials
        if not access_key_id or not secret_access_key:
            return None
        probe = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": PROBE_KEY}, ExpiresIn=60
        )
        return QuerySigner(
            probe,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            region=self.region,
        )

    @property
    def bucket_name(self) -> str:
        return self.bucket

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (for tests and fresh installs), with
        the archive's bucket policy."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)
            self.apply_policy()

    def problem(self) -> str | None:
        # One try with short timeouts: a health check must answer while S3 does not.
        try:
            self._quick_client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket", "NotFound"):
                return "the bucket does not exist"
            if code in ("403", "AccessDenied", "Forbidden"):
                return "access to the bucket is denied"
            return f"the bucket answered {code or 'an error'}"
        except (BotoCoreError, ValueError):
            return "the S3 endpoint cannot be reached"
        return None

    @cached_property
    def _quick_client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self._credentials[0],
            aws_secret_access_key=self._credentials[1],
            config=Config(
                s3={"addressing_style": "path"} if self.endpoint_url else {},
                retries={"max_attempts": 1},
                connect_timeout=2,
                read_timeout=3,
            ),
        )

    # -- bucket policy ---------------------------------------------------------------

    def policy(self) -> dict[str, Any]:
        return bucket_policy(self.bucket)

    def apply_policy(self) -> None:
        """Set :func:`bucket_policy` on the bucket (needs ``s3:PutBucketPolicy``).

        AWS blocks public bucket policies of new buckets by default; the block on public
        *policies* is lifted (public ACLs stay blocked). Services without that API
        (MinIO, Ceph) answer NotImplemented, which is fine.
        """
        try:
            self.client.put_public_access_block(
                Bucket=self.bucket,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": False,
                    "RestrictPublicBuckets": False,
                },
            )
        except ClientError as exc:
            if _error_code(exc) not in ("NotImplemented", "MethodNotAllowed", "501"):
                raise BucketPolicyError(
                    _policy_failure("set the public access block", exc)
                ) from exc
        try:
            self.client.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(self.policy()))
        except (ClientError, BotoCoreError) as exc:
            raise BucketPolicyError(_policy_failure("set the policy", exc)) from exc

    def policy_problem(self) -> str | None:
        """What is wrong with the live bucket policy (None if it is the archive's)."""
        try:
            live = self.client.get_bucket_policy(Bucket=self.bucket)["Policy"]
        except ClientError as exc:
            if _error_code(exc) == "NoSuchBucketPolicy":
                return f"bucket {self.bucket!r} has no policy"
            return f"the policy of bucket {self.bucket!r} cannot be read ({_error_code(exc)})"
        except BotoCoreError as exc:
            return f"the policy of bucket {self.bucket!r} cannot be read ({exc})"
        try:
            same = json.loads(live) == self.policy()
        except ValueError:
            same = False
        return None if same else f"the policy of bucket {self.bucket!r} differs from the archive's"

    # -- multipart uploads -----------------------------------------------------------

    def create_multipart_upload(self, key: str, *, embargoed: bool) -> str:
        extra = {"Tagging": EMBARGO_TAGGING} if embargoed else {}
        response = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType="application/octet-stream", **extra
        )
        return response["UploadId"]

    def presign_upload_part(self, key: str, multipart_id: str, part: Part, expires: int) -> str:
        if self._signer is not None:
            return self._signer.url(
                "PUT",
                key,
                expires,
                params={"partNumber": str(part.number), "uploadId": multipart_id},
                headers={"Content-Length": str(part.size)},
            )
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
        return ObjectInfo(
            key=key,
            size=response["ContentLength"],
            etag=response["ETag"].strip('"'),
            modified=response.get("LastModified"),
        )

    def iter_bytes(self, key: str, chunk_size: int = 8 * 2**20) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            body = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
            )["Body"]
        except ClientError as exc:
            if _error_code(exc) == "InvalidRange":  # starting at or past the end
                return b""
            raise
        try:
            return body.read()
        finally:
            body.close()

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        # A PUT replaces an object atomically: readers get the old or the new one.
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def put_file(self, key: str, path: Path, content_type: str, *, private: bool = False) -> None:
        # upload_file streams from disk, in parts for large files; S3 swaps the object
        # in only once the whole upload completes.
        extra = {"ContentType": content_type}
        if private:  # the bucket policy refuses anonymous reads of tagged objects
            extra["Tagging"] = EMBARGO_TAGGING
        self.client.upload_file(str(path), self.bucket, key, ExtraArgs=extra)
        path.unlink()

    def put_exact(
        self,
        key: str,
        path: Path,
        *,
        parts: Sequence[Part] | None,
        content_type: str,
        embargoed: bool,
    ) -> str:
        """Store the local file at ``path`` under ``key`` and return the object's ETag.

        ``parts`` None: one PUT (at most 5 GiB), the ETag is the file's MD5. Otherwise a
        multipart upload cut exactly at ``parts``, so the ETag is the dandi-etag of that
        layout. Each request carries the MD5 of its bytes, so S3 refuses any byte
        changed on the way (BadDigest). The file is left in place.
        """
        extra = {"Tagging": EMBARGO_TAGGING} if embargoed else {}
        if parts is None:
            with open(path, "rb") as fh:
                md5 = _md5_base64(fh, 0, path.stat().st_size)
                fh.seek(0)
                response = self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=fh,
                    ContentMD5=md5,
                    ContentType=content_type,
                    **extra,
                )
            return response["ETag"].strip('"')
        upload_id = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type, **extra
        )["UploadId"]
        try:
            done = []
            with open(path, "rb") as fh:
                for part in parts:
                    md5 = _md5_base64(fh, part.offset, part.size)
                    response = self.client.upload_part(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=part.number,
                        Body=_FileSlice(fh, part.offset, part.size),
                        ContentLength=part.size,
                        ContentMD5=md5,
                    )
                    done.append({"PartNumber": part.number, "ETag": response["ETag"]})
            response = self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
            )
        except BaseException:
            self.abort_multipart_upload(key, upload_id)
            raise
        return response["ETag"].strip('"')

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

    def presign_download(
        self, key: str, expires: int, filename: str | None = None, method: str = "GET"
    ) -> str:
        disposition = f'attachment; filename="{filename}"' if filename else None
        if self._signer is not None:
            query = {"response-content-disposition": disposition} if disposition else None
            return self._signer.url(method, key, expires, params=query)
        params = {"Bucket": self.bucket, "Key": key}
        if disposition:
            params["ResponseContentDisposition"] = disposition
        operation = "head_object" if method == "HEAD" else "get_object"
        return self.client.generate_presigned_url(
            operation, Params=params, ExpiresIn=expires, HttpMethod=method
        )

    def presign_put(self, key: str, *, md5_base64: str, expires: int, embargoed: bool) -> str:
        # Content-MD5 is signed: S3 refuses a body with another digest (BadDigest).
        params = {"Bucket": self.bucket, "Key": key, "ContentMD5": md5_base64}
        if embargoed:
            params["Tagging"] = EMBARGO_TAGGING
        return self.client.generate_presigned_url(
            "put_object", Params=params, ExpiresIn=expires, HttpMethod="PUT"
        )

    def list_keys(self, prefix: str, start_after: str = "") -> Iterator[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        extra = {"StartAfter": start_after} if start_after else {}
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, **extra):
            for obj in page.get("Contents", []):
                yield _object_info(obj)

    def list_directory(self, prefix: str) -> tuple[list[ObjectInfo], list[str]]:
        paginator = self.client.get_paginator("list_objects_v2")
        objects: list[ObjectInfo] = []
        prefixes: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            objects.extend(_object_info(obj) for obj in page.get("Contents", []))
            prefixes.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
        return objects, prefixes

    def copy(self, source: str, target: str, *, if_etag: str) -> bool:
        try:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=target,
                CopySource={"Bucket": self.bucket, "Key": source},
                CopySourceIfMatch=f'"{if_etag}"',
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("PreconditionFailed", "412", "NoSuchKey", "404"):
                return False
            raise
        return True

    def delete_many(self, keys: Iterable[str]) -> None:
        batch: list[str] = []
        for key in keys:
            batch.append(key)
            if len(batch) == 1000:  # the most one DeleteObjects request takes
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)

    def _delete_batch(self, keys: list[str]) -> None:
        self.client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
        )

    def fsspec_location(self, prefix: str) -> tuple[str, dict[str, Any]]:
        key, secret = self._credentials
        options: dict[str, Any] = {"client_kwargs": {"region_name": self.region}}
        if self.endpoint_url:
            options["endpoint_url"] = self.endpoint_url
        if key and secret:
            options.update(key=key, secret=secret)
        return f"s3://{self.bucket}/{prefix}", options


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def _policy_failure(what: str, exc: Exception) -> str:
    reason = _error_code(exc) if isinstance(exc, ClientError) else str(exc)
    return (
        f"Could not {what} ({reason}). Print the policy with `dandi-archive bucket policy` "
        "and have someone with s3:PutBucketPolicy set it."
    )


def _md5_base64(fh: io.BufferedReader, offset: int, size: int) -> str:
    """Content-MD5 of ``size`` bytes of an open file from ``offset``, read in chunks."""
    digest = hashlib.md5()
    fh.seek(offset)
    left = size
    while left:
        chunk = fh.read(min(left, 8 * 2**20))
        if not chunk:
            raise OSError(f"{fh.name}: shorter than expected")
        digest.update(chunk)
        left -= len(chunk)
    return base64.b64encode(digest.digest()).decode()


class _FileSlice(io.RawIOBase):
    """``size`` bytes of an open file from ``offset``, as a seekable file of their own:
    a part's body streamed from disk (botocore reads it, and rewinds it to retry)."""

    def __init__(self, fh: io.BufferedReader, offset: int, size: int) -> None:
        self.fh, self.offset, self.size, self.position = fh, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = min(max(base + position, 0), self.size)
        return self.position

    def read(self, size: int = -1) -> bytes:
        left = self.size - self.position
        size = left if size is None or size < 0 else min(size, left)
        self.fh.seek(self.offset + self.position)
        data = self.fh.read(size)
        self.position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __len__(self) -> int:
        return self.size


def _object_info(obj: dict[str, Any]) -> ObjectInfo:
    return ObjectInfo(
        key=obj["Key"],
        size=obj["Size"],
        etag=obj["ETag"].strip('"'),
        modified=obj.get("LastModified"),
    )
