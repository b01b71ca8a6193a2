"""Linked data over HTTP: content negotiation of metadata documents, and the JSON-LD
context the archive serves itself (``/context/dandi-<schema version>.jsonld``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from dandi_archive.api.deps import ArchiveDep
from dandi_archive.dandisets import linked
from dandi_archive.instance import Archive

router = APIRouter(tags=["linked data"])


class JSONLDResponse(JSONResponse):
    """JSON-LD, documented as such in the OpenAPI."""

    media_type = linked.JSON_LD


# For the OpenAPI document of every route that negotiates (the JSON stays the default).
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The metadata; `Accept: text/turtle`, `application/n-triples` or "
        "`application/ld+json` answers the same graph as RDF.",
        "content": {media: {} for media in linked.RDF_FORMATS},
    },
    406: {"description": "The metadata cannot be read as RDF (ask for JSON)"},
}


def negotiated(
    request: Request, response: Response, archive: Archive, metadata: dict[str, Any]
) -> dict[str, Any] | Response:
    """The metadata as the request's ``Accept`` prefers: unchanged JSON by default."""
    response.headers["Vary"] = "Accept"
    media_type = linked.negotiate(request.headers.get("accept"))
    if media_type is None:
        return metadata
    base = archive.settings.public_url + request.url.path
    body = linked.render(archive, metadata, media_type, base)
    return Response(body, media_type=media_type, headers={"Vary": "Accept"})


@router.get(
    "/context/dandi-{schema_version}.jsonld",
    summary="The JSON-LD context of DANDI metadata (of the schema this archive runs)",
    response_class=JSONLDResponse,
)
def get_context(archive: ArchiveDep, schema_version: str) -> JSONLDResponse:
    return JSONLDResponse(
        linked.context_document(archive, schema_version),
        headers={"Cache-Control": "public, max-age=86400"},
    )
