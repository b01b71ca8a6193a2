"""Metadata as linked data: one RDF graph per document, in Turtle, N-Triples or JSON-LD.

A Dandiset version's or an asset's metadata is JSON-LD whose ``@context`` names
dandischema's context on GitHub. The archive serves that context itself, built from the
installed dandischema's models (``generate_context``), at a versioned address
(:func:`context_path`), so the graph never depends on a remote fetch: the JSON-LD
answer points at the archive's copy, and Turtle and N-Triples are the graph rdflib
reads from the same document with that context inlined.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from dandischema.consts import DANDI_SCHEMA_VERSION
from dandischema.metadata import generate_context

from dandi_archive.dandisets.metadata import instance_name
from dandi_archive.errors import NotAcceptable, NotFound

# rdflib is imported when a graph is asked for: most requests want the plain JSON.
if TYPE_CHECKING:
    from rdflib import Graph

    from dandi_archive.instance import Archive

TURTLE = "text/turtle"
N_TRIPLES = "application/n-triples"
JSON_LD = "application/ld+json"
# Media type -> rdflib's name of the serialization.
RDF_FORMATS = {TURTLE: "turtle", N_TRIPLES: "nt", JSON_LD: "json-ld"}
# What asks for the plain JSON (the default): a wildcard counts as no preference.
_JSON_TYPES = {"application/json": 3, "application/*": 1, "*/*": 0}


def context_path(schema_version: str = DANDI_SCHEMA_VERSION) -> str:
    """Where the archive serves the JSON-LD context of this schema version."""
    return f"/context/dandi-{schema_version}.jsonld"


@cache
def _schema_context() -> dict[str, Any]:
    return generate_context()["@context"]


def context(archive: Archive) -> dict[str, Any]:
    """The context's body (the value of ``@context``) for the installed schema.

    dandischema's context names dandiarchive.org's prefix (``DANDI:``) only; an archive
    with an instance name of its own gets that prefix too, mapped to its own Dandiset
    pages, so the ids it writes (``<NAME>:000001/draft``) are IRIs one can follow.
    """
    name = instance_name()
    own = {name: f"{archive.settings.webui_url}/dandiset/"}
    return _schema_context() | ({} if name in _schema_context() else own)


def context_document(archive: Archive, schema_version: str) -> dict[str, Any]:
    """The context document served at :func:`context_path` (only the installed version:
    the archive cannot build another schema's context without fetching it)."""
    if schema_version != DANDI_SCHEMA_VERSION:
        raise NotFound(
            f"This archive serves the context of schema {DANDI_SCHEMA_VERSION} only, "
            f"at {context_path()}."
        )
    return {"@context": context(archive)}


def negotiate(accept: str | None) -> str | None:
    """The RDF media type an ``Accept`` header prefers, or None for the plain JSON.

    Highest ``q`` wins; at equal ``q`` a named type beats a wildcard and, between named
    types, the first listed wins. JSON wins whatever the header does not decide for RDF
    (no header, ``*/*``, types the archive does not offer).
    """
    best: tuple[float, int, int] | None = None
    choice: str | None = None
    for index, part in enumerate((accept or "").split(",")):
        media, *params = (piece.strip() for piece in part.split(";"))
        media = media.lower()
        q = _quality(params)
        if q <= 0:
            continue
        if media in RDF_FORMATS:
            rank, kind = (q, 3, -index), media
        elif media in _JSON_TYPES:
            rank, kind = (q, _JSON_TYPES[media], -index), None
        else:
            continue
        if best is None or rank > best:
            best, choice = rank, kind
    return choice


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def with_context(metadata: dict[str, Any], context_url: str) -> dict[str, Any]:
    """The metadata as JSON-LD whose ``@context`` is the archive's copy (first key)."""
    return {"@context": context_url} | {k: v for k, v in metadata.items() if k != "@context"}


def graph(archive: Archive, metadata: dict[str, Any], base: str) -> Graph:
    """The RDF graph of a metadata document (relative IRIs resolved against ``base``)."""
    document = with_context(metadata, "")
    from rdflib import Graph

    document["@context"] = context(archive)
    result = Graph()
    for prefix, namespace in document["@context"].items():
        if isinstance(namespace, str) and namespace.endswith(("/", "#", "_")):
            result.bind(prefix, namespace, override=True, replace=True)
    try:
        result.parse(data=json.dumps(document), format="json-ld", base=base)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise NotAcceptable(
            f"This metadata cannot be read as linked data ({exc}); ask for application/json."
        ) from None
    return result


def context_url(archive: Archive) -> str:
    return archive.settings.public_url + context_path()


def render(archive: Archive, metadata: dict[str, Any], media_type: str, base: str) -> bytes:
    """The metadata in one of :data:`RDF_FORMATS`."""
    if media_type == JSON_LD:
        graph(archive, metadata, base)  # answered as JSON-LD only if it is a graph
        document = with_context(metadata, context_url(archive))
        return json.dumps(document, ensure_ascii=False).encode()
    rdf = graph(archive, metadata, base)
    return rdf.serialize(format=RDF_FORMATS[media_type], encoding="utf-8")
