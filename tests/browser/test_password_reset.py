"""In a real browser, on a live archive with no SMTP server: "Forgot your password?",
the link read from the .eml file the archive wrote to its outbox, a new password, and
the same link refused the second time."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy

import pytest
from playwright.sync_api import expect

from .conftest import ADMIN
from .test_journeys import sign_in, unlabelled_inputs

pytestmark = pytest.mark.browser
NEW_PASSWORD = "a fresh admin passphrase"


def mailed_link(outbox, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in outbox.glob("*.eml"):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert message["To"] == ADMIN[0]
            return re.search(r"http://\S+/password/reset\?token=\S+", message.get_content())[0]
        time.sleep(0.2)
    raise AssertionError("no mail in the outbox")


def test_forgotten_password_through_the_outbox(server, browser, screenshot):
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    assert unlabelled_inputs(page) == []
    page.get_by_label("Email").fill(ADMIN[0])
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("a link to set a new password is on its way")).to_be_visible()

    link = mailed_link(server.data_dir / "outbox")
    assert link.startswith(f"{server.url}/password/reset?token=")
    page.goto(link)
    assert unlabelled_inputs(page) == []
    page.locator("#f-password").fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    screenshot(page, "password-reset")
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_text("Your new password is set")).to_be_visible()

    sign_in(page, server.url, ADMIN[0], NEW_PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.goto(link)
    expect(page.get_by_text("This link was already used")).to_be_visible()
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()
