"""Linked data: versions and assets answer Turtle, N-Triples and JSON-LD by content
negotiation, all one graph, over a context the archive serves itself; the JSON stays
the default, byte for byte."""

from __future__ import annotations

import json

import pytest
from dandischema.consts import DANDI_SCHEMA_VERSION
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from dandi_archive.dandisets.linked import negotiate

from ..helpers import publish, valid_dandiset

SCHEMA = "http://schema.org/"
DANDI = "http://schema.dandiarchive.org/"


def json_ld_graph(api, body: bytes, base: str) -> Graph:
    """Parse a JSON-LD answer, resolving its ``@context`` URL on the archive (so the
    test fails if the archive does not serve the context it names)."""
    document = json.loads(body)
    r = api.get(document["@context"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/ld+json")
    document["@context"] = r.json()["@context"]
    return Graph().parse(data=json.dumps(document), format="json-ld", base=base)


def negotiated(api, url: str) -> dict[str, Graph]:
    graphs = {}
    for media, fmt in (("text/turtle", "turtle"), ("application/n-triples", "nt")):
        r = api.get(url, headers={"Accept": media})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(media)
        assert "Accept" in r.headers["vary"]
        graphs[media] = Graph().parse(data=r.content, format=fmt)
    r = api.get(url, headers={"Accept": "application/ld+json"})
    assert r.headers["content-type"].startswith("application/ld+json")
    graphs["application/ld+json"] = json_ld_graph(api, r.content, "http://testserver" + url)
    return graphs


def test_a_version_is_one_graph_in_every_format(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    version = publish(api, key, dandiset)
    for name in ("draft", version):
        url = f"/api/dandisets/{dandiset}/versions/{name}/"
        graphs = negotiated(api, url)
        turtle = graphs["text/turtle"]
        assert isomorphic(turtle, graphs["application/n-triples"])
        assert isomorphic(turtle, graphs["application/ld+json"])
        # The instance's own prefix (DANDI-ADHOC: here) names the archive's pages.
        subject = URIRef(f"{api.archive.settings.webui_url}/dandiset/{dandiset}/{name}")
        assert (subject, RDF.type, URIRef(DANDI + "Dandiset")) in turtle
        assert (subject, URIRef(SCHEMA + "name"), Literal("Test Dandiset")) in turtle
        licence = URIRef("http://spdx.org/licenses/CC0-1.0")
        assert (subject, URIRef(SCHEMA + "license"), licence) in turtle
        # The JSON-LD is the stored document with the archive's context, nothing else.
        stored = api.get(url).json()
        ld = api.get(url, headers={"Accept": "application/ld+json"}).json()
        assert ld.pop("@context").endswith(f"/context/dandi-{DANDI_SCHEMA_VERSION}.jsonld")
        stored.pop("@context")
        assert ld == stored


def test_an_asset_is_one_graph_in_every_format(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    asset = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/").json()["results"][0]
    for url in (
        f"/api/assets/{asset['asset_id']}/",
        f"/api/dandisets/{dandiset}/versions/draft/assets/{asset['asset_id']}/",
    ):
        graphs = negotiated(api, url)
        assert isomorphic(graphs["text/turtle"], graphs["application/n-triples"])
        assert isomorphic(graphs["text/turtle"], graphs["application/ld+json"])
        subject = URIRef(f"http://dandiarchive.org/asset/{asset['asset_id']}")
        path = Literal(asset["path"])
        assert (subject, URIRef(DANDI + "path"), path) in graphs["text/turtle"]


def test_json_stays_the_default_exactly(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    url = f"/api/dandisets/{dandiset}/versions/draft/"
    plain = api.get(url)
    assert plain.headers["content-type"] == "application/json"
    assert plain.json()["@context"].startswith("https://raw.githubusercontent.com/dandi/schema/")
    for accept in (
        "application/json",
        "*/*",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/xml",
        "text/turtle;q=0",
        "application/json, text/turtle;q=0.5",
    ):
        r = api.get(url, headers={"Accept": accept})
        assert r.status_code == 200
        assert (r.headers["content-type"], r.content) == ("application/json", plain.content)


def test_embargoed_metadata_is_not_served_as_rdf_to_strangers(api):
    owner = api.make_user()
    stranger = api.make_user("stranger@example.org")
    dandiset = api.create_dandiset(owner, embargo=True)
    url = f"/api/dandisets/{dandiset}/versions/draft/"
    assert api.get(url, owner, headers={"Accept": "text/turtle"}).status_code == 200
    for token in (None, stranger):
        r = api.get(url, token, headers={"Accept": "text/turtle"})
        assert r.status_code in (401, 403, 404)
        assert "detail" in r.json()


def test_the_context_is_served_for_the_installed_schema_only(api):
    r = api.get(f"/context/dandi-{DANDI_SCHEMA_VERSION}.jsonld")
    assert r.status_code == 200
    context = r.json()["@context"]
    assert context["schema"] == SCHEMA and context["id"] == "@id"
    r = api.get("/context/dandi-0.0.1.jsonld")
    assert r.status_code == 404
    assert DANDI_SCHEMA_VERSION in r.json()["detail"]


def test_the_published_turtle_manifest_is_the_graph_the_api_answers(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    version = publish(api, key, dandiset)
    store = api.archive.store
    stored = b"".join(store.iter_bytes(f"dandisets/{dandiset}/{version}/dandiset.ttl"))
    served = api.get(
        f"/api/dandisets/{dandiset}/versions/{version}/", headers={"Accept": "text/turtle"}
    )
    assert isomorphic(
        Graph().parse(data=stored, format="turtle"),
        Graph().parse(data=served.content, format="turtle"),
    )


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, None),
        ("", None),
        ("text/turtle", "text/turtle"),
        ("TEXT/Turtle; charset=utf-8", "text/turtle"),
        ("application/n-triples, text/turtle", "application/n-triples"),
        ("text/turtle;q=0.4, application/n-triples;q=0.9", "application/n-triples"),
        ("*/*, text/turtle", "text/turtle"),
        ("application/json, application/ld+json", None),
        ("application/ld+json, application/json", "application/ld+json"),
        ("application/ld+json;q=oops", None),
        ("text/*", None),
    ],
)
def test_accept_headers_choose_as_http_says(accept, chosen):
    assert negotiate(accept) == chosen
