"""Every main page in a real browser at a phone's width (390 px): a screenshot of each in
artifacts/phone/ (gitignored; see README "Tests and benchmarks") and no page wider than
the screen. And one search box per screen, at desktop and phone widths: pages with a
search box of their own (home, search, the handbook) do without the header's.

The Dandisets carry long titles, names, keywords and file names, so that anything that
cannot wrap shows up as sideways scrolling."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import Page

from .conftest import ADMIN
from .test_phone_layout import LiveApi, cli

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LONG_WORD = "Electrophysiological_recordings_of_hippocampal_place_cells_during_navigation"
LONG_FILE = (
    "sub-hippocampus01/sub-hippocampus01_ses-20240101T120000_desc-preprocessed_ecephys-notes.txt"
)
METADATA = {
    "description": f"A description with a long address: https://example.org/{LONG_WORD}/data",
    "license": ["spdx:CC-BY-4.0"],
    "keywords": [LONG_WORD, "place cells"],
    "contributor": [
        {
            "schemaKey": "Person",
            "name": "Wolfeschlegelsteinhausenbergerdorff, Hubert Blaine",
            "email": "hubert.wolfeschlegelsteinhausenbergerdorff@example.org",
            "roleName": ["dcite:ContactPerson", "dcite:Author"],
            "includeInCitation": True,
        }
    ],
}
ASSET = {"schemaKey": "Asset", "encodingFormat": "text/plain"}

# The innermost elements whose box or content (a word too long to wrap) ends right of
# the window: what makes a page too wide.
SPILLS = """width => {
  const spills = (el) => {
    const box = el.getBoundingClientRect();
    const visible = getComputedStyle(el).overflowX === "visible";
    return box.right > width + 1 || (visible && box.left + el.scrollWidth > width + 1);
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (typeof el.className === "string" && el.className ? "." + el.className.split(" ")[0] : "");
  return [...document.body.querySelectorAll("*")]
    .filter((el) => spills(el) && ![...el.children].some(spills))
    .map((el) => name(el) + ": " + el.textContent.trim().slice(0, 40))
    .slice(0, 8);
}"""


def wait_for(condition, what: str, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def fits(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width:
        raise AssertionError(f"{page.url}: {scroll}px wide: {page.evaluate(SPILLS, width)}")


def world(server) -> dict[str, str]:
    """A draft with a file, and a published Dandiset; their addresses by page."""
    base = server.url
    key = cli(server, "user", "api-key", ADMIN[0])
    api = LiveApi(client=None, archive=None, base=base)  # type: ignore[arg-type]
    draft = api.create_dandiset(key, f"Draft {LONG_WORD}", METADATA)
    asset = api.add_asset(key, draft, LONG_FILE, b"draft bytes", ASSET)
    published = api.create_dandiset(key, f"Published {LONG_WORD}", METADATA)
    api.add_asset(key, published, LONG_FILE, b"published bytes", ASSET)

    def info() -> dict:
        url = f"{base}/api/dandisets/{published}/versions/draft/info/"
        return httpx.get(url, headers={"Authorization": f"token {key}"}).json()

    wait_for(
        lambda: info()["status"] == "Valid" and not info()["asset_validation_errors"],
        "a publishable draft",
    )
    r = api.post(f"/api/dandisets/{published}/versions/draft/publish/", key)
    assert r.status_code == 202, r.text

    def version() -> str | None:
        listed = httpx.get(f"{base}/api/dandisets/{published}/versions/").json()["results"]
        return next((v["version"] for v in listed if v["version"] != "draft"), None)

    wait_for(version, "the published version")
    d = f"/dandiset/{draft}"
    return {
        "home": "/",
        "search": "/search?q=place+cells&hide_empty=0",
        "dandiset-draft": d,
        "dandiset-published": f"/dandiset/{published}/{version()}",
        "files": f"{d}/draft/files?location=sub-hippocampus01",
        "asset": f"{d}/draft/files/{asset['asset_id']}",
        "metadata-editor": f"{d}/draft/edit",
        "metadata-json": f"{d}/draft/edit/json",
        "owners": f"{d}/owners",
        "history": f"{d}/history",
        "publish": f"/dandiset/{published}/publish",
        "my-dandisets": "/my-dandisets",
        "account": "/account",
        "admin-users": "/admin/users",
        "handbook": "/handbook/",
        "help": "/handbook/help",
    }


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(ADMIN[0])
    page.locator("#f-password").fill(ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/**")


def test_every_main_page_fits_a_phone(server, browser, screenshot):
    base = server.url
    pages = world(server)
    # Signed out: sign in and sign up.
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    for name, path in {"login": "/login", "signup": "/signup"}.items():
        assert page.goto(base + path).status == 200
        fits(page, PHONE["width"])
        screenshot(page, f"phone/{name}")
    sign_in(page, base)
    for name, path in pages.items():
        response = page.goto(base + path)
        assert response and response.status == 200, (name, response and response.status)
        fits(page, PHONE["width"])
        screenshot(page, f"phone/{name}")
    context.close()


def test_one_search_box_per_screen(server, browser):
    base = server.url
    key = cli(server, "user", "api-key", ADMIN[0])
    api = LiveApi(client=None, archive=None, base=base)  # type: ignore[arg-type]
    dandiset = api.create_dandiset(key, "Searchable", METADATA)
    for viewport in (DESKTOP, PHONE):
        page = browser.new_context(viewport=viewport).new_page()
        for path, label in [
            ("/", "Search Dandisets and their files"),
            ("/search", "Words to find in Dandisets and file paths"),
            (f"/dandiset/{dandiset}", "Search Dandisets and files"),
            ("/handbook/", "Search the handbook"),
        ]:
            page.goto(base + path)
            boxes = page.locator("input[type=search]:visible")
            assert boxes.count() == 1, (viewport, path, boxes.count())
            assert page.get_by_label(label).is_visible(), (viewport, path, label)
        page.context.close()


def test_the_embargo_date_shows_as_its_label_says(server, browser):
    """The box shows the date in the form the label names, whatever the browser's locale
    (a date picker would show 06/30/2031 under a "YYYY-MM-DD" label)."""
    base = server.url
    page = browser.new_context(viewport=PHONE, locale="en-US").new_page()
    sign_in(page, base)
    page.goto(f"{base}/dandiset/new")
    page.get_by_label("Title").fill("Secret for now")
    page.get_by_label("Embargo: keep the data private until a date").check()
    box = page.get_by_label("Embargo ends on (YYYY-MM-DD)")
    box.press_sequentially("2031-06-30")
    assert box.input_value() == "2031-06-30"
    shown = page.evaluate("() => document.getElementById('f-embargo_end').value")
    assert shown == "2031-06-30"
    fits(page, PHONE["width"])
    page.get_by_role("button", name="Create Dandiset").click()
    page.wait_for_url("**/draft/edit")
    dandiset = page.url.split("/dandiset/")[1].split("/")[0]
    key = cli(server, "user", "api-key", ADMIN[0])
    draft = httpx.get(
        f"{base}/api/dandisets/{dandiset}/versions/draft/",
        headers={"Authorization": f"token {key}"},
    ).json()
    assert draft["access"][0]["embargoedUntil"] == "2031-06-30"
    page.context.close()
