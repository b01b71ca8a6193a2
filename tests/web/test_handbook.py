"""The handbook at /handbook/: this instance's values in every page, the generated
settings table, search with snippets, nothing loaded from elsewhere, and its links from
every page of the site."""

from __future__ import annotations

import html
import re

import pytest
from dandischema.conf import get_instance_config, set_instance_config

from dandi_archive.config import Settings
from dandi_archive.handbook import pages
from dandi_archive.handbook.values import (
    CLIENT_KNOWN_INSTANCES,
    UnknownPlaceholder,
    client_instance_name,
    instance_values,
)

from .helpers import text_of

WEB = "https://dandi.example.org"
SUPPORT = "help@example.org"


@pytest.fixture
def backend() -> str:
    """The handbook does not depend on the engines: the embedded default only."""
    return "embedded"


@pytest.fixture
def instance():
    """An archive named EXAMPLE with a DOI prefix, at https://dandi.example.org."""
    before = get_instance_config()
    set_instance_config(
        before.model_copy(update={"instance_name": "EXAMPLE", "doi_prefix": "10.99999"})
    )
    yield
    set_instance_config(before)


@pytest.fixture
def site(make_api, instance):
    return make_api(base_url=WEB, support_email=SUPPORT)


def page_urls() -> list[str]:
    return ["/handbook/"] + [f"/handbook/{p.slug}" for p in pages.all_pages() if p.slug != "index"]


def test_every_page_renders_with_this_instances_values(site):
    for url in page_urls():
        r = site.get(url)
        assert r.status_code == 200, url
        assert not re.search(r"\{\{\s*\w+\s*\}\}", r.text), url
    text = {slug: text_of(site.get(f"/handbook/{slug}").text) for slug in ("account", "cite")}
    # The dandi client names an archive it does not know by its API host.
    assert "DANDI.EXAMPLE.ORG_API_KEY" in text["account"]
    assert "dandi-api-dandi.example.org" in text["account"]
    assert "10.99999/example.000001/0.240101.1200" in text["cite"]
    assert "EXAMPLE" in text["cite"]
    download = site.get("/handbook/download").text
    assert f"dandi download {WEB}/dandiset/000001/draft" in html.unescape(download)
    assert f"{WEB}/api/dandisets/000001/versions/draft/assets/" in html.unescape(download)
    index = text_of(site.get("/handbook/").text)
    assert (
        f"{WEB}/dandi-dandisets" in index and "spdx:CC-BY-4.0" in index and "spdx:CC0-1.0" in index
    )
    assert f'href="mailto:{SUPPORT}"' in site.get("/handbook/help").text


def test_settings_page_lists_every_setting_with_its_description(site):
    text = text_of(site.get("/handbook/settings").text)
    for name, field in Settings.model_fields.items():
        assert f"DANDI_ARCHIVE_{name.upper()}" in text
        assert field.description, name
        assert field.description.replace("`", "").split("(")[0].strip()[:30] in text, name


def test_pages_have_contents_and_section_anchors(site):
    r = site.get("/handbook/production")
    assert 'aria-current="page"' in r.text
    anchors = re.findall(r'<a href="#([^"]+)"', r.text)
    assert anchors and all(f'id="{anchor}"' in r.text for anchor in anchors)
    for p in pages.all_pages():  # every page is in the contents of every page
        assert f'href="/handbook/{"" if p.slug == "index" else p.slug}"' in r.text


def hits_of(page: str) -> list[str]:
    """The result links of a search page, in order."""
    results = page.partition('<ol class="handbook-hits">')[2].partition("</ol>")[0]
    return re.findall(r'<li>\s*<a href="(/handbook/[^"]*)">', results)


def test_search_finds_pages_with_snippets(site):
    r = site.get("/handbook/search", params={"q": "remfile stream"})
    assert r.status_code == 200
    assert hits_of(r.text)[0] == "/handbook/stream"
    assert "<mark>remfile</mark>" in r.text
    # A word matches the beginning of words; all words must be on the page.
    r = site.get("/handbook/search", params={"q": "healthz metric"})
    assert hits_of(r.text)[0] == "/handbook/monitoring"
    r = site.get("/handbook/search", params={"q": "remfile xylophone"})
    assert "No page of the handbook has all of" in r.text
    # Instance values are searched as shown.
    r = site.get("/handbook/search", params={"q": "DANDI.EXAMPLE.ORG_API_KEY"})
    assert "/handbook/account" in hits_of(r.text)
    # What was typed comes back escaped.
    r = site.get("/handbook/search", params={"q": "<script>alert(1)</script>"})
    assert r.status_code == 200 and "<script>alert" not in r.text
    assert site.get("/handbook/search").status_code == 200


def test_nothing_is_loaded_from_elsewhere(site):
    for url in [*page_urls(), "/handbook/search?q=dandi"]:
        body = site.get(url).text
        for tag in re.findall(r"<(?:script|link)\b[^>]*>", body):
            for address in re.findall(r'(?:src|href)="([^"]*)"', tag):
                assert address.startswith("/") and not address.startswith("//"), (url, tag)
        # Raw HTML in the Markdown is never passed through.
        assert "<script>" not in body and "<iframe" not in body


def test_every_page_links_the_handbook_and_support(site):
    home = site.get("/").text
    assert 'href="/handbook/">Help</a>' in home
    assert f'href="mailto:{SUPPORT}"' in home


def test_without_a_support_address_the_footer_links_the_help_page(api):
    assert 'href="/handbook/help"' in api.get("/").text
    assert "the administrators of this archive" in text_of(api.get("/handbook/help").text)


def test_unknown_pages_are_404_pages(api):
    r = api.get("/handbook/no-such-page")
    assert r.status_code == 404 and "The handbook has no page" in r.text
    assert api.get("/handbook", follow_redirects=False).status_code == 308
    assert api.get("/handbook/index", follow_redirects=False).headers["location"] == "/handbook/"


def test_only_listed_values_can_be_substituted(api):
    values = instance_values(api.archive.settings, "http://testserver/bucket/")
    assert values.substitute("at {{ web_url }}") == "at http://testserver"
    with pytest.raises(UnknownPlaceholder):
        values.substitute("{{ secret_key }}")
    with pytest.raises(UnknownPlaceholder):
        values.substitute("{{ signing_key }}")


def test_every_shown_command_is_tested():
    """Blocks readers run (console, python) are all run by tests/e2e/test_handbook_commands."""
    values = instance_values(Settings(), "http://127.0.0.1:8000/bucket/")
    for block in pages.code_blocks(values):
        if block.language in ("console", "python"):
            assert block.tested, f"{block.page}: an untested {block.language} block"
        if block.language in ("sh", "bash") and "dandi " in block.text:
            assert "<your key>" in block.text, f"{block.page}: a dandi command not tested"


def test_client_instance_names_match_the_dandi_client():
    from dandi.consts import known_instances

    assert client_instance_name("https://dandi.example.org/api") == "dandi.example.org"
    assert client_instance_name("http://127.0.0.1:8000/api") == "127.0.0.1:8000"
    for api_url, name in CLIENT_KNOWN_INSTANCES.items():
        assert known_instances[name].api == api_url
