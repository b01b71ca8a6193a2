"""The metadata editor in a real browser: after a save with problems the first one has
the focus, visible above the sticky Save bar; the summary links each problem to its
field, opening the folded section that holds it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import ADMIN
from .test_phone_layout import LiveApi, cli, sign_in

pytestmark = pytest.mark.browser

PEOPLE = [("Curie, Marie", "marie@example.org"), ("Noether, Emmy", "emmy@example.org")]


def test_problems_are_found_linked_and_focused(server, browser, screenshot):
    base = server.url
    key = cli(server, "user", "api-key", ADMIN[0])
    api = LiveApi(client=None, archive=None, base=base)  # type: ignore[arg-type]
    contributors = [
        {
            "schemaKey": "Person",
            "name": name,
            "email": email,
            "roleName": ["dcite:Author"],
            "includeInCitation": True,
        }
        for name, email in PEOPLE
    ]
    contributors.append(
        {"schemaKey": "Person", "name": "Ada Lovelace", "roleName": ["dcite:ContactPerson"]}
    )
    metadata = {"description": "Editor test", "license": ["spdx:CC-BY-4.0"]}
    dandiset = api.create_dandiset(key, "Editor", {**metadata, "contributor": contributors})

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, base, *ADMIN)
    page.goto(f"{base}/dandiset/{dandiset}/draft/edit")
    summary = page.locator("#problems")
    expect(summary).to_contain_text('Write the name as "Family, Given"')
    # The contributors list holds the problem: it is open; a short clean list is too.
    section = page.locator("details.section", has=page.locator("#f-contributor"))
    expect(section).to_have_attribute("open", "")

    # Save with the problem still there: the focus lands on it, not under the Save bar.
    page.get_by_role("button", name="Save", exact=True).last.click()
    bad = page.locator("#f-contributor-2-name")
    expect(bad).to_be_focused()
    box = bad.bounding_box()
    bar = page.locator(".sticky-actions").bounding_box()
    assert box and bar and box["y"] + box["height"] <= bar["y"], (box, bar)
    screenshot(page, "metadata-editor-focus")

    # The summary's link goes to the field.
    page.evaluate("window.scrollTo(0, 0)")
    summary.get_by_role("link", name="Name").first.click()
    assert page.evaluate("location.hash") == "#f-contributor-2-name"
    context.close()
