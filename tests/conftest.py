"""Fixtures: every API test runs twice, on each real backend combination.

* ``embedded``: SQLite in a temporary data dir + the folder store, jobs in-process.
* ``postgres-s3``: PostgreSQL (127.0.0.1:5432, a database created for this run) + S3
  served by moto in server mode on a free loopback port, jobs in-process.

Nothing is mocked: requests go through the ASGI app, presigned URLs are followed over
real HTTP to moto, and jobs run on the same thread pool the server uses.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dandi_archive.archive import build_archive
from dandi_archive.config import Settings
from dandi_archive.db.migrate import upgrade
from dandi_archive.db.models import Base
from dandi_archive.instance import Archive
from dandi_archive.testing import free_port, moto_server, s3_settings

from .helpers import ApiClient

PG_SERVER = os.environ.get(
    "DANDI_ARCHIVE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432"
)
BACKENDS = ("embedded", "postgres-s3")
__all__ = ["free_port", "make_settings"]  # other test modules import these from here


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "archive.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test run, migrated, dropped at the end."""
    name = f"dandi_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_SERVER}/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def make_settings(
    backend: str, data_dir: Path, request: pytest.FixtureRequest, **extra
) -> Settings:
    extra.setdefault("base_url", "http://testserver")
    if backend == "embedded":
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(request.getfixturevalue("sqlite_template"), data_dir / "archive.sqlite3")
        return Settings(data_dir=data_dir, **extra)
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = f"dandi-test-{uuid.uuid4().hex[:12]}"
    return Settings(data_dir=data_dir, database_url=url, **s3_settings(endpoint, bucket), **extra)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_api(backend: str, tmp_path: Path, request: pytest.FixtureRequest):
    """Build an archive (with extra settings, if given) and a test client for it."""
    from fastapi.testclient import TestClient

    from dandi_archive.app import create_app

    opened: list[tuple[TestClient, Archive]] = []

    def factory(**extra) -> ApiClient:
        settings = make_settings(backend, tmp_path / f"data{len(opened)}", request, **extra)
        archive = build_archive(settings, run_jobs_in_process=True)
        if settings.s3_bucket:
            archive.store.ensure_bucket()  # type: ignore[attr-defined]
        client = TestClient(create_app(archive), base_url="http://testserver")
        client.__enter__()
        opened.append((client, archive))
        return ApiClient(client, archive)

    yield factory
    for client, archive in opened:
        client.__exit__(None, None, None)
        archive.close()


@pytest.fixture
def api(make_api) -> ApiClient:
    return make_api()


@pytest.fixture
def owner(api):
    """An approved account's API key."""
    return api.make_user()


@pytest.fixture
def dandiset(api, owner):
    """A Dandiset of ``owner``."""
    return api.create_dandiset(owner)
