"""What S3 would serve, for the folder store: upload completion and object reads (part
and object PUTs have a lane of their own, ``api.signed_puts``). Only mounted when the
bucket is a local folder.

Objects are served S3 path-style at ``/{bucket name}/{key}`` (the setting
``folder_bucket_name``; URLs the archive hands out use it) and, for URLs written before
that, at ``/bucket/{key}``: the same routes, the same rules.

The read side of the S3 API (listings, ranged GetObject, HeadObject, HeadBucket,
GetBucketLocation) is in ``bucket_reads``: boto3, s3fs and the AWS CLI read the bucket
at ``{archive}/{bucket name}`` as they read S3, without signing.

Requests are authorised by the signed token in the URL (the folder store's presigned
URLs), not by API keys, exactly like S3 presigned URLs. Objects of open Dandisets are
public, as in a public bucket; embargoed objects need a signed URL, and blobs that
failed fixity are not served (see ``access.bucket``, the one rule for reads).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import anyio
import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from fastapi.routing import iter_route_contexts

from dandi_archive.access.bucket import read_refusal
from dandi_archive.api.bucket_reads import (
    S3_NAMESPACE,
    object_headers,
    precondition,
    ranged_response,
    read_bucket,
    s3_error,
    unsupported,
    xml_response,
)
from dandi_archive.api.deps import ArchiveDep
from dandi_archive.storage.folder import FolderStore, UploadError
from dandi_archive.storage.signing import InvalidToken

router = APIRouter(include_in_schema=False)
LEGACY_PREFIX = "/bucket/"

MAX_COMPLETE_BODY = 2 * 2**20


def folder_store(archive: ArchiveDep) -> FolderStore:
    store = archive.store
    assert isinstance(store, FolderStore)
    return store


@router.post("/storage/complete/{token}")
async def complete_upload(token: str, request: Request, archive: ArchiveDep) -> Response:
    store = folder_store(archive)
    try:
        claims = store.signer.verify(token, "complete")
    except InvalidToken as exc:
        return s3_error("AccessDenied", str(exc), 403)
    body = await request.body()
    if len(body) > MAX_COMPLETE_BODY:
        return s3_error("MaxMessageLengthExceeded", "The request body is too large.", 400)
    try:
        listed = _parse_complete_body(body)
        etag = await anyio.to_thread.run_sync(store.complete_upload, claims, listed)
    except UploadError as exc:
        return s3_error(exc.code, exc.message, exc.status)
    root = ET.Element("CompleteMultipartUploadResult", xmlns=S3_NAMESPACE)
    for tag, value in (
        ("Location", store.public_url(claims["key"])),
        ("Bucket", store.bucket_name),
        ("Key", claims["key"]),
        ("ETag", f'"{etag}"'),
    ):
        ET.SubElement(root, tag).text = value
    return xml_response(root)


def _parse_complete_body(body: bytes) -> list[tuple[int, str]]:
    """The (part number, ETag) pairs of a CompleteMultipartUpload body.

    The body comes from whoever holds the URL: defusedxml refuses entity definitions
    (billion laughs), external entities and DTDs before any expansion happens.
    """
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UploadError(
            "MalformedXML",
            "The CompleteMultipartUpload body may not declare a DTD or entities "
            f"({type(exc).__name__}).",
        ) from exc
    except ET.ParseError as exc:
        raise UploadError(
            "MalformedXML", f"The CompleteMultipartUpload body is invalid: {exc}"
        ) from exc
    try:
        parts = []
        for part in root.iter():
            if part.tag.rpartition("}")[2] != "Part":
                continue
            fields = {child.tag.rpartition("}")[2]: (child.text or "") for child in part}
            parts.append((int(fields["PartNumber"]), fields["ETag"].strip().strip('"')))
    except (KeyError, ValueError) as exc:
        raise UploadError(
            "MalformedXML", f"The CompleteMultipartUpload body is invalid: {exc}"
        ) from exc
    return parts


@router.api_route(LEGACY_PREFIX + "{key:path}", methods=["GET", "HEAD"])
def read_object(
    key: str, request: Request, archive: ArchiveDep, token: str | None = None
) -> Response:
    """Serve an object as a bucket would (GetObject, HeadObject; see ``bucket_reads``):
    open ones to anyone, embargoed ones with a signed URL. Whether the caller may read
    ``key`` is decided by one rule (``access.bucket``) on the key exactly as received,
    and the file served is the one stored under that very key (no other spelling, no
    symlink). The bucket's own address with a trailing slash is the bucket's."""
    store = folder_store(archive)
    if not key and request.url.path.rstrip("/") == f"/{store.bucket_name}":
        return read_bucket(request, archive)
    if (refused := unsupported(set(request.query_params))) is not None:
        return refused
    filename = None
    if token is not None:
        try:
            claims = store.signer.verify(token, "get")
        except InvalidToken as exc:
            return s3_error("AccessDenied", str(exc), 403)
        if claims["key"] != key:
            return s3_error("AccessDenied", "The URL was signed for another object.", 403)
        filename = claims.get("filename")
    with archive.db.session() as session:
        refusal = read_refusal(session, key, signed=token is not None)
    if refusal is not None:
        return s3_error(refusal.code, refusal.message, refusal.status, Key=key)
    path = store.object_file(key)
    info = store.head(key) if path is not None else None
    if path is None or info is None:
        return s3_error("NoSuchKey", "The specified key does not exist.", 404, Key=key)
    if key.startswith("blobs/"):
        media_type: str | None = "application/octet-stream"
    else:
        media_type = store.content_type(key)
    if (answer := precondition(request, info.etag)) is not None:
        return answer
    if (requested := request.headers.get("range")) is not None:
        return ranged_response(request, path, info, media_type, requested, filename)
    headers = object_headers(path, info, media_type)
    del headers["Content-Type"]
    return FileResponse(
        path,
        filename=filename,
        content_disposition_type="attachment",
        media_type=media_type,
        headers=headers,
    )


def bucket_router(bucket_name: str) -> APIRouter:
    """The bucket's own address (listings, HeadBucket, GetBucketLocation)."""
    named = APIRouter(include_in_schema=False)
    named.add_api_route(f"/{bucket_name}", read_bucket, methods=["GET", "HEAD"], name="read_bucket")
    return named


