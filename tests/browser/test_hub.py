"""DANDI Hub end to end, in Debian's chromium: "Open in hub" on a Dandiset's page, the
archive's sign-in page, a notebook server started with the person's API key, and in a
real kernel there the key, ``DandiAPIClient()`` and ``dandi ls`` of an embargoed
Dandiset only that key may read. A pending account is refused; an admin is a hub admin."""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pytest
import websocket
from playwright.sync_api import Page, expect

from ..helpers import DANDISET_METADATA
from ..hub import live as hub_live
from ..hub.live import Account, LiveHub

pytestmark = [pytest.mark.browser, pytest.mark.hub]
# The fixtures of the archive and hub (this directory's chromium is the session's one).
live_hub, proxy_prefix = hub_live.live_hub, hub_live.proxy_prefix


def create_dandiset(live: LiveHub, key: str, name: str, **params: str) -> str:
    r = httpx.post(
        f"{live.archive}/api/dandisets/",
        headers={"Authorization": f"token {key}"},
        json={"name": name, "metadata": DANDISET_METADATA},
        params=params,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()["identifier"]


def sign_in_on_archive(page: Page, live: LiveHub, account: Account) -> None:
    """The hub sent the browser to the archive's sign-in page: sign in there."""
    expect(page).to_have_url(re.compile(re.escape(f"{live.archive}/login")))
    page.get_by_label("Email").fill(account.email)
    page.locator("#f-password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()


def hub_token(page: Page, live: LiveHub, username: str) -> str:
    """A hub API token for the signed-in person, asked for as the hub's own pages do
    (their cookie, and its XSRF token)."""
    cookies = page.context.cookies(f"{live.hub}/hub/")
    xsrf = next(c["value"] for c in cookies if c["name"] == "_xsrf")
    r = page.request.post(
        f"{live.hub}/hub/api/users/{username}/tokens",
        headers={"X-XSRFToken": xsrf, "Content-Type": "application/json"},
        data=json.dumps({"note": "test", "expires_in": 600}),
    )
    assert r.status == 201, r.text()
    return r.json()["token"]


def run_in_kernel(server: str, token: str, code: str, timeout: float = 60) -> str:
    """Start a kernel on the person's server, run ``code``, return what it printed."""
    headers = {"Authorization": f"token {token}"}
    r = httpx.post(f"{server}api/kernels", headers=headers, json={"name": "python3"}, timeout=30)
    assert r.status_code == 201, r.text
    kernel = r.json()["id"]
    ws = websocket.create_connection(
        f"{server.replace('http', 'ws', 1)}api/kernels/{kernel}/channels",
        header=[f"Authorization: token {token}"],
        timeout=timeout,
    )
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "session": uuid.uuid4().hex,
                    "username": "test",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "content": {"code": code, "silent": False, "allow_stdin": False},
            }
        )
    )
    printed, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(printed)
        raise AssertionError(f"the kernel did not finish in {timeout} s: {printed}")
    finally:
        ws.close()
        httpx.delete(f"{server}api/kernels/{kernel}", headers=headers, timeout=30)


KERNEL_CODE = """
import os, subprocess
from dandi.dandiapi import DandiAPIClient
print("KEY", os.environ["DANDI_API_KEY"])
print("URL", os.environ["DANDI_API_URL"])
print("NO_ET", os.environ.get("DANDI_NO_ET"))
client = DandiAPIClient()
client.dandi_authenticate()
print("ME", client.get("/users/me/")["username"])
print("NAME", client.get_dandiset("{embargoed}").get_raw_metadata()["name"])
ls = subprocess.run(
    ["dandi", "ls", "-f", "json", os.environ["DANDI_API_URL"] + "/dandisets/{embargoed}/"],
    capture_output=True, text=True, timeout=60,
)
print("LS", ls.returncode, ls.stdout, ls.stderr[-2000:])
"""


def test_open_in_hub_runs_with_the_persons_key(live_hub: LiveHub, browser, screenshot):
    live, user = live_hub, live_hub.accounts["user"]
    key = live.cli("user", "api-key", user.email)
    public = create_dandiset(live, key, "Hub walkthrough")
    embargoed = create_dandiset(live, key, "Only with my key", embargo="true")
    assert httpx.get(f"{live.archive}/api/dandisets/{embargoed}/").status_code in (401, 403)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    # -- the Dandiset's page offers the hub; the hub sends the visitor to sign in -----------
    page.goto(f"{live.archive}/dandiset/{public}")
    expect(page.locator("#hub-link")).to_have_attribute("href", f"{live.hub}/hub/")
    page.get_by_role("link", name="Open in hub").click()
    sign_in_on_archive(page, live, user)
    # -- signed in, a server started, the Dandiset's notebook open in JupyterLab --------------
    notebook = f"{live.hub}/user/{user.username}/lab/tree/dandisets/{public}.ipynb"
    page.wait_for_url(notebook, timeout=60_000)

    token = hub_token(page, live, user.username)
    server = f"{live.hub}/user/{user.username}/"
    headers = {"Authorization": f"token {token}"}
    made = httpx.get(f"{server}api/contents/dandisets/{public}.ipynb", headers=headers).json()
    source = "".join(cell["source"] for cell in made["content"]["cells"])
    assert f'client.get_dandiset("{public}")' in source and "DandiAPIClient()" in source

    # -- in a kernel of that server: the key, the client, `dandi ls` of an embargoed set ---
    printed = run_in_kernel(server, token, KERNEL_CODE.replace("{embargoed}", embargoed))
    assert f"KEY {key}\n" in printed
    assert f"URL {live.archive}/api\n" in printed
    assert "NO_ET 1\n" in printed  # the --config file was read
    assert f"ME {user.username}\n" in printed
    assert "NAME Only with my key\n" in printed
    ls_line = printed[printed.index("LS ") :]
    assert ls_line.startswith("LS 0 "), ls_line
    assert f'"identifier": "{embargoed}"' in ls_line or embargoed in ls_line, ls_line

    # -- meanwhile JupyterLab showed the notebook ---------------------------------------
    expect(page.get_by_text(f'client.get_dandiset("{public}")')).to_be_visible()
    screenshot(page, "hub-01-notebook")
    context.close()


def test_pending_refused_and_admin_is_hub_admin(live_hub: LiveHub, browser):
    live = live_hub
    # -- a pending account never gets a code: the archive says why, the hub never sees it ---
    page = browser.new_context().new_page()
    page.goto(f"{live.hub}/hub/login")
    sign_in_on_archive(page, live, live.accounts["pending"])
    expect(page.get_by_role("heading", name="You cannot sign in to DANDI Hub yet")).to_be_visible()
    assert page.url.startswith(live.archive)
    page.context.close()

    # -- an archive administrator is a hub admin -------------------------------------------
    admin = live.accounts["admin"]
    page = browser.new_context().new_page()
    page.goto(f"{live.hub}/hub/login?next=%2Fhub%2Fhome")
    sign_in_on_archive(page, live, admin)
    page.wait_for_url(f"{live.hub}/hub/home")
    me = page.request.get(f"{live.hub}/hub/api/user").json()
    assert me["name"] == admin.username and me["admin"] is True
    assert sorted(me["groups"]) == ["admin", "approved"]
    page.context.close()
