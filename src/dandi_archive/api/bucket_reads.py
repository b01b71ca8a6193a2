"""The read side of the S3 API, for the folder store's bucket: what boto3, s3fs, the AWS
CLI and zarr (through s3fs) call when reading a public bucket.

* ``GET /{bucket}?list-type=2``: ListObjectsV2 (prefix, delimiter, max-keys,
  start-after, continuation-token, encoding-type=url); without ``list-type``, the older
  ListObjects (marker). Only what anonymous reads are served is listed (``access.listing``).
* ``GET /{bucket}?location``: GetBucketLocation; ``HEAD /{bucket}``: HeadBucket.
* Objects (``api.bucket.read_object``): GetObject with one byte range (206 and
  Content-Range; 416 InvalidRange past the end), HeadObject, If-Match/If-None-Match.

Requests are answered as anonymous: AWS signatures (an ``Authorization`` header or
``X-Amz-Signature`` in the query) are not checked, and grant nothing more than no
signature would, so a client set up with any credentials reads what an unsigned one
reads. Only the archive's own signed URLs (``?token=``) read embargoed objects.
Errors are S3's XML documents with S3's codes and statuses.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote, quote_plus

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from dandi_archive.access.listing import MAX_KEYS, Listing, list_objects
from dandi_archive.api.deps import ArchiveDep
from dandi_archive.storage.base import ObjectInfo

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
REGION = "us-east-1"  # what S3 reports for a bucket without a location constraint
CHUNK = 2**20
# Sub-resources of a bucket or object this stand-in does not answer (S3 would refuse
# most of them to an anonymous caller anyway).
UNSUPPORTED = frozenset(
    {
        "acl",
        "policy",
        "policyStatus",
        "versioning",
        "versions",
        "uploads",
        "uploadId",
        "tagging",
        "cors",
        "lifecycle",
        "website",
        "logging",
        "notification",
        "replication",
        "encryption",
        "ownershipControls",
        "publicAccessBlock",
        "attributes",
        "torrent",
        "retention",
        "legal-hold",
        "object-lock",
        "restore",
        "select",
        "accelerate",
        "requestPayment",
        "analytics",
        "inventory",
        "metrics",
        "intelligent-tiering",
    }
)
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def s3_error(code: str, message: str, status: int, **fields: str) -> Response:
    """An error as S3 answers it: ``<Error><Code>…</Code><Message>…</Message>…``."""
    root = ET.Element("Error")
    _text(root, "Code", code)
    _text(root, "Message", message)
    for name, value in fields.items():
        _text(root, name, value)
    return xml_response(root, status)


def xml_response(root: ET.Element, status: int = 200, headers: dict | None = None) -> Response:
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    body = (declaration + ET.tostring(root, encoding="unicode")).encode()
    return Response(body, status_code=status, media_type="application/xml", headers=headers)


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = value
    return element


def unsupported(query: set[str]) -> Response | None:
    """A ``NotImplemented`` answer to a request for a sub-resource (``?acl`` …)."""
    asked = sorted(query & UNSUPPORTED)
    if not asked:
        return None
    return s3_error(
        "NotImplemented",
        f"This bucket answers reads only (ListObjects, ListObjectsV2, GetObject, HeadObject, "
        f"HeadBucket, GetBucketLocation); ?{asked[0]} is not one of them.",
        501,
    )


def no_such_bucket(request: Request) -> Response | None:
    """NoSuchBucket for an S3 client's request to an address that is no route, when
    the request shows it comes from one (an SDK's headers, an AWS signature, a
    listing's query): a misspelt bucket name, told in S3's words rather than a page."""
    headers = request.headers
    authorization = headers.get("authorization", "")
    from_s3_client = (
        "amz-sdk-invocation-id" in headers
        or "x-amz-content-sha256" in headers
        or authorization.startswith(("AWS4-HMAC-SHA256 ", "AWS "))
        or "X-Amz-Signature" in request.query_params
        or "list-type" in request.query_params
    )
    if not from_s3_client:
        return None
    bucket = request.url.path.strip("/").partition("/")[0]
    return s3_error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


# -- the bucket ------------------------------------------------------------------------


def read_bucket(request: Request, archive: ArchiveDep) -> Response:
    """GET/HEAD at the bucket's own address: HeadBucket, GetBucketLocation, listings."""
    bucket = archive.settings.folder_bucket_name
    headers = {"x-amz-bucket-region": REGION}
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers)
    query = request.query_params
    if (refused := unsupported(set(query))) is not None:
        return refused
    if "location" in query:
        root = ET.Element("LocationConstraint", xmlns=S3_NAMESPACE)  # empty: us-east-1
        return xml_response(root, headers=headers)
    version = query.get("list-type", "1")
    if version not in ("1", "2"):
        return _invalid("list-type", version, "Valid values are 1 and 2.")
    raw_max = query.get("max-keys", str(MAX_KEYS))
    if not raw_max.isdigit():
        return _invalid("max-keys", raw_max, "Provide a non-negative integer.")
    encoding = query.get("encoding-type")
    if encoding not in (None, "url"):
        return _invalid("encoding-type", encoding, "The only valid value is url.")
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    token = query.get("continuation-token")
    if version == "2":
        if token is not None:
            after = _decode_token(token)
            if after is None:
                return _invalid(
                    "continuation-token", token, "The continuation token provided is incorrect."
                )
        else:
            after = query.get("start-after", "")
    else:
        after = query.get("marker", "")
    store = archive.store
    with archive.db.session() as session:
        listing = list_objects(
            store,
            session,
            prefix=prefix,
            delimiter=delimiter,
            after=after,
            max_keys=min(int(raw_max), MAX_KEYS),
        )
    encode = (lambda value: quote_plus(value, safe="/")) if encoding else (lambda value: value)
    root = ET.Element("ListBucketResult", xmlns=S3_NAMESPACE)
    _text(root, "Name", bucket)
    _text(root, "Prefix", encode(prefix))
    if version == "2":
        if token is not None:
            _text(root, "ContinuationToken", token)
        elif "start-after" in query:
            _text(root, "StartAfter", encode(after))
        if listing.truncated and listing.last is not None:
            _text(root, "NextContinuationToken", _encode_token(listing.last))
        _text(root, "KeyCount", str(len(listing.contents) + len(listing.prefixes)))
    else:
        _text(root, "Marker", encode(after))
        if listing.truncated and listing.last is not None:
            _text(root, "NextMarker", encode(listing.last))
    _text(root, "MaxKeys", str(min(int(raw_max), MAX_KEYS)))
    if delimiter:
        _text(root, "Delimiter", encode(delimiter))
    if encoding:
        _text(root, "EncodingType", encoding)
    _text(root, "IsTruncated", "true" if listing.truncated else "false")
    _contents(root, listing, encode)
    return xml_response(root, headers=headers)


