"""DANDI Hub's parts without a running hub: its OAuth client at the archive (registered
once, reused, replaced when stale), who gets in, the servers' environment, the notebook
"Open in hub" writes, the proxy install, the command's refusals, and the pages' links."""

from __future__ import annotations

import asyncio
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from dandi_archive.cli import main
from dandi_archive.oauth import clients

pytest.importorskip("jupyterhub")
pytest.importorskip("oauthenticator")

from dandi_archive.hub import proxy
from dandi_archive.hub.authenticator import ArchiveAuthenticator
from dandi_archive.hub.environment import api_key_variable, notebook_environment
from dandi_archive.hub.notebooks import dandiset_notebook, open_dandiset
from dandi_archive.hub.registration import CLIENT_FILE, ensure_client

CALLBACK = "http://127.0.0.1:8888/hub/oauth_callback"


def run(coroutine):
    """Run a coroutine in a thread of its own: Playwright's sync API (other tests of the
    session) keeps an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _ensure(api, hub_dir: Path, redirect_uri: str = CALLBACK):
    with api.archive.db.session(write=True) as session:
        return ensure_client(session, hub_dir, redirect_uri)


def _registered(api) -> list[dict]:
    with api.archive.db.session() as session:
        return clients.list_clients(session)


def test_hub_client_registered_once_then_reused(api, tmp_path):
    hub_dir = tmp_path / "hub"
    first, registered = _ensure(api, hub_dir)
    assert registered
    kept = hub_dir / CLIENT_FILE
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # the secret is in it
    [row] = _registered(api)
    assert row["client_id"] == first.client_id and row["trusted"] is True
    assert row["redirect_uris"] == [CALLBACK] and row["name"] == "DANDI Hub"
    with api.archive.db.session() as session:
        client = clients.find_client(session, first.client_id)
        assert client is not None and client.check_client_secret(first.client_secret)

    again, registered = _ensure(api, hub_dir)
    assert (again, registered) == (first, False)
    assert len(_registered(api)) == 1


def test_hub_client_replaced_when_stale(api, tmp_path):
    hub_dir = tmp_path / "hub"
    first, _ = _ensure(api, hub_dir)
    # The hub moved: a client for the new callback, and the old one is gone.
    moved, registered = _ensure(api, hub_dir, "https://hub.example.org/hub/oauth_callback")
    assert registered and moved.client_id != first.client_id
    assert [r["client_id"] for r in _registered(api)] == [moved.client_id]
    # An administrator removed it: registered again.
    with api.archive.db.session(write=True) as session:
        clients.remove_client(session, moved.client_id)
    back, registered = _ensure(api, hub_dir, moved.redirect_uri)
    assert registered and back.client_id != moved.client_id
    # A file that is not the hub's: registered again, nothing else touched.
    (hub_dir / CLIENT_FILE).write_text("not json")
    last, registered = _ensure(api, hub_dir, moved.redirect_uri)
    assert registered
    assert {r["client_id"] for r in _registered(api)} == {back.client_id, last.client_id}


def _authenticator() -> ArchiveAuthenticator:
    return ArchiveAuthenticator(
        client_id="hub",
        client_secret="secret",
        archive_api_url="http://127.0.0.1:8000/api",
        authorize_url="http://127.0.0.1:8000/oauth/authorize",
        token_url="http://127.0.0.1:8000/oauth/token",
        userdata_url="http://127.0.0.1:8000/oauth/userinfo",
    )


@pytest.mark.parametrize(
    ("groups", "allowed"),
    [(["approved"], True), (["approved", "admin"], True), ([], False), (["admin"], False)],
)
def test_only_approved_accounts_get_in(groups, allowed):
    auth = _authenticator()
    assert auth.scope == ["openid", "archive"]
    assert auth.username_claim == "preferred_username" and auth.enable_pkce
    model = {"name": "jane-doe", "admin": None, "groups": groups, "auth_state": {}}
    assert run(auth.check_allowed("jane-doe", model)) is allowed
    assert run(auth.check_allowed("jane-doe", None)) is False


def test_groups_from_the_claims_make_admins():
    """OAuthenticator's group handling with the archive's claims: ``admin`` makes a hub
    admin, and an account that is not approved is given no API key (no request made)."""
    auth = _authenticator()

    def model(groups):
        state = {"access_token": "t", "oauth_user": {"preferred_username": "x", "groups": groups}}
        return {"name": "x", "admin": None, "auth_state": state}

    admin = run(auth._apply_managed_groups(model(["approved", "admin"])))
    assert admin["admin"] is True and admin["groups"] == ["admin", "approved"]
    plain = run(auth._apply_managed_groups(model(["approved"])))
    assert plain["admin"] is False
    pending = run(auth.update_auth_model(model([])))
    assert "dandi_api_key" not in pending["auth_state"]
    odd = run(auth._apply_managed_groups(model("approved")))  # not a list
    assert odd["groups"] == []


def test_server_environment_names_the_archive_and_key():
    env = notebook_environment("http://127.0.0.1:8123/api", "k" * 40)
    assert env == {
        "DANDI_API_URL": "http://127.0.0.1:8123/api",
        "DANDI_INSTANCE": "http://127.0.0.1:8123/api",
        "DANDI_API_KEY": "k" * 40,
        "127.0.0.1:8123_API_KEY": "k" * 40,
    }
    # A URL the dandi client knows by name: its name, as the client spells variables.
    assert api_key_variable("http://localhost:8000/api") == "DANDI_API_LOCAL_DOCKER_TESTS_API_KEY"
    assert api_key_variable("https://dandi.example.org/api") == "DANDI.EXAMPLE.ORG_API_KEY"


def test_dandiset_notebook_is_a_valid_notebook():
    import nbformat

    notebook = nbformat.from_dict(dandiset_notebook("000123"))
    nbformat.validate(notebook)
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert "client = DandiAPIClient()\n" in code[0]
    assert 'dandiset = client.get_dandiset("000123")' in code[0]
    for source in code:
        compile(source, "cell", "exec")


@pytest.mark.parametrize("path", ["lab/tree/x.ipynb", "dandiset/12345", "dandiset/000001/x"])
def test_other_user_redirects_are_left_alone(path):
    assert run(open_dandiset(path, None, None, "/")) is None


def test_proxy_found_under_its_prefix_or_refused_without_npm(tmp_path, monkeypatch):
    command = proxy.installed_command(tmp_path / "node")
    command.parent.mkdir(parents=True)
    command.write_text("#!/bin/sh\n")
    assert proxy.ensure_proxy(tmp_path / "node") == command
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert proxy.find_proxy(tmp_path / "elsewhere") is None
    with pytest.raises(proxy.ProxyMissing, match="npm is not installed"):
        proxy.ensure_proxy(tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()


def test_hub_command_refusals(tmp_path):
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    prefix = tmp_path / "node"
    command = proxy.installed_command(prefix)
    command.parent.mkdir(parents=True)
    command.write_text("#!/bin/sh\n")
    only_id = runner.invoke(main, ["hub", "--client-id", "x", "--proxy-prefix", str(prefix), *data])
    assert only_id.exit_code == 2 and "--client-secret" in only_id.output
    no_proxy = runner.invoke(
        main,
        ["hub", "--proxy-prefix", str(tmp_path / "none"), *data],
        env={"PATH": str(tmp_path / "empty")},
    )
    assert no_proxy.exit_code == 1 and "npm" in no_proxy.output
    assert not os.path.exists(tmp_path / "data" / "hub" / CLIENT_FILE)


def test_pages_link_the_hub_when_configured(make_api):
    plain = make_api()
    dandiset = plain.create_dandiset(plain.make_user())
    assert 'id="hub-link"' not in plain.get("/").text
    assert "Open in hub" not in plain.get(f"/dandiset/{dandiset}").text

    api = make_api(hub_url="https://hub.example.org/")
    info = api.get("/api/info/").json()
    assert info["services"]["jupyterhub"] == {"url": "https://hub.example.org"}
    assert '<a href="https://hub.example.org/hub/" id="hub-link">Hub</a>' in api.get("/").text
    dandiset = api.create_dandiset(api.make_user())
    landing = api.get(f"/dandiset/{dandiset}").text
    assert f'href="https://hub.example.org/hub/user-redirect/dandiset/{dandiset}"' in landing
    assert "Open in hub" in landing
