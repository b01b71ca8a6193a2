"""Refuse bad input once, before any route sees it: every refusal is a 4xx naming the problem.

Two pure ASGI middlewares wrap the whole application:

* ``IncidentMiddleware`` (outermost) turns any unhandled error into a 500 carrying an
  error id that is logged with the traceback, and *does not re-raise*: Starlette's own
  last-resort handler re-raises after answering, which makes uvicorn drop the keep-alive
  connection, so a client's next, unrelated request failed too.
* ``InputGuard`` caps request bodies (413, also for chunked bodies without a
  Content-Length) and refuses, with 400 naming the field, what the databases cannot
  store or compare: NUL and lone UTF-16 surrogates in JSON strings, integers beyond
  64 bits, NaN/Infinity, and control characters in the path or the query string.
  PostgreSQL rejects NUL in text and JSONB, surrogates cannot be encoded as UTF-8, and
  an integer beyond 64 bits overflows both engines' parameters — each a 500 otherwise.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("dandi_archive.incident")

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BAD_TEXT = re.compile(r"[\x00\ud800-\udfff]")


class BadInput(Exception):
    """An input the archive refuses; ``status`` is 400 or 413."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class _NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotFinite(name)


def _text_problem(value: str) -> str | None:
    found = BAD_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain a NUL character"
    return "must not contain a lone UTF-16 surrogate"


def _walk(value: Any, where: str) -> Iterator[str]:
    """Problems of a parsed JSON document, each naming its field (``a.b.0.c``)."""
    if isinstance(value, str):
        problem = _text_problem(value)
        if problem:
            yield f"{where or 'body'}: {problem}"
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            yield f"{where or 'body'}: integer out of range (at most 64 bits)"
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            problem = _text_problem(key)
            if problem:
                yield f"{inner!r} (a key) {problem}"
            else:
                yield from _walk(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{where}.{index}" if where else str(index))


def unstorable(document: Any) -> list[str]:
    """What in a parsed JSON document the databases cannot store, each naming its field."""
    return list(_walk(document, ""))


def check_json(body: bytes) -> None:
    """Refuse a JSON body the databases cannot take; malformed JSON is left to FastAPI."""
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except _NotFinite as exc:
        raise BadInput(f"Malformed JSON: {exc} is not a JSON number.") from None
    except ValueError:
        return  # FastAPI answers 400 "Malformed JSON" with the position
    problems = list(_walk(document, ""))
    if problems:
        raise BadInput("; ".join(problems[:5]))


def check_query(scope: Scope) -> None:
    path = scope.get("path", "")
    if CONTROL.search(path):
        raise BadInput("The address must not contain control characters.")
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if CONTROL.search(name) or CONTROL.search(value):
            raise BadInput(f"{name!r}: must not contain control characters")


def check_form(body: bytes) -> None:
    for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            raise BadInput(f"{name!r}: must not contain a NUL character")


def _media_type(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                raise BadInput("Content-Length is not a number.") from None
    return None


class InputGuard:
    """Caps and checks a request's body and query before the application sees it."""

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, file_prefixes: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # Routes that carry file bytes (the folder store's presigned part and object
        # PUTs, up to 5 GiB): never capped.
        self.file_prefixes = file_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_query(scope)
            if scope["method"] in BODY_METHODS and not scope["path"].startswith(self.file_prefixes):
                body = await self._read_body(scope, receive)
                media = _media_type(scope)
                if media == "" or media.endswith("json"):
                    check_json(body)
                elif media == "application/x-www-form-urlencoded":
                    check_form(body)
                receive = _replay(body)
        except BadInput as exc:
            await JSONResponse({"detail": exc.message}, exc.status)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        """The whole body, refused as soon as it is known to exceed the cap."""
        limit = self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            raise BadInput(too_large(limit), 413)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise BadInput("The client went away before sending the whole body.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BadInput(too_large(limit), 413)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def too_large(limit: int) -> str:
    return (
        f"The request body is larger than {limit} bytes "
        "(DANDI_ARCHIVE_MAX_REQUEST_BODY_BYTES); file bytes go to the upload URLs."
    )


def _replay(body: bytes) -> Receive:
    """A ``receive`` that hands the buffered body to the application, then waits."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def new_error_id() -> str:
    return secrets.token_hex(6)


# A page for people: given the request and the error id, an HTML answer (or None for
# requests that want JSON). The web layer provides it (app.py), so this layer need not
# know about pages.
ErrorPage = Callable[[Request, str], Response | None]


class IncidentMiddleware:
    """Any unhandled error: a 500 with an error id, logged once, connection kept."""

    def __init__(self, app: ASGIApp, page: ErrorPage | None = None) -> None:
        self.app = app
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            error_id = new_error_id()
            log.error(
                "error %s: unhandled %s on %s %s",
                error_id,
                type(exc).__name__,
                scope.get("method"),
                scope.get("path"),
                exc_info=exc,
            )
            if started:
                raise  # nothing more can be said on this response; the server closes it
            response = self.incident_response(Request(scope), error_id)
            await response(scope, receive, send)

    def incident_response(self, request: Request, error_id: str) -> Response:
        """The error page for people, JSON for API clients (and if the page fails too)."""
        if self.page is not None:
            try:
                page = self.page(request, error_id)
            except Exception:
                log.exception("error %s: the error page failed too", error_id)
            else:
                if page is not None:
                    return page
        detail = f"Internal server error (error id {error_id}); the change was not made."
        return JSONResponse({"detail": detail, "error_id": error_id}, 500)
