"""Fixtures of a live archive and a live DANDI Hub (``dandi-archive hub``: the real
JupyterHub and configurable-http-proxy) on loopback ports, for tests/browser/test_hub.py
(where the one chromium of the session is)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dandi_archive.accounts import registration, users
from dandi_archive.config import Settings
from dandi_archive.db.models import UserStatus
from dandi_archive.db.session import Database

from ..conftest import free_port
from ..helpers import BIN

REPO = Path(__file__).resolve().parents[2]
# Where `make test` (target hub-proxy) installs the proxy; also DANDI_HUB_PROXY_PREFIX.
PROXY_PREFIX = Path(os.environ.get("DANDI_HUB_PROXY_PREFIX", REPO / "build" / "hub-node"))


def _missing(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def proxy_prefix() -> Path:
    """configurable-http-proxy, installed from npm here if it is missing (as the hub
    command would); skipped where npm is missing too, except in CI."""
    try:
        import jupyterhub  # noqa: F401
        import oauthenticator  # noqa: F401
    except ImportError as exc:
        _missing(f"{exc.name} is not installed: pip install -e '.[hub]'")
    from dandi_archive.hub import proxy

    try:
        proxy.ensure_proxy(PROXY_PREFIX)
    except proxy.ProxyMissing as exc:
        _missing(str(exc))
    return PROXY_PREFIX


@dataclass
class Account:
    email: str
    name: str
    password: str
    username: str = ""


@dataclass
class LiveHub:
    archive: str
    hub: str
    env: dict[str, str]
    data_dir: Path
    accounts: dict[str, Account]

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "dandi-archive"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()


ACCOUNTS = {
    "user": Account("hana@example.org", "Hana Hub", "hana password 123"),
    "pending": Account("pat@example.org", "Pat Pending", "pat password 123"),
    "admin": Account("ada@example.org", "Ada Admin", "ada password 123"),
}


def _make_accounts(settings: Settings) -> dict[str, Account]:
    db = Database(settings.sqlalchemy_url)
    made = {}
    try:
        with db.session(write=True) as session:
            for role, account in ACCOUNTS.items():
                user = users.create_user(
                    session,
                    account.email,
                    name=account.name,
                    admin=role == "admin",
                    status=UserStatus.PENDING if role == "pending" else UserStatus.APPROVED,
                )
                registration.set_password(session, user, account.password)
                made[role] = Account(**{**account.__dict__, "username": user.username})
    finally:
        db.dispose()
    return made


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()[-5000:]}")


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory: pytest.TempPathFactory, proxy_prefix: Path) -> Iterator[LiveHub]:
    tmp_path = tmp_path_factory.mktemp("hub")
    archive_port, hub_port = free_port(), free_port()
    data_dir = tmp_path / "archive-data"
    archive, hub = f"http://127.0.0.1:{archive_port}", f"http://127.0.0.1:{hub_port}"
    env = {
        **os.environ,
        "DANDI_ARCHIVE_DATA_DIR": str(data_dir),
        "DANDI_ARCHIVE_HOST": "127.0.0.1",
        "DANDI_ARCHIVE_PORT": str(archive_port),
        "DANDI_ARCHIVE_HUB_URL": hub,
        "DANDI_HUB_PROXY_PREFIX": str(proxy_prefix),
    }
    cli = str(BIN / "dandi-archive")
    subprocess.run([cli, "migrate"], env=env, check=True, capture_output=True)
    accounts = _make_accounts(Settings(data_dir=data_dir))
    # The servers skip the dandi client's version check (no network here): the
    # --config file is read, and its environment reaches every server.
    config = tmp_path / "hub_config.py"
    config.write_text('c.Spawner.environment = {"DANDI_NO_ET": "1"}\n')
    logs = tmp_path / "archive.log", tmp_path / "hub.log"
    processes = []
    with open(logs[0], "w") as archive_log, open(logs[1], "w") as hub_log:
        try:
            processes.append(
                subprocess.Popen([cli, "serve"], env=env, stdout=archive_log, stderr=archive_log)
            )
            _wait_until_up(f"{archive}/api/info/", processes[0], logs[0])
            hub_command = [cli, "hub", "--port", str(hub_port), "--config", str(config)]
            processes.append(subprocess.Popen(hub_command, env=env, stdout=hub_log, stderr=hub_log))
            _wait_until_up(f"{hub}/hub/health", processes[1], logs[1])
            yield LiveHub(archive, hub, env, data_dir, accounts)
        finally:
            # SIGTERM: the hub stops the servers it started and its proxy.
            for process in reversed(processes):
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