def object_router(bucket_name: str) -> APIRouter:
    """The object routes at S3's path-style address of the folder store's bucket."""
    named = APIRouter(include_in_schema=False)
    path = f"/{bucket_name}/{{key:path}}"
    named.add_api_route(path, read_object, methods=["GET", "HEAD"], name="read_named_object")
    named.include_router(bucket_router(bucket_name))
    return named


def file_prefixes(bucket_name: str) -> tuple[str, ...]:
    """Address prefixes of the folder store's routes, which carry file bytes and speak
    S3's XML errors rather than the API's JSON or the pages' HTML."""
    return ("/storage/", LEGACY_PREFIX, f"/{bucket_name}/")


class BucketNameTaken(ValueError):
    """The folder store's bucket name is the first segment of another address."""


def check_bucket_name(app_routes: list, bucket_name: str) -> None:
    """Refuse a bucket name that is the first segment of another route of the app: its
    objects' URLs would shadow that route (or be shadowed by it)."""
    ours = (f"/{bucket_name}/{{key}}", f"/{bucket_name}")
    for route in iter_route_contexts(app_routes):
        path = route.path_format or ""
        if path in ours:
            continue
        if path == f"/{bucket_name}" or path.startswith(f"/{bucket_name}/"):
            raise BucketNameTaken(
                f"DANDI_ARCHIVE_FOLDER_BUCKET_NAME={bucket_name!r} is taken by the archive's "
                f"own address {path}; choose another bucket name."
            )
