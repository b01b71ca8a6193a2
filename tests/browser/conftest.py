"""A live archive (``dandi-archive serve``) and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ..conftest import free_port
from ..helpers import BIN, run_dandi

CHROMIUM = os.environ.get("DANDI_ARCHIVE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ADMIN = ("admin@example.org", "admin password 123")


@dataclass
class Server:
    url: str
    env: dict[str, str]
    data_dir: Path

    def dandi(self, *args: str, cwd: Path, key: str) -> subprocess.CompletedProcess[str]:
        return run_dandi(self.url, key, *args, cwd=cwd)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    data_dir = tmp_path / "archive-data"
    env = {
        **os.environ,
        "DANDI_ARCHIVE_DATA_DIR": str(data_dir),
        "DANDI_ARCHIVE_HOST": "127.0.0.1",
        "DANDI_ARCHIVE_PORT": str(port),
    }
    cli = str(BIN / "dandi-archive")
    run = {"env": env, "check": True, "capture_output": True, "text": True}
    subprocess.run([cli, "user", "create", ADMIN[0], "--name", "Ada Admin", "--admin"], **run)
    subprocess.run(
        [cli, "user", "set-password", ADMIN[0], "--password-stdin"], input=ADMIN[1] + "\n", **run
    )
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen([cli, "serve"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{url}/api/info/").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError((tmp_path / "server.log").read_text())
    yield Server(url=url, env=env, data_dir=data_dir)
    process.terminate()
    process.wait(20)
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: run scripts/ensure_chromium.sh (make test does)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> None:
        path = ARTIFACTS / f"{name}.png"  # a name may hold a folder: "phone/home"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)

    return take