def _contents(root: ET.Element, listing: Listing, encode) -> None:
    for info in listing.contents:
        entry = ET.SubElement(root, "Contents")
        _text(entry, "Key", encode(info.key))
        if info.modified is not None:
            stamp = info.modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            _text(entry, "LastModified", stamp)
        _text(entry, "ETag", f'"{info.etag}"')
        _text(entry, "Size", str(info.size))
        _text(entry, "StorageClass", "STANDARD")
    for prefix in listing.prefixes:
        _text(ET.SubElement(root, "CommonPrefixes"), "Prefix", encode(prefix))


def _invalid(name: str, value: str, message: str) -> Response:
    return s3_error("InvalidArgument", message, 400, ArgumentName=name, ArgumentValue=value[:200])


def _encode_token(last: str) -> str:
    """The continuation token: the last key or prefix listed (S3's are opaque too)."""
    return base64.urlsafe_b64encode(last.encode()).decode()


def _decode_token(token: str) -> str | None:
    try:
        last = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None
    return last or None


# -- objects ---------------------------------------------------------------------------


class Unsatisfiable(Exception):
    """A Range that starts past the object's end (S3: 416 InvalidRange)."""


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes a Range header asks for, or None when S3 would ignore it
    and send the whole object (not bytes, several ranges, malformed)."""
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        if int(last) == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = size - 1 if not last else int(last)
    if last and end < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return start, min(end, size - 1)


def precondition(request: Request, etag: str) -> Response | None:
    """S3's answer to If-Match / If-None-Match with the object's ETag, if it differs."""
    quoted = f'"{etag}"'
    if_match = request.headers.get("if-match")
    if if_match is not None and not _etag_in(if_match, quoted):
        return s3_error(
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            412,
            Condition="If-Match",
        )
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _etag_in(if_none_match, quoted):
        return Response(status_code=304, headers={"ETag": quoted})
    return None


def _etag_in(header: str, quoted: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or quoted in tags or quoted.strip('"') in tags


def object_headers(path: Path, info: ObjectInfo, media_type: str | None) -> dict[str, str]:
    return {
        "ETag": f'"{info.etag}"',
        "Last-Modified": formatdate(os.stat(path).st_mtime, usegmt=True),
        "Accept-Ranges": "bytes",
        "Content-Type": media_type or "binary/octet-stream",
    }


def ranged_response(
    request: Request,
    path: Path,
    info: ObjectInfo,
    media_type: str | None,
    header: str,
    filename: str | None = None,
) -> Response:
    """The answer to a GET or HEAD with a Range header, as S3 gives it (a download URL's
    ``filename`` becomes its Content-Disposition, as for the whole object)."""
    headers = object_headers(path, info, media_type)
    if filename:
        quoted = quote(filename)
        headers["Content-Disposition"] = (
            f'attachment; filename="{filename}"'
            if quoted == filename
            else f"attachment; filename*=utf-8''{quoted}"
        )
    try:
        span = byte_range(header, info.size)
    except Unsatisfiable:
        response = s3_error(
            "InvalidRange",
            "The requested range is not satisfiable",
            416,
            RangeRequested=header[:200],
            ActualObjectSize=str(info.size),
        )
        response.headers["Content-Range"] = f"bytes */{info.size}"
        return response
    if span is None:
        start, end, status = 0, info.size - 1, 200
    else:
        (start, end), status = span, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    headers["Content-Length"] = str(end - start + 1)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    return StreamingResponse(_read(path, start, end - start + 1), status, headers=headers)


def _read(path: Path, start: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        fh.seek(start)
        while length > 0:
            chunk = fh.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
