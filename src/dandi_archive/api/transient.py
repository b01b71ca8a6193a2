"""Changes that lost a race with another change are run again, transparently.

A request whose transaction PostgreSQL rolled back for a lock conflict (a deadlock, a
serialization failure, a lock timeout), or that broke a constraint because a concurrent
change got there first (the Dandiset was deleted meanwhile, the path was taken), changed
nothing. Running it again gives the answer it would have had one moment later: usually
success, else the ordinary 4xx ("no such Dandiset", "path taken").

:class:`RetryConflicts` buffers the body of API changes (small JSON documents), runs the
request, and if the answer says it lost such a race (see :func:`conflict_error`), runs
it again after a short random pause, up to ``attempts`` times. The last answer goes out
as it is: 503 with ``Retry-After`` for a lock conflict, 409 for a constraint.
"""

from __future__ import annotations

import asyncio
import random

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dandi_archive.db.locking import is_transient

LOST_RACE = "dandi_archive.lost_race"  # set in the scope by conflict_error
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_REPLAYED_BODY = 2 * 2**20


def conflict_error(request: Request, exc: DBAPIError) -> JSONResponse | None:
    """The answer to a request that lost a race, or None if ``exc`` is something else."""
    if is_transient(exc):
        request.scope[LOST_RACE] = True
        return JSONResponse(
            {
                "detail": "The archive was busy with a conflicting change; nothing was changed. "
                "Try again."
            },
            status_code=503,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, IntegrityError):
        request.scope[LOST_RACE] = True
        return JSONResponse(
            {
                "detail": "A concurrent change got there first; nothing was changed. Reload and "
                "try again."
            },
            status_code=409,
        )
    return None


class RetryConflicts:
    def __init__(self, app: ASGIApp, attempts: int = 4) -> None:
        self.app = app
        self.attempts = attempts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        chunks, complete = await _read_body(receive)
        if not complete:  # too large to hold: one attempt, the body streamed on
            await self.app(scope, _replay(chunks, receive), send)
            return
        for attempt in range(1, self.attempts + 1):
            attempt_scope = dict(scope)
            last = attempt == self.attempts
            if last:
                await self.app(attempt_scope, _replay(chunks, None), send)
                return
            held: list[Message] = []

            async def hold(message: Message, held: list[Message] = held) -> None:
                held.append(message)

            await self.app(attempt_scope, _replay(chunks, None), hold)
            if not attempt_scope.get(LOST_RACE):
                for message in held:
                    await send(message)
                return
            await asyncio.sleep(random.uniform(0.01, 0.05) * 2**attempt)


async def _read_body(receive: Receive) -> tuple[list[Message], bool]:
    """The request's body messages, and whether that is all of it (small enough)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, True
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, True
        if size > MAX_REPLAYED_BODY:
            return messages, False


def _replay(messages: list[Message], rest: Receive | None) -> Receive:
    """A ``receive`` that gives ``messages`` again, then reads on from ``rest``."""
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if rest is not None:
            return await rest()
        # The whole body was given: what the server says next is that the client left
        # or, while a response streams, nothing; wait like a connection that stays open.
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return receive
