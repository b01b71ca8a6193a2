"""A version's citation as BibTeX, RIS, CSL-JSON and CITATION.cff: each download read
back by a real parser (bibtexparser, rispy) or checked against its format's JSON schema
(CSL-JSON, CFF; see data/README.md), naming the same authors as the APA text on the
page; the landing page shows each with a copy button; embargo rules apply."""

from __future__ import annotations

import json
from pathlib import Path

import bibtexparser
import jsonschema
import pytest
import rispy
import yaml
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from dandischema.conf import get_instance_config, set_instance_config

from dandi_archive.dandisets.metadata import instance_name

from ..helpers import publish
from .helpers import Browser, make_account, text_of

DATA = Path(__file__).with_name("data")
TITLE = "Mäuse & rats: 50% {of} the cortex_v1"
METADATA = {
    "description": "Recordings of mice.",
    "license": ["spdx:CC-BY-4.0"],
    "keywords": ["cortex", "mouse"],
    "contributor": [
        {
            "schemaKey": "Person",
            "name": "Doe, Jane",
            "email": "jane@example.org",
            "identifier": "0000-0002-1825-0097",
            "roleName": ["dcite:Author", "dcite:ContactPerson"],
            "includeInCitation": True,
        },
        {
            "schemaKey": "Organization",
            "name": "Lab & Co",
            "roleName": ["dcite:Funder"],
            "includeInCitation": True,
        },
        {
            "schemaKey": "Person",
            "name": "Quiet, Ann",
            "roleName": ["dcite:DataCurator"],
            "includeInCitation": False,
        },
    ],
}
TEXT = {"schemaKey": "Asset", "encodingFormat": "text/plain"}
MEDIA_TYPES = {
    "cite.bib": "application/x-bibtex",
    "cite.ris": "application/x-research-info-systems",
    "cite.csl.json": "application/vnd.citationstyles.csl+json",
    "CITATION.cff": "application/yaml",
}


@pytest.fixture
def doi_prefix():
    before = get_instance_config()
    set_instance_config(before.model_copy(update={"doi_prefix": "10.80507"}))
    yield "10.80507"
    set_instance_config(before)


def published_dandiset(api, key: str) -> tuple[str, str]:
    d = api.create_dandiset(key, TITLE, metadata=METADATA)
    api.add_asset(key, d, "sub-1/a.txt", b"alpha", TEXT)
    api.wait_for_jobs()
    return d, publish(api, key, d)


def fetch(api, url: str) -> str:
    r = api.client.get(url, follow_redirects=False)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    filename = url.rpartition("/")[2]
    assert r.headers["content-type"].startswith(MEDIA_TYPES[filename]), r.headers
    assert r.headers["content-disposition"].startswith("attachment;")
    return r.text


