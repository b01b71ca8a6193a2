"""``dandi-archive serve/migrate/worker`` fail at start in one line naming the setting."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import free_port


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DANDI_ARCHIVE_")}
    environment |= env or {}
    return subprocess.run(
        [sys.executable, "-m", "dandi_archive.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_taken_port_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--data-dir", str(data_dir))
    assert_one_line_failure(result, f"Port {port}", "DANDI_ARCHIVE_PORT")
    assert not data_dir.exists()


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_unwritable_data_dir_is_named(tmp_path: Path, command: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    data_dir = blocker / "data"
    args = ["--port", str(free_port())] if command == "serve" else []
    result = run_cli(command, *args, "--data-dir", str(data_dir))
    assert_one_line_failure(result, str(data_dir), "DANDI_ARCHIVE_DATA_DIR")


@pytest.mark.parametrize("command", ["serve", "migrate", "worker"])
def test_unreachable_database_is_named(tmp_path: Path, command: str) -> None:
    env = {
        "DANDI_ARCHIVE_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x",
        "DANDI_ARCHIVE_DATA_DIR": str(tmp_path / "data"),
        "DANDI_ARCHIVE_PORT": str(free_port()),
        "DANDI_ARCHIVE_BROKER_URL": "redis://127.0.0.1:1/0",
    }
    result = run_cli(command, env=env)
    assert_one_line_failure(result, "Cannot reach the database", "DANDI_ARCHIVE_DATABASE_URL")


def test_unreachable_s3_endpoint_is_named(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    env = {
        "DANDI_ARCHIVE_S3_BUCKET": "archive",
        "DANDI_ARCHIVE_S3_ENDPOINT_URL": endpoint,
        "DANDI_ARCHIVE_S3_ACCESS_KEY_ID": "key",
        "DANDI_ARCHIVE_S3_SECRET_ACCESS_KEY": "secret",
        "DANDI_ARCHIVE_PORT": str(free_port()),
    }
    result = run_cli("serve", "--data-dir", str(tmp_path / "data"), env=env)
    assert_one_line_failure(result, endpoint, "DANDI_ARCHIVE_S3_ENDPOINT_URL")


def test_invalid_setting_is_named(tmp_path: Path) -> None:
    result = run_cli(
        "migrate",
        "--data-dir",
        str(tmp_path / "data"),
        env={"DANDI_ARCHIVE_MAX_REQUEST_BODY_BYTES": "lots"},
    )
    assert_one_line_failure(result, "DANDI_ARCHIVE_MAX_REQUEST_BODY_BYTES")


@pytest.mark.parametrize(("name", "problem"), [("Bad_Name", "not an S3"), ("api", "taken")])
def test_unusable_folder_bucket_name_is_named(tmp_path: Path, name: str, problem: str) -> None:
    result = run_cli(
        "serve",
        "--port",
        str(free_port()),
        "--data-dir",
        str(tmp_path / "data"),
        env={"DANDI_ARCHIVE_FOLDER_BUCKET_NAME": name},
    )
    # authlib warns about its own imports when the app is built (two lines of its own).
    result.stderr = "\n".join(
        line
        for line in result.stderr.splitlines()
        if "AuthlibDeprecationWarning" not in line and "import httpx2" not in line
    )
    assert_one_line_failure(result, "DANDI_ARCHIVE_FOLDER_BUCKET_NAME", problem)
