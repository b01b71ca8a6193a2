"""The metadata editor's JSON mode: the whole document in one box, saved through the
same service call as the form and the API. Malformed JSON names its line and column
and saves nothing; values of the wrong type are all listed, by JSON path, in words,
and save nothing; fields the archive sets stay as it sets them, and the page says so."""

from __future__ import annotations

import html
import json

from dandi_archive.web import metadata_json
from dandi_archive.web.validation_text import plain

from .helpers import Browser, make_account, text_of

PERSON = {
    "schemaKey": "Person",
    "name": "Curie, Marie",
    "email": "marie@example.org",
    "roleName": ["dcite:ContactPerson", "dcite:Author"],
    "includeInCitation": True,
}


def test_paths_and_words():
    assert metadata_json.json_path("contributor.0.Person.email") == "contributor[0].email"
    assert metadata_json.json_path("") == ""
    said = metadata_json.problems(
        [
            {"field": "contributor.0", "message": "'roleName' is a required property"},
            {"field": "contributor.1.Person.name", "message": "Input should be a valid string"},
            {"field": "keywords", "message": "Input should be a valid list"},
            {"field": "keywords", "message": "3 is not of type 'array'"},
            {"field": "", "message": "'license' is a required property"},
        ]
    )
    assert said == [
        ("contributor[0].roleName", "This field is required."),
        ("contributor[1].name", 'This should be text, written in quotes: "…".'),
        ("keywords", "This should be a list, written [ … ]."),
        ("license", "This field is required."),
    ]
    assert plain("x", "Input should be a valid boolean") == "This should be true or false."
    assert plain("x", "{} is not of type 'string', 'null'").startswith("This should be text")