def test_each_format_parses_and_names_the_citation_authors(api, doi_prefix):
    key = make_account(api, "jane@example.org", name="Jane Doe")
    d, version = published_dandiset(api, key)
    doi = api.get(f"/api/dandisets/{d}/versions/{version}/").json()["doi"]
    assert doi.startswith(f"{doi_prefix}/")
    publisher = f"{instance_name()} Archive"  # DANDI-ADHOC in tests
    base = f"/dandiset/{d}/{version}"

    # BibTeX: one entry, nothing bibtexparser could not read; LaTeX escapes decode back.
    text = fetch(api, f"{base}/cite.bib")
    bib = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert not bib.failed_blocks and len(bib.entries) == 1
    entry = bib.entries[0]
    assert entry.entry_type == "misc"
    assert entry["title"] == TITLE and entry["author"] == "Doe, Jane and Lab & Co"
    # Split as BibTeX splits names: the organisation, braced, is one name, not "Co, Lab &".
    raw = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors(), SplitNameParts()])
    jane, lab = raw.entries[0]["author"]
    assert (jane.last, jane.first) == (["Doe"], ["Jane"])
    assert (lab.last, lab.first) == (["{Lab \\& Co}"], [])
    assert entry["doi"] == doi and entry["version"] == version
    assert entry["url"] == f"https://doi.org/{doi}" and entry["publisher"] == publisher
    assert entry["year"].isdigit()

    (ris,) = rispy.loads(fetch(api, f"{base}/cite.ris"))
    assert ris["type_of_reference"] == "DATA" and ris["title"] == TITLE
    assert ris["authors"] == ["Doe, Jane", "Lab & Co"]
    assert ris["doi"] == doi and ris["edition"] == version and ris["year"] == entry["year"]
    assert ris["keywords"] == ["cortex", "mouse"] and ris["publisher"] == publisher

    csl = json.loads(fetch(api, f"{base}/cite.csl.json"))
    jsonschema.validate(csl, json.loads((DATA / "csl-data.schema.json").read_text()))
    (item,) = csl
    assert item["type"] == "dataset" and item["title"] == TITLE and item["DOI"] == doi
    assert item["author"] == [{"family": "Doe", "given": "Jane"}, {"literal": "Lab & Co"}]
    assert item["issued"] == {"date-parts": [[int(entry["year"])]]}

    cff = yaml.safe_load(fetch(api, f"{base}/CITATION.cff"))
    schema = json.loads((DATA / "citation-file-format-1.2.0.schema.json").read_text())
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(cff)
    assert cff["title"] == TITLE and cff["doi"] == doi and cff["version"] == version
    assert cff["authors"] == [
        {
            "family-names": "Doe",
            "given-names": "Jane",
            "orcid": "https://orcid.org/0000-0002-1825-0097",
        },
        {"name": "Lab & Co"},
    ]
    assert cff["license"] == "CC-BY-4.0" and cff["date-released"][:4].isdigit()

    # The APA text in the metadata names the same people.
    apa = api.get(f"/api/dandisets/{d}/versions/{version}/").json()["citation"]
    assert apa.startswith("Doe, Jane; Lab & Co (") and "Quiet" not in apa


def test_the_draft_cites_its_url_and_the_page_offers_every_format(api):
    key = make_account(api, "jane@example.org", name="Jane Doe")
    d = api.create_dandiset(key, TITLE, metadata=METADATA)
    base = f"/dandiset/{d}/draft"
    (ris,) = rispy.loads(fetch(api, f"{base}/cite.ris"))
    assert "doi" not in ris and ris["urls"] == [f"http://testserver{base}"]
    cff = yaml.safe_load(fetch(api, f"{base}/CITATION.cff"))
    schema = json.loads((DATA / "citation-file-format-1.2.0.schema.json").read_text())
    jsonschema.validate(cff, schema)
    assert "doi" not in cff and cff["version"] == "draft"

    page = api.client.get(base)
    text = text_of(page.text)
    for name, filename in (
        ("BibTeX", "cite.bib"),
        ("RIS", "cite.ris"),
        ("CSL-JSON", "cite.csl.json"),
        ("CITATION.cff", "CITATION.cff"),
    ):
        assert f"Copy {name}" in text
        assert f'href="{base}/{filename}" download' in page.text
    assert 'id="cite-cite-bib"' in page.text and "@misc{DANDI_" in page.text


def test_an_embargoed_dandisets_citation_is_for_those_who_read_it(api):
    key = make_account(api, "jane@example.org", name="Jane Doe")
    make_account(api, "stranger@example.org", name="Stan Stranger")
    d = api.create_dandiset(key, "Sealed study", metadata=METADATA, embargo="true")
    url = f"/dandiset/{d}/draft/cite.bib"
    r = api.client.get(url, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    stranger = Browser(api)
    stranger.sign_in("stranger@example.org")
    r = stranger.get(url)
    assert r.status_code == 403 and "Sealed study" not in r.text
    owner = Browser(api)
    owner.sign_in("jane@example.org")
    r = owner.get(url)
    assert r.status_code == 200 and "Sealed study" in r.text


def test_unknown_versions_are_a_readable_404(api):
    key = make_account(api, "jane@example.org", name="Jane Doe")
    d = api.create_dandiset(key, TITLE, metadata=METADATA)
    r = api.client.get(f"/dandiset/{d}/0.990101.0000/cite.bib")
    assert r.status_code == 404 and "has no version" in r.text
