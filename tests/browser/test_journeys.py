"""In a real browser (Debian's chromium): a newcomer signs up, is approved, creates and
describes a Dandiset, uploads with the dandi client, browses, finds the file by species,
publishes, and a visitor reads, cites and downloads it. Screenshots go to artifacts/."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from ..e2e.test_dandi_client import write_nwb
from .conftest import ADMIN

pytestmark = pytest.mark.browser

USER = ("grace@example.org", "Grace Hopper", "grace password 42")
MOUSE = "Mus musculus - House mouse"
PHONE = {"width": 390, "height": 844}


def unlabelled_inputs(page: Page) -> list[str]:
    """Form controls a screen reader could not name."""
    return page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.type !== 'hidden' && !e.closest('[aria-hidden=true]'))
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.name || e.id)"""
    )


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.locator("#f-password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def wait_for(condition, timeout: float = 90, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_newcomer_to_published_dandiset(server, browser, screenshot, tmp_path):
    base = server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()

    # -- sign up (with a mistake first: the error shows and the input stays) --------------
    page.goto(f"{base}/signup")
    assert unlabelled_inputs(page) == []
    page.get_by_label("Email").fill(USER[0])
    page.get_by_label("Name").fill(USER[1])
    page.locator("#f-password").fill("short")
    page.get_by_label("Password again").fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("Use at least 10 characters.")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(USER[0])
    page.locator("#f-password").fill(USER[2])
    page.get_by_label("Password again").fill(USER[2])
    page.get_by_role("button", name="Sign up").click()
    # -- upstream's sign-up questions (an unverified address waits for an admin) ------------
    expect(page.get_by_role("heading", name="Welcome to DANDI")).to_be_visible()
    assert unlabelled_inputs(page) == []
    page.get_by_label("Affiliation(s)").fill("A neuroscience lab")
    page.get_by_label("Lab/project website").fill("https://lab.example.org")
    page.get_by_label("how your research project will utilize DANDI").fill("Share recordings")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("an administrator must approve it")).to_be_visible()
    screenshot(page, "01-signed-up-pending")

    # -- an admin approves -------------------------------------------------------------------
    admin = browser.new_context().new_page()
    sign_in(admin, base, *ADMIN)
    admin.goto(f"{base}/admin/users")
    admin.get_by_role("button", name=f"Approve {USER[0]}").click()
    expect(admin.get_by_text(f"{USER[0]} is now approved")).to_be_visible()
    screenshot(admin, "02-admin-approved")
    admin.context.close()

    # -- the API key, now that the account is approved --------------------------------------
    page.goto(f"{base}/account")
    key = page.locator("#api-key").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{40}", key)

    # -- create a Dandiset, then describe it until it is valid ------------------------------
    page.get_by_role("link", name="New Dandiset").click()
    page.get_by_label("Title").fill("Mouse hippocampus recordings")
    page.get_by_role("button", name="Create Dandiset").click()
    expect(page.get_by_role("heading", name="Edit metadata")).to_be_visible()
    identifier = re.search(r"/dandiset/(\d{6})/", page.url)[1]
    expect(page.locator("#f-description-error")).to_contain_text("required")
    assert unlabelled_inputs(page) == []
    screenshot(page, "03-metadata-form-with-errors")
    page.get_by_label("Description").fill("Extracellular recordings from mouse CA1.")
    page.get_by_label("CC-BY-4.0").check()
    page.get_by_label("Keywords").fill("hippocampus\nplace cells")
    # The archive publishes no address on its own: the contact person's is typed in.
    page.locator("#f-contributor-0-email").fill("contact@example.org")
    page.get_by_role("button", name="Save", exact=True).last.click()
    expect(page.get_by_text("nothing blocks publishing")).to_be_visible()

    def draft_status() -> dict:
        url = f"{base}/api/dandisets/{identifier}/versions/draft/info/"
        return httpx.get(url, headers={"Authorization": f"token {key}"}).json()

    wait_for(lambda: draft_status()["status"] == "Valid", what="a Valid draft")
    page.goto(f"{base}/dandiset/{identifier}")
    expect(page.locator(".status")).to_have_text("Valid")

    # -- upload with the real dandi client ----------------------------------------------------
    local = tmp_path / identifier
    local.mkdir()
    (local / "dandiset.yaml").write_text(f"identifier: '{identifier}'\n")
    write_nwb(local / "sub-mouse1" / "sub-mouse1_ses-day1.nwb", "mouse1", "day1")
    write_nwb(local / "sub-mouse2" / "sub-mouse2_ses-day1.nwb", "mouse2", "day1")
    upload = server.dandi("upload", "-i", base, cwd=local, key=key)
    assert upload.returncode == 0, upload.stdout + upload.stderr

    def publishable() -> bool:
        info = draft_status()
        return (
            info["status"] == "Valid"
            and info["asset_count"] == 2
            and not (info["asset_validation_errors"])
        )

    wait_for(publishable, what="valid assets")

    # -- browse the files ------------------------------------------------------------------------
    page.goto(f"{base}/dandiset/{identifier}")
    page.get_by_role("link", name="Browse files").click()
    expect(page.get_by_role("link", name="sub-mouse1/")).to_be_visible()
    screenshot(page, "04-file-browser")
    page.get_by_role("link", name="sub-mouse1/").click()
    page.get_by_role("link", name="sub-mouse1_ses-day1.nwb", exact=True).click()
    expect(page.get_by_role("heading", name="NWB summary")).to_be_visible()
    expect(page.get_by_text("mouse1 · Mus musculus")).to_be_visible()
    screenshot(page, "05-file-page")

    # -- a visitor finds it by species and finds the file --------------------------------------
    visitor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    visitor.goto(base)
    screenshot(visitor, "00-home")
    visitor.get_by_role("link", name="Browse", exact=True).click()
    visitor.get_by_role("link", name=re.compile(re.escape(MOUSE))).click()
    expect(visitor.get_by_role("heading", name="1 Dandiset")).to_be_visible()
    expect(visitor.get_by_role("link", name="Mouse hippocampus recordings")).to_be_visible()
    visitor.get_by_label("Words to find in Dandisets and file paths").fill("sub-mouse2")
    visitor.get_by_role("button", name="Search", exact=True).last.click()
    file_link = visitor.get_by_role("link", name="sub-mouse2/sub-mouse2_ses-day1.nwb")
    expect(file_link).to_be_visible()
    screenshot(visitor, "06-search-by-species-and-file")
    file_link.click()
    expect(visitor.get_by_role("heading", name="sub-mouse2_ses-day1.nwb")).to_be_visible()

    # -- the owner publishes, with a confirmation ------------------------------------------------
    page.goto(f"{base}/dandiset/{identifier}")
    page.get_by_role("link", name="Publish…").click()
    page.get_by_role("button", name="Publish now").click()
    # The browser itself insists on the confirmation (the server does too: page tests).
    assert page.locator("#f-confirm").evaluate("e => e.validity.valueMissing")
    assert page.url.endswith("/publish")
    page.get_by_label("I understand").check()
    page.get_by_label("Release notes").fill("First release")
    page.get_by_role("button", name="Publish now").click()
    # "Publish now" leads to the new version (through a page that waits for it).
    expect(page.get_by_text("Published: this is version")).to_be_visible(timeout=90_000)
    expect(page.locator("#release-notes")).to_have_text("First release")
    expect(page.get_by_text("Publish…")).to_have_count(0)
    screenshot(page, "07a-published-by-owner")

    def published_version() -> str | None:
        versions = httpx.get(f"{base}/api/dandisets/{identifier}/versions/").json()["results"]
        return next((v["version"] for v in versions if v["version"] != "draft"), None)

    version = published_version()
    assert version and page.url == f"{base}/dandiset/{identifier}/{version}"

    # -- the visitor reads the published landing page, copies the citation, downloads ----------
    visitor.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    visitor.goto(f"{base}/dandiset/{identifier}")
    expect(visitor.locator(".eyebrow")).to_contain_text(version)
    expect(visitor.get_by_role("heading", name="Mouse hippocampus recordings")).to_be_visible()
    citation = visitor.locator("#citation").inner_text()
    assert f"(Version {version})" in citation and "Hopper, Grace" in citation
    visitor.get_by_role("button", name="Copy citation").click()
    expect(visitor.get_by_role("button", name="Copied")).to_be_visible()
    assert visitor.evaluate("navigator.clipboard.readText()") == citation
    ld = visitor.locator('script[type="application/ld+json"]').inner_text()
    assert '"@type": "Dataset"' in ld and MOUSE in ld
    screenshot(visitor, "07-published-landing")
    command = visitor.locator("#download-command").inner_text().split()
    assert command[:2] == ["dandi", "download"]
    download_dir = tmp_path / "download"
    download_dir.mkdir()
    download = server.dandi(*command[1:], cwd=download_dir, key=key)
    assert download.returncode == 0, download.stdout + download.stderr
    assert (download_dir / identifier / "sub-mouse1" / "sub-mouse1_ses-day1.nwb").exists()

    # -- usable on a phone: nothing wider than the screen ----------------------------------------
    phone = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    for path, name in [
        (f"/dandiset/{identifier}", "08-phone-landing"),
        (f"/search?species={MOUSE}", "09-phone-search"),
        (f"/dandiset/{identifier}/{version}/files?location=sub-mouse1", "10-phone-files"),
    ]:
        phone.goto(base + path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        wide = phone.evaluate(
            """w => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > w + 1)
                .slice(0, 5).map(e => e.tagName + '.' + e.className)""",
            PHONE["width"],
        )
        assert width <= PHONE["width"], f"{path} is {width}px wide on a phone: {wide}"
        screenshot(phone, name)
    # Keyboard: the first Tab reaches the skip link, which leads to the content.
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.textContent") == "Skip to content"
    context.close()
