"""``dandi-archive oauth add-client / list-clients / remove-client``, run as commands on
a data dir, and the registered client signing someone in on an archive of that dir."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from authlib.integrations.base_client import OAuthError
from fastapi.testclient import TestClient
from sqlalchemy import select

from dandi_archive.app import create_app
from dandi_archive.archive import build_archive
from dandi_archive.config import Settings
from dandi_archive.db.models import OAuthClient

from ..helpers import ApiClient
from ..test_cli_startup import run_cli
from ..web.helpers import Browser, make_account
from .helpers import ISSUER, App, sign_in_and_get_tokens

HUB = "https://hub.example.org/hub/oauth_callback"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def archive_of(data_dir: Path) -> Iterator[ApiClient]:
    """The archive serving that data dir (after the commands made it)."""
    opened: list[tuple[TestClient, object]] = []

    def open_it() -> ApiClient:
        archive = build_archive(Settings(data_dir=data_dir, base_url=ISSUER))
        client = TestClient(create_app(archive), base_url="http://testserver")
        client.__enter__()
        opened.append((client, archive))
        return ApiClient(client, archive)

    yield open_it
    for client, archive in opened:
        client.__exit__(None, None, None)
        archive.close()  # type: ignore[attr-defined]


def oauth(data_dir: Path, *args: str):
    return run_cli("oauth", *args, "--data-dir", str(data_dir))


def test_add_list_use_and_remove_a_client(data_dir: Path, archive_of) -> None:
    made = oauth(
        data_dir,
        "add-client",
        "--name",
        "Lab Hub",
        "--redirect-uri",
        HUB,
        "--redirect-uri",
        "http://localhost:7777/cb",
        "--trusted",
    )
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert set(created) == {"client_id", "client_secret"}

    listed = oauth(data_dir, "list-clients")
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert entry["client_id"] == created["client_id"] and entry["name"] == "Lab Hub"
    assert entry["redirect_uris"] == [HUB, "http://localhost:7777/cb"] and entry["trusted"]
    assert created["client_secret"] not in listed.stdout

    api = archive_of()
    with api.archive.db.session() as session:
        stored = session.scalars(select(OAuthClient)).one()
        assert created["client_secret"] not in (stored.secret_hash, *stored.redirect_uris)
    make_account(api, "jane@example.org")
    browser = Browser(api)
    browser.sign_in("jane@example.org")
    app = App(created["client_id"], created["client_secret"], "http://localhost:7777/cb")
    rp, _, _ = sign_in_and_get_tokens(api, browser, app)  # trusted: no consent page
    assert rp.get(f"{ISSUER}/oauth/userinfo").json()["preferred_username"] == "jane-doe"

    removed = oauth(data_dir, "remove-client", created["client_id"])
    assert removed.returncode == 0, removed.stderr
    assert json.loads(oauth(data_dir, "list-clients").stdout) == []
    assert rp.get(f"{ISSUER}/oauth/userinfo").status_code == 401
    with pytest.raises(OAuthError):
        rp.refresh_token(f"{ISSUER}/oauth/token")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["add-client", "--name", "X", "--redirect-uri", "ftp://x.example/cb"], "http"),
        (["add-client", "--name", "X", "--redirect-uri", "https://x.example/cb#frag"], "fragment"),
        (["add-client", "--name", " ", "--redirect-uri", HUB], "name"),
        (["remove-client", "no-such-client"], "No OAuth client"),
    ],
)
def test_refusals_are_one_line(data_dir: Path, args: list[str], words: str) -> None:
    result = oauth(data_dir, *args)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert words in result.stderr, result.stderr
    assert json.loads(oauth(data_dir, "list-clients").stdout) == []
