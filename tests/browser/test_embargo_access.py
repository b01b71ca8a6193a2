"""In a real browser: a signed-in stranger asks for access to an embargoed Dandiset,
its owner accepts on the access panel, the reviewer reads it; then the owner lifts the
embargo with the Unembargo button (confirmation dialog). Screenshots go to artifacts/."""

from __future__ import annotations

import subprocess

import httpx
import pytest
from playwright.sync_api import expect

from ..helpers import BIN
from .test_journeys import sign_in, wait_for

pytestmark = pytest.mark.browser

OWNER = ("olga@example.org", "Olga Owner", "olga password 42")
REVIEWER = ("rita@example.org", "Rita Reviewer", "rita password 42")


def account(server, email: str, name: str, password: str) -> str:
    """An approved account with a password; returns its API key."""
    cli = str(BIN / "dandi-archive")
    run = {"env": server.env, "check": True, "capture_output": True, "text": True}
    subprocess.run([cli, "user", "create", email, "--name", name], **run)
    subprocess.run(
        [cli, "user", "set-password", email, "--password-stdin"], input=password + "\n", **run
    )
    return subprocess.run([cli, "user", "api-key", email], **run).stdout.strip()


def test_request_access_accept_and_unembargo(server, browser, screenshot):
    base = server.url
    owner_key = account(server, *OWNER)
    account(server, *REVIEWER)
    r = httpx.post(
        f"{base}/api/dandisets/",
        params={"embargo": "true"},
        json={"name": "Otters under review", "metadata": {"description": "Sealed."}},
        headers={"Authorization": f"token {owner_key}"},
    )
    assert r.status_code == 200, r.text
    identifier = r.json()["identifier"]

    # -- the reviewer, not yet let in, asks ---------------------------------------------------
    reviewer = browser.new_context().new_page()
    reviewer.context.set_default_timeout(15_000)
    sign_in(reviewer, base, REVIEWER[0], REVIEWER[2])
    reviewer.goto(f"{base}/dandiset/{identifier}")
    expect(reviewer.get_by_role("heading", name="This Dandiset is embargoed")).to_be_visible()
    expect(reviewer.get_by_text("Otters under review")).to_have_count(0)
    reviewer.get_by_label("Message to the owners").fill("Reviewer 2 for the Journal of Otters.")
    reviewer.get_by_role("button", name="Request access").click()
    expect(reviewer.get_by_text("Your request was sent")).to_be_visible()
    expect(reviewer.locator("#request-pending")).to_be_visible()
    screenshot(reviewer, "embargo-01-access-requested")

    # -- the owner accepts on the access panel --------------------------------------------------
    owner = browser.new_context().new_page()
    owner.context.set_default_timeout(15_000)
    sign_in(owner, base, OWNER[0], OWNER[2])
    owner.goto(f"{base}/dandiset/{identifier}")
    link = owner.locator("#access-link")
    expect(link).to_contain_text("1 request")
    link.click()
    expect(owner.get_by_text("Reviewer 2 for the Journal of Otters.")).to_be_visible()
    screenshot(owner, "embargo-02-access-panel")
    owner.get_by_role("button", name="Accept").click()
    expect(owner.get_by_text("Rita Reviewer can now read this Dandiset.")).to_be_visible()
    expect(owner.locator("ul.readers")).to_contain_text("Rita Reviewer")

    # -- the reviewer reads it now, and has no panel of its own ---------------------------------
    reviewer.goto(f"{base}/dandiset/{identifier}")
    expect(reviewer.get_by_role("heading", name="Otters under review")).to_be_visible()
    expect(reviewer.locator("#access-link")).to_have_count(0)
    screenshot(reviewer, "embargo-03-reviewer-reads")

    # -- the owner lifts the embargo (box ticked, dialog confirmed) -----------------------------
    owner.goto(f"{base}/dandiset/{identifier}/access")
    owner.get_by_label("I understand that everyone will be able to read").check()
    dialogs: list[str] = []
    owner.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    owner.get_by_role("button", name="Unembargo").click()
    expect(owner.get_by_text("The embargo is being lifted")).to_be_visible()
    assert dialogs and "cannot be undone" in dialogs[0]

    def is_open() -> bool:
        r = httpx.get(f"{base}/api/dandisets/{identifier}/")
        return r.status_code == 200 and r.json()["embargo_status"] == "OPEN"

    wait_for(is_open, what="the embargo to be lifted")
    anonymous = browser.new_context().new_page()
    anonymous.goto(f"{base}/dandiset/{identifier}")
    expect(anonymous.get_by_role("heading", name="Otters under review")).to_be_visible()
    for page in (reviewer, owner, anonymous):
        page.context.close()