def test_reading_is_strict():
    for text, words in [
        ('{\n  "a": 1,\n  "b" 2\n}', "line 3, column 7"),
        ("[1, 2]", "one JSON object"),
        ("   ", "The box is empty"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": 1e400}', "too large"),
        ('{"a": "nul \\u0000"}', "NUL"),
        ('{"a": 123456789012345678901234567890}', "64 bits"),
    ]:
        try:
            metadata_json.read(text)
        except metadata_json.Unreadable as exc:
            assert words in exc.message, (text, exc.message)
        else:
            raise AssertionError(f"{text!r} was read")
    assert metadata_json.read('{"a": [1.5, null, true]}') == {"a": [1.5, None, True]}


def test_kept_as_set_names_only_what_changed():
    shown = {
        "identifier": "DANDI:000001",
        "version": "draft",
        "citation": "x",
        "name": "Title",
        "access": [{"schemaKey": "AccessRequirements", "status": "dandi:OpenAccess"}],
    }
    assert metadata_json.kept_as_set(dict(shown), shown) == []
    typed = {**shown, "identifier": "DANDI:999999", "name": "New title", "citation": "mine"}
    typed["access"] = [{"schemaKey": "AccessRequirements", "status": "dandi:EmbargoedAccess"}]
    del typed["version"]
    assert metadata_json.kept_as_set(typed, shown) == [
        "identifier",
        "version",
        "citation",
        "access[0].status",
    ]


def _draft(api, dandiset: str) -> dict:
    return api.get(f"/api/dandisets/{dandiset}/versions/draft/").json()


def test_edit_the_whole_document_as_json(api):
    key = make_account(api, "owner@example.org", name="Jane Doe")
    dandiset = api.create_dandiset(key, "As JSON", {"description": "Before"})
    web = Browser(api)
    web.sign_in("owner@example.org")
    url = f"/dandiset/{dandiset}/draft/edit/json"
    assert f'href="{url}"' in web.get(f"/dandiset/{dandiset}/draft/edit").text
    page = web.get(url)
    assert page.status_code == 200
    shown = json.loads(
        html.unescape(
            page.text.split('name="metadata"')[1].split(">", 1)[1].split("</textarea>")[0]
        )
    )
    assert shown == _draft(api, dandiset)  # the whole stored document, computed fields too
    assert "must be fixed before this Dandiset can be published" in page.text

    # Malformed: where, and nothing saved; the text comes back as typed.
    broken = json.dumps({**shown, "description": "After"}, indent=2).replace('",\n', '"\n', 1)
    r = web.post(url, {"metadata": broken})
    assert r.status_code == 400
    words = text_of(html.unescape(r.text))
    assert "Not saved: This is not valid JSON: line" in words and "column" in words
    assert 'data-error-line="' in r.text and broken in html.unescape(r.text)
    assert _draft(api, dandiset)["description"] == "Before"

    # Wrong types: every one listed by path, in words; nothing saved.
    wrong = {**shown, "keywords": 3, "description": ["After"]}
    wrong["contributor"] = [{**PERSON, "name": 5}, 7]
    r = web.post(url, {"metadata": json.dumps(wrong)})
    assert r.status_code == 400
    words = text_of(html.unescape(r.text))
    assert "Not saved: 4 problems to fix first" in words, words
    for path, message in [
        ("keywords", "This should be a list, written [ … ]."),
        ("description", 'This should be text, written in quotes: "…".'),
        ("contributor[0].name", 'This should be text, written in quotes: "…".'),
        ("contributor[1]", "This should be an object, written { … }."),
    ]:
        assert f"{path} : {message}" in words, path
    assert _draft(api, dandiset)["description"] == "Before"

    # A good save; fields the archive sets stay, and the page says which were kept.
    typed = {
        **shown,
        "name": "Renamed as JSON",
        "description": "After",
        "license": ["spdx:CC-BY-4.0"],
        "contributor": [{**PERSON, "email": "not an address"}],
        "identifier": "DANDI:999999",
        "version": "0.1.0",
    }
    r = web.post(url, {"metadata": json.dumps(typed)})
    assert r.status_code == 303 and r.headers["location"] == url
    saved = _draft(api, dandiset)
    assert saved["description"] == "After" and saved["name"] == "Renamed as JSON"
    assert saved["identifier"] == shown["identifier"] and saved["version"] == "draft"
    words = text_of(html.unescape(web.get(url).text))
    assert "Saved." in words
    assert "Kept as the archive sets them (not edited by hand): identifier, version." in words
    # Saved, though not publishable yet: the problem is said by path, in words.
    assert "contributor[0].email : Enter an e-mail address, e.g. jane.doe@example.org." in words

    # The title is required, as in the form and the API.
    r = web.post(url, {"metadata": json.dumps({**saved, "name": " "})})
    assert r.status_code == 400 and "name must be a non-empty string" in r.text
    assert _draft(api, dandiset)["name"] == "Renamed as JSON"


def test_the_api_refuses_wrong_types_in_words(api, owner, dandiset):
    r = api.put(
        f"/api/dandisets/{dandiset}/versions/draft/",
        owner,
        json={"name": "X", "metadata": {"contributor": 5, "keywords": ["fine"]}},
    )
    assert r.status_code == 400
    assert r.json()["detail"] == (
        "Some metadata values have the wrong type: contributor: Input should be a valid list."
    )


def test_nulls_and_deep_shapes_are_the_drafts_business(api, owner, dandiset):
    """A draft may hold nulls and misshapen values below what the archive reads (the
    dandi client's update-from-DOI script writes them); every page, document and search
    reading it still works."""
    person = {
        "schemaKey": "Person",
        "name": None,
        "roleName": ["dcite:Author"],
        "affiliation": [{"schemaKey": "Affiliation", "name": None}],
    }
    # What `dandi service-scripts update-dandiset-from-doi` writes: each affiliation's
    # name is the DOI record's affiliation object.
    from_doi = {
        "schemaKey": "Person",
        "name": "Doe, Jane",
        "roleName": ["dcite:Author"],
        "includeInCitation": True,
        "affiliation": [{"name": {"name": "University of Somewhere"}}],
    }
    r = api.put(
        f"/api/dandisets/{dandiset}/versions/draft/",
        owner,
        json={
            "name": "Nulls",
            "metadata": {"contributor": [person, from_doi], "keywords": None},
        },
    )
    assert r.status_code == 200, r.text
    for url in (
        f"/dandiset/{dandiset}",
        f"/dandiset/{dandiset}/draft/cite.bib",
        f"/dandiset/{dandiset}/draft/CITATION.cff",
        "/search?q=Nulls",
    ):
        assert api.client.get(url).status_code == 200, url
    assert api.get("/api/dandisets/", owner, params={"search": "Nulls"}).status_code == 200


def test_undo_shows_an_earlier_state_without_saving(api):
    key = make_account(api, "owner@example.org")
    dandiset = api.create_dandiset(key, "Undo", {"description": "Kept"})
    web = Browser(api)
    web.sign_in("owner@example.org")
    url = f"/dandiset/{dandiset}/draft/edit"
    r = web.post(url, {"_render": "1", "name": "Undo", "description": "Earlier"})
    assert r.status_code == 200 and "Earlier" in r.text and "data-unsaved" in r.text
    assert _draft(api, dandiset)["description"] == "Kept"
