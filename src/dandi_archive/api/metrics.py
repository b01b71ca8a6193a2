"""Prometheus metrics: a pure ASGI middleware counting every request, and ``/metrics``.

Requests are labelled by their route *template* (``/api/dandisets/{dandiset_id}/``),
never the path as sent, so a crawler cannot make a series per URL; a request no route
takes is ``<unmatched>``. The route is the one the router recorded in the scope; only
when a middleware answered first, or routed a copy of the scope (HEAD answered as GET,
changes that may be retried), is it looked up again in a flat table of the routes.
Per request this costs two label lookups and a clock read.
"""

from __future__ import annotations

import re
import time

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.routing import Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dandi_archive import metrics
from dandi_archive.api.deps import ArchiveDep

router = APIRouter(tags=["monitoring"])
UNMATCHED = "<unmatched>"


class RequestMetrics:
    """Counts each HTTP request and times it to the last byte of its answer."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router
        self._routes: list[tuple[re.Pattern[str], str, frozenset[str]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer starts: an error no middleware turned into one

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            labels = (scope["method"], self._route(scope), str(status))
            metrics.HTTP_REQUESTS.labels(*labels).inc()
            metrics.HTTP_LATENCY.labels(*labels).observe(time.perf_counter() - started)

    def _route(self, scope: Scope) -> str:
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        return template or self._find(scope)

    def _find(self, scope: Scope) -> str:
        """The template of the route that takes this path (and method, if one does)."""
        path, method = scope.get("path", ""), scope["method"]
        fallback = UNMATCHED
        for regex, template, methods in self._table():
            if regex.match(path):
                if not methods or method in methods or (method == "HEAD" and "GET" in methods):
                    return template
                if fallback == UNMATCHED:
                    fallback = template
        return fallback

    def _table(self) -> list[tuple[re.Pattern[str], str, frozenset[str]]]:
        if self._routes is None:
            self._routes = [
                (context.path_regex, context.path_format, frozenset(context.methods or ()))
                for context in iter_route_contexts(self.router.routes)
                if context.path_format and getattr(context, "path_regex", None) is not None
            ]
        return self._routes


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=PlainTextResponse,
)
async def prometheus_metrics(archive: ArchiveDep) -> Response:
    # Reading the queue depth may ask the broker: off the event loop.
    depth = metrics.QueueDepth(archive.jobs.depth, archive.settings.queue)
    body, content_type = await run_in_threadpool(metrics.exposition, [depth])
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
