"""The metadata editor in a real browser: after a save with problems the first one has
the focus, visible above the sticky Save bar; the summary links each problem to its
field, opening the folded section that holds it. "Undo last change" puts back the
state before each change, also across adding and removing list entries; the JSON mode
puts the caret where malformed JSON stops being readable, and works without JavaScript."""

from __future__ import annotations

import json

import httpx
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


def _draft(base: str, key: str, dandiset: str) -> dict:
    return httpx.get(
        f"{base}/api/dandisets/{dandiset}/versions/draft/",
        headers={"Authorization": f"token {key}"},
    ).json()


def test_undo_the_last_change_also_across_adding_and_removing(server, browser, screenshot):
    base = server.url
    key = cli(server, "user", "api-key", ADMIN[0])
    api = LiveApi(client=None, archive=None, base=base)  # type: ignore[arg-type]
    person = {"schemaKey": "Person", "name": "Curie, Marie", "roleName": ["dcite:Author"]}
    dandiset = api.create_dandiset(
        key, "Undo", {"description": "Original", "keywords": ["one"], "contributor": [person]}
    )
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, base, *ADMIN)
    page.goto(f"{base}/dandiset/{dandiset}/draft/edit")
    undo = page.get_by_role("button", name="Undo last change")
    status = page.locator("#undo-status")
    expect(undo).to_have_attribute("aria-disabled", "true")

    # Two edits, undone one by one, from the keyboard.
    page.locator("#f-description").fill("Changed")
    page.locator("#f-keywords").focus()
    page.locator("#f-keywords").fill("one\ntwo")
    page.keyboard.press("Tab")
    undo.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#f-keywords")).to_have_value("one")
    expect(page.locator("#f-description")).to_have_value("Changed")
    expect(status).to_have_text("Undone: change to Keywords.")
    page.keyboard.press("Space")
    expect(page.locator("#f-description")).to_have_value("Original")
    expect(undo).to_have_attribute("aria-disabled", "true")
    expect(undo).to_be_focused()

    # Adding an entry is a round trip to the server; undoing it comes back the same way,
    # with what was typed before it.
    page.locator("#f-description").fill("Typed before adding")
    page.get_by_role("button", name="Add person").click()
    expect(page.locator("#f-contributor-1-name")).to_be_visible()
    page.get_by_role("button", name="Undo last change").click()
    expect(page.locator("#f-contributor-1-name")).to_have_count(0)
    expect(page.locator("#f-description")).to_have_value("Typed before adding")
    expect(page.locator("#undo-status")).to_have_text("Undone: add person.")

    # Removing one: undo brings it back, with its values.
    page.get_by_role("button", name="Remove Person 1").click()
    expect(page.locator("#f-contributor-0-name")).to_have_count(0)
    page.get_by_role("button", name="Undo last change").click()
    expect(page.locator("#f-contributor-0-name")).to_have_value("Curie, Marie")
    # And the first change is still on the stack.
    page.get_by_role("button", name="Undo last change").click()
    expect(page.locator("#f-description")).to_have_value("Original")
    screenshot(page, "metadata-editor-undo")
    assert _draft(base, key, dandiset)["description"] == "Original"  # nothing saved
    context.close()


def test_json_mode_with_and_without_javascript(server, browser, screenshot):
    base = server.url
    key = cli(server, "user", "api-key", ADMIN[0])
    api = LiveApi(client=None, archive=None, base=base)  # type: ignore[arg-type]
    dandiset = api.create_dandiset(key, "As JSON", {"description": "Before"})
    url = f"{base}/dandiset/{dandiset}/draft/edit/json"

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, base, *ADMIN)
    page.goto(f"{base}/dandiset/{dandiset}/draft/edit")
    page.get_by_role("link", name="edit the whole document as JSON").click()
    box = page.get_by_label("Metadata (JSON)")
    document = json.loads(box.input_value())
    assert document["identifier"].endswith(dandiset)
    # Malformed: nothing saved, the place is named and the caret is put there.
    text = json.dumps({**document, "description": "After"}, indent=2)
    broken = text.replace('"description": "After"', '"description" "After"')
    box.fill(broken)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#problems")).to_contain_text("This is not valid JSON: line")
    line = broken[: broken.index('"description" "After"')].count("\n") + 1
    expect(page.locator("#problems")).to_contain_text(f"line {line}, column 17")
    expect(box).to_be_focused()
    caret = box.evaluate("b => b.value.slice(0, b.selectionStart).split('\\n').length")
    assert caret == line
    screenshot(page, "metadata-json-malformed")
    assert _draft(base, key, dandiset)["description"] == "Before"
    context.close()

    # Without JavaScript: a plain form post saves it.
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(ADMIN[0])
    page.locator("#f-password").fill(ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    page.goto(url)
    page.get_by_label("Metadata (JSON)").fill(text)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert _draft(base, key, dandiset)["description"] == "After"
    context.close()
