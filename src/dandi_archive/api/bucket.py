"""What S3 would serve, for the folder store: part uploads, upload completion and
object reads. Only mounted when the bucket is a local folder.

Requests are authorised by the signed token in the URL (the folder store's presigned
URLs), not by API keys, exactly like S3 presigned URLs. Objects of open Dandisets are
public, as in a public bucket; embargoed blobs need a signed URL.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy import select

from ..db.models import AssetBlob
from ..storage.folder import FolderStore, UploadError
from ..storage.signing import InvalidToken
from .deps import ArchiveDep

router = APIRouter(include_in_schema=False)

BUFFER = 4 * 2**20  # bytes handed to the writer thread at a time
MAX_COMPLETE_BODY = 2 * 2**20


def s3_error(code: str, message: str, status: int) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


def folder_store(archive: ArchiveDep) -> FolderStore:
    store = archive.store
    assert isinstance(store, FolderStore)
    return store


@router.put("/storage/parts/{token}")
async def put_part(token: str, request: Request, archive: ArchiveDep) -> Response:
    store = folder_store(archive)
    try:
        claims = store.signer.verify(token, "put-part")
        writer = await anyio.to_thread.run_sync(store.open_part, claims)
    except InvalidToken as exc:
        return s3_error("AccessDenied", str(exc), 403)
    except UploadError as exc:
        return s3_error(exc.code, exc.message, exc.status)
    try:
        # The chunks are collected as they arrive and handed over as a list: joining them
        # into one buffer here would copy every byte on the event loop, which serves all
        # uploads at once (that copy, not hashing or disk, limited upload throughput).
        pending: list[bytes] = []
        pending_size = 0
        async for chunk in request.stream():
            if chunk:
                pending.append(chunk)
                pending_size += len(chunk)
            if pending_size >= BUFFER:
                await anyio.to_thread.run_sync(writer.write, pending)
                pending, pending_size = [], 0
        if pending:
            await anyio.to_thread.run_sync(writer.write, pending)
        md5 = await anyio.to_thread.run_sync(writer.finish)
    except UploadError as exc:
        return s3_error(exc.code, exc.message, exc.status)
    finally:
        writer.close()
    sent_md5 = request.headers.get("content-md5")
    if sent_md5 and base64.b64decode(sent_md5).hex() != md5:
        return s3_error(
            "BadDigest", "The Content-MD5 you specified did not match what we received.", 400
        )
    return Response(status_code=200, headers={"ETag": f'"{md5}"'})


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
    key = escape(claims["key"])
    result = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Location>{escape(store.public_url(claims['key']))}</Location>"
        f"<Bucket>bucket</Bucket><Key>{key}</Key><ETag>&quot;{etag}&quot;</ETag>"
        "</CompleteMultipartUploadResult>"
    )
    return Response(result, media_type="application/xml")


def _parse_complete_body(body: bytes) -> list[tuple[int, str]]:
    try:
        root = ET.fromstring(body)
        parts = []
        for part in root.iter():
            if part.tag.rpartition("}")[2] != "Part":
                continue
            fields = {child.tag.rpartition("}")[2]: (child.text or "") for child in part}
            parts.append((int(fields["PartNumber"]), fields["ETag"].strip().strip('"')))
    except (ET.ParseError, KeyError, ValueError) as exc:
        raise UploadError(
            "MalformedXML", f"The CompleteMultipartUpload body is invalid: {exc}"
        ) from exc
    return parts


@router.api_route("/bucket/{key:path}", methods=["GET", "HEAD"])
def read_object(key: str, archive: ArchiveDep, token: str | None = None) -> Response:
    store = folder_store(archive)
    filename = None
    if token is not None:
        try:
            claims = store.signer.verify(token, "get")
        except InvalidToken as exc:
            return s3_error("AccessDenied", str(exc), 403)
        if claims["key"] != key:
            return s3_error("AccessDenied", "The URL was signed for another object.", 403)
        filename = claims.get("filename")
    elif _is_embargoed(archive, key):
        return s3_error("AccessDenied", "This object is embargoed; use a signed URL.", 403)
    try:
        info = store.head(key)
    except ValueError:
        info = None
    if info is None or key.endswith("/"):
        return s3_error("NoSuchKey", "The specified key does not exist.", 404)
    return FileResponse(
        store.path(key),
        filename=filename,
        content_disposition_type="attachment",
        media_type="application/octet-stream" if key.startswith("blobs/") else None,
        headers={"ETag": f'"{info.etag}"', "Accept-Ranges": "bytes"},
    )


def _is_embargoed(archive: ArchiveDep, key: str) -> bool:
    if not key.startswith("blobs/"):
        return False
    with archive.db.session() as session:
        return bool(session.scalar(select(AssetBlob.embargoed).where(AssetBlob.key == key)))
