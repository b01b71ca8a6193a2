"""The metadata editor reports every problem at once, in words with an example of a
valid value, each on its own field (never the validator's pattern text)."""

from __future__ import annotations

import re

from dandi_archive.dandisets import metadata as md
from dandi_archive.web.validation_text import plain

from .helpers import Browser, make_account


def test_plain_messages():
    pattern = "String should match pattern '^([\\w\\s\\-\\.']+),\\s+([\\w\\s\\-\\.']+)$'"
    assert plain("contributor.0.name", pattern) == (
        'Write the name as "Family, Given", e.g. "Curie, Marie".'
    )
    orcid = "'1234-5678' does not match '^\\d{4}-\\d{4}-\\d{4}-(\\d{3}X|\\d{4})$'"
    assert "0000-0002-1825-0097" in plain("contributor.1.identifier", orcid)
    assert "jane.doe@example.org" in plain("contributor.0.email", "value is not a valid email")
    assert "https://" in plain("about.0.identifier", "Input should be a valid URL")
    assert plain("x", "something new") == "something new"
    assert plain("", "'encodingFormat' is a required property") == "encodingFormat is required."
    assert plain("contributor.0.name", "Field required") == "This field is required."


def test_the_schema_and_the_models_report_in_one_round():
    meta = {
        "schemaKey": "Dandiset",
        "schemaVersion": md.DANDI_SCHEMA_VERSION,
        "identifier": "DANDI:000001",
        "name": "x",
        "description": "d",
        "license": ["spdx:CC-BY-4.0"],
        "contributor": [
            {
                "schemaKey": "Person",
                "name": "Jane Doe",
                "identifier": "1234-5678",
                "email": "bad",
                "roleName": ["dcite:ContactPerson"],
            }
        ],
    }
    fields = {e["field"].replace(".Person", "") for e in md.validate_version_metadata(meta)}
    assert {"contributor.0.name", "contributor.0.identifier", "contributor.0.email"} <= fields


def test_the_editor_shows_every_problem_in_words(api):
    make_account(api, "owner@example.org", name="Jane Doe")
    web = Browser(api)
    web.sign_in("owner@example.org")
    created = web.post("/dandiset/new", {"name": "Words", "description": "About words"})
    edit_url = created.headers["location"]
    form = {
        "name": "Words",
        "description": "About words",
        "license": "spdx:CC-BY-4.0",
        "contributor.0.schemaKey": "Person",
        "contributor.0.name": "Jane Doe",
        "contributor.0.identifier": "1234-5678",
        "contributor.0.email": "not an email",
        "contributor.0.roleName": ["dcite:ContactPerson"],
        "contributor.0.includeInCitation": ["false", "true"],
    }
    assert web.post(edit_url, form).status_code == 303
    page = web.get(edit_url).text
    assert 'Write the name as "Family, Given"' in page or "Write the name as &#34;Family" in page
    assert "0000-0002-1825-0097" in page
    assert "jane.doe@example.org" in page
    assert "should match pattern" not in page and "does not match" not in page
    for name in ("name", "identifier", "email"):
        assert re.search(rf'id="f-contributor-0-{name}-error"', page), name
