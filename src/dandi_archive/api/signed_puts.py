"""The folder store's signed PUTs — upload parts and whole objects (Zarr files) — on a
lane of their own, in front of the application's middleware and router.

These requests carry file bytes and are authorised by the token in their URL alone, as
S3's presigned URLs are: sessions, CORS, the JSON input checks and the router have
nothing to do with them. Sent through that stack, a 64 KiB Zarr object cost the server
more CPU in middleware and route matching than in hashing and storing it, and a Zarr
has tens of thousands of them (``bench/zarr_put.py`` measures the difference).

Only mounted when the bucket is a local folder (see ``api.bucket`` for the rest of what
S3 would serve: reads and upload completion).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from dandi_archive.api.bucket import LEGACY_PREFIX, s3_error
from dandi_archive.storage.base import MAX_PUT_SIZE
from dandi_archive.storage.folder import FolderStore, UploadError
from dandi_archive.storage.signing import InvalidToken

PARTS_PREFIX = "/storage/parts/"
# Bytes gathered on the event loop before a worker thread hashes and writes them: one
# thread hop for a typical Zarr object, a bounded buffer for a large part.
BUFFER = 4 * 2**20


@dataclass(frozen=True)
class LaneRoute:
    """What the request metrics and the route table read of a route: its template."""

    path_format: str
    methods: frozenset[str] = frozenset({"PUT"})


def lane_routes(bucket_name: str) -> list[LaneRoute]:
    """The addresses this lane answers, in the route table's spelling."""
    return [
        LaneRoute(PARTS_PREFIX + "{token}"),
        LaneRoute(LEGACY_PREFIX + "{key}"),
        LaneRoute(f"/{bucket_name}/{{key}}"),
    ]


class SignedPuts:
    """Answers ``PUT /storage/parts/{token}`` and ``PUT /{bucket}/{key}?token=…``; every
    other request goes on to ``app``."""

    def __init__(self, app: ASGIApp, store: FolderStore) -> None:
        self.app = app
        self.store = store
        self.object_prefixes = (f"/{store.bucket_name}/", LEGACY_PREFIX)
        parts, legacy, named = lane_routes(store.bucket_name)
        self.routes = {PARTS_PREFIX: parts, LEGACY_PREFIX: legacy, self.object_prefixes[0]: named}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "PUT":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(PARTS_PREFIX):
            scope["route"] = self.routes[PARTS_PREFIX]
            response = await self.put_part(path[len(PARTS_PREFIX) :], Request(scope, receive))
        else:
            prefix = next((p for p in self.object_prefixes if path.startswith(p)), None)
            if prefix is None:
                await self.app(scope, receive, send)
                return
            scope["route"] = self.routes[prefix]
            response = await self.put_object(path[len(prefix) :], Request(scope, receive))
        await response(scope, receive, send)

    async def put_part(self, token: str, request: Request) -> Response:
        """One part of a multipart upload; its MD5 is its ETag, as on S3."""
        try:
            claims = self.store.signer.verify(token, "put-part")
        except InvalidToken as exc:
            return s3_error("AccessDenied", str(exc), 403)
        try:
            md5 = await _receive(request, lambda: self.store.open_part(claims))
        except UploadError as exc:
            return s3_error(exc.code, exc.message, exc.status)
        sent_md5 = request.headers.get("content-md5")
        if sent_md5 and _header_md5(sent_md5) != md5:
            return s3_error(
                "BadDigest", "The Content-MD5 you specified did not match what we received.", 400
            )
        return Response(status_code=200, headers={"ETag": f'"{md5}"'})

    async def put_object(self, key: str, request: Request) -> Response:
        """A presigned PUT of one whole object, as S3 does it: the signed Content-MD5 must
        be sent, and the bytes must match it, or nothing changes."""
        token = parse_qs(request.scope["query_string"].decode("latin-1")).get("token", [None])[0]
        if token is None:
            return s3_error("AccessDenied", "Writes need a presigned URL.", 403)
        try:
            claims = self.store.signer.verify(token, "put")
        except InvalidToken as exc:
            return s3_error("AccessDenied", str(exc), 403)
        if claims["key"] != key:
            return s3_error("AccessDenied", "The URL was signed for another object.", 403)
        if _header_md5(request.headers.get("content-md5")) != claims["md5"]:
            return s3_error(
                "SignatureDoesNotMatch",
                "Send the Content-MD5 header the URL was signed with.",
                403,
            )
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_PUT_SIZE:
            return s3_error(
                "EntityTooLarge", "An object written in one PUT can be at most 5 GiB.", 400
            )
        content_type = request.headers.get("content-type")
        try:
            md5 = await _receive(
                request, lambda: self.store.open_object(key, claims["md5"], content_type)
            )
        except ValueError:
            return s3_error("InvalidURI", "Invalid key.", 400)
        except UploadError as exc:
            return s3_error(exc.code, exc.message, exc.status)
        return Response(status_code=200, headers={"ETag": f'"{md5}"'})


class Writer(Protocol):
    """The folder store's part and object writers, as this lane uses them."""

    def write(self, chunks: Sequence[bytes]) -> None: ...
    def finish(self) -> str: ...
    def close(self) -> None: ...


async def _receive(request: Request, open_writer: Callable[[], Writer]) -> str:
    """Stream the body into the writer ``open_writer`` makes; return the MD5 it stored.

    The body's chunks are collected as they arrive and handed over as a list: joining
    them on the event loop would copy every byte there. A body that fits in ``BUFFER``
    (a Zarr object, mostly) is opened, written and finished in a single trip to a
    worker thread.
    """
    writer: Writer | None = None
    pending: list[bytes] = []
    pending_size = 0

    def write(chunks: list[bytes], finish: bool) -> str | None:
        nonlocal writer
        if writer is None:
            writer = open_writer()
        writer.write(chunks)
        return writer.finish() if finish else None

    try:
        async for chunk in request.stream():
            if chunk:
                pending.append(chunk)
                pending_size += len(chunk)
            if pending_size >= BUFFER:
                await anyio.to_thread.run_sync(write, pending, False)
                pending, pending_size = [], 0
        md5 = await anyio.to_thread.run_sync(write, pending, True)
    finally:
        if writer is not None:
            writer.close()
    assert md5 is not None
    return md5


def _header_md5(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        return None
