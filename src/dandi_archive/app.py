"""The ASGI application: routers, error handling and the background-job lifecycle."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from dandi_archive import web
from dandi_archive.accounts.throttle import Throttle
from dandi_archive.api import (
    admin,
    assets,
    audit,
    bucket,
    dandisets,
    errors,
    guard,
    harvest,
    health,
    info,
    linked,
    metrics,
    oauth,
    readers,
    search,
    signed_puts,
    stars,
    stats,
    uploads,
    users,
    versions,
    webdav,
    zarr,
)
from dandi_archive.api import docs as api_docs
from dandi_archive.api.head import HeadAsGet
from dandi_archive.api.transient import RetryConflicts
from dandi_archive.archive import build_archive
from dandi_archive.config import Settings, archive_version
from dandi_archive.instance import Archive
from dandi_archive.integrity.tasks import periodic_jobs
from dandi_archive.storage.folder import FolderStore
from dandi_archive.tasks.queue import InProcessQueue
from dandi_archive.web import errors as web_errors

DESCRIPTION = """
A DANDI archive: Dandisets of neurophysiology data, their versions and assets.
Send your API key as `Authorization: token <key>`; get it from `/api/auth/token/`.
"""


def operation_id(route: APIRoute) -> str:
    """Unique per path and method (some routes answer both GET and HEAD)."""
    methods = "_".join(sorted(m.lower() for m in route.methods))
    return re.sub(r"\W+", "_", f"{route.name}_{route.path_format}_{methods}").strip("_")


def create_app(archive: Archive | None = None, settings: Settings | None = None) -> FastAPI:
    if archive is None:
        archive = build_archive(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if isinstance(archive.jobs, InProcessQueue):
            # Pick up work a previous run left unfinished: its jobs died with it.
            archive.jobs.submit("sweep", restarted=True)
            # An archive that never runs for a whole interval still ends embargoes.
            archive.jobs.submit("lift_ended_embargoes")
            archive.jobs.start_schedule(periodic_jobs(archive.settings))
        yield
        archive.downloads.flush()  # the downloads this process counted since its last write

    app = FastAPI(
        title="DANDI Archive API",
        description=DESCRIPTION,
        version=archive_version(),
        docs_url=None,  # served from packaged assets by api.docs
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.archive = archive
    app.state.throttle = Throttle(archive.settings)
    errors.install(app)
    # Innermost: HEAD is answered as GET by the routes; everything outside sees a HEAD.
    app.add_middleware(HeadAsGet, router=app.router)
    app.add_middleware(RetryConflicts)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["Location", "ETag", "Content-Range"],
    )
    routers = (
        info,
        users,
        dandisets,
        versions,
        uploads,
        admin,
        zarr,
        search,
        stars,
        readers,
        stats,
        webdav,
        audit,
        harvest,
        linked,
        health,
        metrics,
        oauth,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(assets.router)
    app.include_router(assets.by_id)
    bucket_name = archive.settings.folder_bucket_name
    app.state.file_prefixes = ()
    if isinstance(archive.store, FolderStore):
        app.include_router(bucket.router)
        app.include_router(bucket.object_router(bucket_name))
        app.state.file_prefixes = bucket.file_prefixes(bucket_name)

    api_docs.install(app)

    @app.get("/api/docs/swagger/", include_in_schema=False)
    def swagger_redirect() -> RedirectResponse:
        return RedirectResponse("/swagger/", status_code=301)

    web.install(app, archive)
    errors.install_openapi(app)
    if isinstance(archive.store, FolderStore):
        bucket.check_bucket_name(app.routes, bucket_name)
    # Added last, so outermost: input is checked before sessions or routes see it, and
    # every unhandled error becomes a logged 500 with an error id.
    app.add_middleware(
        guard.InputGuard,
        max_body_bytes=archive.settings.max_request_body_bytes,
        file_prefixes=app.state.file_prefixes,
    )
    app.state.signed_put_routes = []
    if isinstance(archive.store, FolderStore):
        # Outside every middleware but the two below: file bytes authorised by their URL.
        app.add_middleware(signed_puts.SignedPuts, store=archive.store)
        app.state.signed_put_routes = signed_puts.lane_routes(bucket_name)
    # Inside the incident handler, so an unhandled error is counted as the 500 it becomes.
    app.add_middleware(metrics.RequestMetrics, router=app.router)
    app.add_middleware(guard.IncidentMiddleware, page=web_errors.server_error_page)

    return app
