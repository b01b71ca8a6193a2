"""Every refusal is a 4xx with ``{"detail": "..."}`` naming the problem; never a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..services.errors import ArchiveError
from ..services.uploads import BlobExists

log = logging.getLogger(__name__)


def _describe(error: dict) -> str:
    location = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
    if error.get("type") == "json_invalid":
        return f"Malformed JSON: {error.get('ctx', {}).get('error', error.get('msg'))}"
    where = ".".join(location)
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))


async def archive_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ArchiveError)
    headers = {"Location": str(exc.blob_id)} if isinstance(exc, BlobExists) else None
    return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=headers)


async def request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    detail = "; ".join(_describe(e) for e in errors) or "Invalid request."
    fields = [
        {"field": ".".join(map(str, e.get("loc", ()))), "message": e.get("msg")} for e in errors
    ]
    return JSONResponse({"detail": detail, "errors": fields}, status_code=400)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if exc.status_code != 404 or exc.detail != "Not Found" else "Not found."
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ArchiveError, archive_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
