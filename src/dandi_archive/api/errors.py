"""Every refusal is a 4xx with ``{"detail": "..."}`` naming the problem; never a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dandi_archive.api.schemas import ValidationError as FieldProblem
from dandi_archive.api.transient import conflict_error
from dandi_archive.assets.uploads import BlobExists
from dandi_archive.errors import ArchiveError, TooManyRequests

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
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
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


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    """A change that lost a race is retried (see :mod:`.transient`); anything else from
    the database is unexpected, an incident for :mod:`.guard` to answer and log."""
    assert isinstance(exc, DBAPIError)
    response = conflict_error(request, exc)
    if response is None:
        raise exc
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(ArchiveError, archive_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


# -- the answers every route may give, declared in the OpenAPI ---------------------------

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What was wrong, in words"},
        "errors": {
            "type": "array",
            "description": "For invalid parameters: each field and its problem",
            "items": {"type": "object"},
        },
    },
    "required": ["detail"],
}
ERRORS = {
    "400": "Invalid input (the detail names the field)",
    "401": "Not signed in, or an invalid API key",
    "403": "Signed in, but not allowed",
    "404": "No such object, or not visible to the caller",
    "409": "The object's state does not allow it (e.g. published, embargoed, being checked)",
    "429": "Too many failed sign-ins or unknown API keys; wait as Retry-After says",
}
BODY_ERRORS = {
    "413": "Request body larger than DANDI_ARCHIVE_MAX_REQUEST_BODY_BYTES",
    "503": "Busy with a conflicting change; nothing was changed, retry after Retry-After",
}
BODY_METHODS = {"post", "put", "patch", "delete"}


def declare_errors(schema: dict) -> dict:
    """Add the refusals to every operation (replacing FastAPI's 422, which we never send)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            codes = dict(ERRORS)
            if method in BODY_METHODS and not path.startswith(("/storage/", "/bucket/")):
                codes |= BODY_ERRORS
            for code, description in codes.items():
                answer = responses.setdefault(code, {"description": description})
                answer["content"] = ref
    # FastAPI's own "ValidationError" (only used by the 422 removed above) overwrote the
    # archive's model of that name, which validation answers use: put ours back.
    components = schema["components"]["schemas"]
    components.pop("HTTPValidationError", None)
    if "ValidationError" in components:
        components["ValidationError"] = FieldProblem.model_json_schema()
    return schema


def install_openapi(app: FastAPI) -> None:
    """Declare the error answers once the routes are known (the schema is built lazily)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = declare_errors(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
