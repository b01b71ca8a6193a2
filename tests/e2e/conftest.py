"""A real ``dandi-archive serve`` process, driven by the real ``dandi`` client."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest
from sqlalchemy import create_engine, text

from ..conftest import free_port
from ..helpers import BIN, run_dandi


@dataclass
class LiveArchive:
    url: str
    key: str
    env: dict[str, str]
    data_dir: Path
    serve_command: list[str]
    log: IO[str]
    server: subprocess.Popen | None = None

    def start(self) -> None:
        self.server = subprocess.Popen(
            self.serve_command, env=self.env, stdout=self.log, stderr=self.log
        )
        for _ in range(150):
            try:
                if httpx.get(f"{self.url}/api/info/").status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.server.kill()
        raise RuntimeError((self.data_dir.parent / "server.log").read_text())

    def kill(self) -> None:
        """Stop the server the hard way (SIGKILL), as a crash would."""
        assert self.server is not None
        self.server.kill()
        self.server.wait(10)

    def kill_while_blocked(self, table: str, start: Callable[[], None], what: str) -> None:
        """Hold a lock on ``table`` (PostgreSQL), call ``start`` (which makes a job write
        to it), and kill the server once the job waits for the lock: a crash at exactly
        that step. The lock is let go only after the server is dead."""
        engine = create_engine(self.env["DANDI_ARCHIVE_DATABASE_URL"])
        with engine.connect() as blocker:
            blocker.execute(text("BEGIN"))
            blocker.execute(text(f"LOCK TABLE {table} IN SHARE MODE"))
            start()
            waiting = (
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            deadline = time.monotonic() + 30
            while blocker.execute(text(waiting)).scalar() == 0:
                assert time.monotonic() < deadline, f"{what} never reached {table}"
                time.sleep(0.1)
            self.kill()
            blocker.execute(text("ROLLBACK"))
        engine.dispose()

    def initialize_upload(self, dandiset: str, data: bytes) -> dict:
        """Announce ``data`` for upload into ``dandiset``; the answer (id and part URLs)."""
        from ..helpers import dandi_etag

        r = self.api(
            "POST",
            "/uploads/initialize/",
            json={
                "contentSize": len(data),
                "digest": {"algorithm": "dandi:dandi-etag", "value": dandi_etag(data)},
                "dandiset": dandiset,
            },
        )
        assert r.status_code == 200, r.text
        return r.json()

    def dandi(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """Run the dandi client against this archive, with the owner's API key."""
        return run_dandi(self.url, self.key, *args, cwd=cwd)

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"token {self.key}"}
        return httpx.request(method, f"{self.url}/api{path}", headers=headers, timeout=60, **kwargs)


def _cli(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(BIN / "dandi-archive"), *args], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


BROKERS = {"redis": "redis://127.0.0.1:6379/0", "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//"}


@pytest.fixture(params=["embedded", "postgres-s3", "postgres-s3-redis", "postgres-s3-rabbitmq"])
def live_archive(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveArchive]:
    port = free_port()
    data_dir = tmp_path / "archive-data"
    env = {
        **os.environ,
        "DANDI_ARCHIVE_DATA_DIR": str(data_dir),
        "DANDI_ARCHIVE_HOST": "127.0.0.1",
        "DANDI_ARCHIVE_PORT": str(port),
    }
    if request.param.startswith("postgres-s3"):
        env["DANDI_ARCHIVE_DATABASE_URL"] = request.getfixturevalue("postgres_url")
        from ..conftest import _empty_postgres

        _empty_postgres(env["DANDI_ARCHIVE_DATABASE_URL"])
        env["DANDI_ARCHIVE_S3_ENDPOINT_URL"] = request.getfixturevalue("moto_endpoint")
        env["DANDI_ARCHIVE_S3_BUCKET"] = f"dandi-e2e-{uuid.uuid4().hex[:8]}"
        env["DANDI_ARCHIVE_S3_ACCESS_KEY_ID"] = env["DANDI_ARCHIVE_S3_SECRET_ACCESS_KEY"] = (
            "testing"
        )
        import boto3

        boto3.client(
            "s3",
            endpoint_url=env["DANDI_ARCHIVE_S3_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket=env["DANDI_ARCHIVE_S3_BUCKET"])
    serve = [str(BIN / "dandi-archive"), "serve"]
    processes = []
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    broker = request.param.rpartition("-")[2]
    if broker in BROKERS:
        # Production layout: jobs on a Celery worker, two stateless API processes.
        env["DANDI_ARCHIVE_BROKER_URL"] = BROKERS[broker]
        env["DANDI_ARCHIVE_QUEUE"] = f"dandi-test-{uuid.uuid4().hex[:8]}"
        # A node name of its own: two workers named celery@<host> on one broker (other
        # test runs on this machine) make the second one die on its control queue.
        node = f"{env['DANDI_ARCHIVE_QUEUE']}@%h"
        worker = [str(BIN / "dandi-archive"), "worker", "--", "--concurrency", "2", "-n", node]
        processes.append(subprocess.Popen(worker, env=env, stdout=log, stderr=log))
        serve += ["--workers", "2"]
    _cli("user", "create", "owner@example.org", "--name", "Jane Doe", env=env)
    key = _cli("user", "api-key", "owner@example.org", env=env)
    live = LiveArchive(
        url=f"http://127.0.0.1:{port}",
        key=key,
        env=env,
        data_dir=data_dir,
        serve_command=serve,
        log=log,
    )
    try:
        live.start()
        yield live
    finally:
        for process in [*processes, live.server]:
            if process is not None:
                process.terminate()
                process.wait(20)
        log.close()
