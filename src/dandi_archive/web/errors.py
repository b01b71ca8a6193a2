"""Error pages: people get HTML (404 page, sign-in redirect), API clients keep JSON."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dandi_archive.api import errors as api_errors
from dandi_archive.api.bucket_reads import no_such_bucket
from dandi_archive.errors import ArchiveError, NotAuthenticated
from dandi_archive.web.templating import render

log = logging.getLogger(__name__)
API_PREFIXES = (
    "/api/",
    "/server-info",
    "/swagger",
    "/redoc",
    "/.well-known/",
    "/context/",  # JSON-LD contexts (api.linked)
    # The OAuth provider's machine endpoints (its authorization endpoint is a page).
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/introspect",
    "/oauth/userinfo",
    "/oauth/jwks",
)
TITLES = {400: "Bad request", 403: "Not allowed", 404: "Page not found", 405: "Not allowed"}
TITLES[413] = "Too large for one download"


def is_api(request: Request) -> bool:
    """API and folder-store addresses answer errors as data, never as pages."""
    file_prefixes = getattr(request.app.state, "file_prefixes", ())
    return request.url.path.startswith((*API_PREFIXES, *file_prefixes))


def error_page(request: Request, status: int, message: str) -> Response:
    title = TITLES.get(status, "Something went wrong")
    return render(request, "error.html", status, title=title, message=message, status=status)


async def archive_error(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return await api_errors.archive_error(request, exc)
    assert isinstance(exc, ArchiveError)
    if isinstance(exc, NotAuthenticated) and request.method == "GET":
        return RedirectResponse(f"/login?next={quote(str(request.url.path))}", status_code=303)
    return error_page(request, exc.status_code, exc.message)


async def http_error(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return await api_errors.http_error(request, exc)
    assert isinstance(exc, StarletteHTTPException)
    serves_bucket = bool(getattr(request.app.state, "file_prefixes", ()))
    if exc.status_code == 404 and serves_bucket and (s3 := no_such_bucket(request)):
        return s3
    message = "There is nothing at this address." if exc.status_code == 404 else str(exc.detail)
    return error_page(request, exc.status_code, message)


async def validation_error(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return await api_errors.request_validation_error(request, exc)
    assert isinstance(exc, RequestValidationError)
    # Bad values in a page's address (a page number that is not a number, say).
    return error_page(request, 404, "There is nothing at this address.")


def server_error_page(request: Request, error_id: str) -> Response | None:
    """The page for an unhandled error (logged by ``api.guard.IncidentMiddleware``);
    None for API requests, which get JSON."""
    if is_api(request):
        return None
    message = f"The server failed (error id {error_id}); nothing was changed. Please retry."
    return error_page(request, 500, message)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ArchiveError, archive_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
