"""In a real browser at desktop and phone widths: the admin's Approve/Reject buttons are
on screen without scrolling sideways and rejecting an approved account takes a confirmed
second step; search filters come before the results (folded on a phone); long file names
wrap after "/", "_" (or "-") rather than mid-word. Screenshots go to artifacts/."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from ..helpers import BIN, ApiClient
from .conftest import ADMIN

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
LONG_NAME = "sub-hippocampus01_ses-20240101T120000_acq-highresolution_desc-preprocessed_ecephys.nwb"
PASSWORD = "a password for tests"
# Where a name may wrap: after the <wbr> following "/" and "_", and after a hyphen (the
# browser's own rule; BIDS names join key and value with one).
WORD_ENDS = {"/", "_", "-"}


@dataclass
class LiveApi(ApiClient):
    """The test helpers' API calls, sent to the running server instead of the ASGI app."""

    base: str = ""

    def request(
        self, method: str, url: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"token {token}"
        if url.startswith("/"):
            url = self.base + url
        return self.http.request(method, url, headers=headers, **kwargs)


def cli(server, *args: str, stdin: str | None = None) -> str:
    run = subprocess.run(
        [str(BIN / "dandi-archive"), *args],
        env=server.env,
        input=stdin,
        check=True,
        capture_output=True,
        text=True,
    )
    return run.stdout.strip()


def make_user(server, email: str, name: str) -> None:
    cli(server, "user", "create", email, "--name", name)
    cli(server, "user", "set-password", email, "--password-stdin", stdin=PASSWORD + "\n")


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.locator("#f-password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def no_sideways_scroll(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide in a {width}px window"


def on_screen(page: Page, name: str, width: int) -> None:
    """The button is visible and wholly inside the window's width."""
    button = page.get_by_role("button", name=name, exact=True)
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)


LINE_BREAKS = """el => {
  // The character before each place the text wraps to a new line.
  const breaks = []; let top = null; let previous = "";
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      if (top !== null && rect.top > top + 2) breaks.push(previous);
      top = rect.top; previous = node.data[i];
    }
  }
  return breaks;
}"""


def test_admin_search_and_files_at_desktop_and_phone_widths(server, browser, screenshot):
    base = server.url
    for email, name in [
        ("desk@example.org", "Dana Desk"),
        ("phone@example.org", "Pat Phone"),
    ]:
        make_user(server, email, name)
    # A newcomer, still to be approved.
    newcomer = browser.new_context().new_page()
    newcomer.goto(f"{base}/signup")
    newcomer.get_by_label("Email").fill("new@example.org")
    newcomer.get_by_label("Name").fill("Nia Newcomer")
    newcomer.locator("#f-password").fill(PASSWORD)
    newcomer.get_by_label("Password again").fill(PASSWORD)
    newcomer.get_by_role("button", name="Sign up").click()
    newcomer.context.close()
    # A Dandiset with a long file name, uploaded through the API.
    key = cli(server, "user", "api-key", ADMIN[0])
    api = LiveApi(client=None, archive=None, base=base)  # type: ignore[arg-type]
    dandiset = api.create_dandiset(key, "Long names")
    asset = api.add_asset(key, dandiset, f"sub-hippocampus01/{LONG_NAME}", b"data")

    for viewport, label, rejected in [
        (DESKTOP, "desktop", "desk@example.org"),
        (PHONE, "phone", "phone@example.org"),
    ]:
        width = viewport["width"]
        context = browser.new_context(viewport=viewport, is_mobile=label == "phone")
        context.set_default_timeout(15_000)
        page = context.new_page()
        sign_in(page, base, *ADMIN)

        # -- /admin/users: every decision button on screen ---------------------------------
        page.goto(f"{base}/admin/users")
        no_sideways_scroll(page, width)
        if label == "desktop":
            on_screen(page, "Approve new@example.org", width)
        on_screen(page, f"Reject {rejected}", width)
        screenshot(page, f"issue16-admin-users-{label}")

        # Rejecting an approved account: a second page, and a box to tick.
        page.get_by_role("button", name=f"Reject {rejected}", exact=True).click()
        expect(page.get_by_role("heading", name=f"Reject {rejected}?")).to_be_visible()
        no_sideways_scroll(page, width)
        page.get_by_role("button", name=f"Reject {rejected}").click()
        assert page.locator("#f-confirm").evaluate("e => e.validity.valueMissing")
        page.get_by_label("Yes, reject this approved account.").check()
        page.get_by_role("button", name=f"Reject {rejected}").click()
        expect(page.get_by_text(f"{rejected} is now rejected")).to_be_visible()
        if label == "desktop":
            page.get_by_role("button", name="Approve new@example.org").click()
            expect(page.get_by_text("new@example.org is now approved")).to_be_visible()
        else:
            no_sideways_scroll(page, width)

        # -- /search: the filters before the results, folded on a phone --------------------
        page.goto(f"{base}/search?hide_empty=0")
        no_sideways_scroll(page, width)
        filters = page.locator("details#filters")
        results = page.locator(".results h2.count")
        expect(results).to_be_visible()
        if label == "phone":
            assert filters.evaluate("e => e.open") is False
            assert filters.bounding_box()["y"] < results.bounding_box()["y"]
            filters.locator("summary").click()
            expect(page.get_by_role("heading", name="License")).to_be_visible()
        else:
            assert filters.evaluate("e => e.open") is True
            expect(page.get_by_role("heading", name="License")).to_be_visible()
            assert filters.bounding_box()["x"] < results.bounding_box()["x"]
        screenshot(page, f"issue16-search-{label}")

        # -- long file names wrap after "/" and "_" ----------------------------------------
        page.goto(f"{base}/dandiset/{dandiset}/draft/files?location=sub-hippocampus01")
        no_sideways_scroll(page, width)
        link = page.get_by_role("link", name=LONG_NAME, exact=True)
        expect(link).to_be_visible()
        screenshot(page, f"issue16-files-{label}")
        breaks = link.evaluate(LINE_BREAKS)
        if label == "phone":
            assert breaks, "the long name should wrap on a phone"
        assert set(breaks) <= WORD_ENDS, f"wrapped mid-word after {breaks}"
        page.goto(f"{base}/dandiset/{dandiset}/draft/files/{asset['asset_id']}")
        no_sideways_scroll(page, width)
        heading = page.get_by_role("heading", name=LONG_NAME)
        assert set(heading.evaluate(LINE_BREAKS)) <= WORD_ENDS
        path = page.locator("code.filename")
        assert set(path.evaluate(LINE_BREAKS)) <= WORD_ENDS
        screenshot(page, f"issue16-file-{label}")
        context.close()
