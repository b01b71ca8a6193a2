"""``HEAD`` wherever ``GET`` is answered: API JSON endpoints and pages alike.

HTTP says a HEAD is a GET without the body, and the dandi client probes URLs it does not
know (e.g. a file page's) with HEAD before following them. Routes that answer HEAD
themselves (downloads, Zarr file listings, the folder store's objects, static files)
keep their own answer; for every other route the request is routed and answered as a
GET, and only the status and headers (``Content-Length`` included) are sent. Done here,
once, rather than by registering HEAD on each route, so the OpenAPI document keeps one
operation per route.
"""

from __future__ import annotations

from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware answering ``HEAD`` as the ``GET`` of the same URL, minus the body."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    def _answered_as_head(self, scope: Scope) -> bool:
        """Whether a route takes this HEAD itself (its own method list names HEAD)."""
        return any(route.matches(scope)[0] == Match.FULL for route in self.router.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or self._answered_as_head(scope):
            await self.app(scope, receive, send)
            return
        finished = False

        async def send_headers_only(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body":
                if finished:
                    return  # the rest of a streamed body: not sent
                finished = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
