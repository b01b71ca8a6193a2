"""The handbook's PostgreSQL backup, run as written: ``pg_dump -Fc`` of a PostgreSQL
archive's database, ``pg_restore`` into a new database, and an archive started on it
(with the same bucket) serves the same Dandisets, bytes, users and API keys."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dandi_archive.app import create_app
from dandi_archive.archive import build_archive
from dandi_archive.cli import main
from dandi_archive.config import Settings
from dandi_archive.handbook.pages import CodeBlock, code_blocks
from dandi_archive.handbook.values import instance_values

from ..conftest import PG_SERVER
from ..e2e.test_handbook_commands import commands
from ..helpers import ApiClient
from .test_backup import state, world  # noqa: F401 - the fixture, for this module too

pytestmark = [
    pytest.mark.parametrize("backend", ["postgres-s3"]),
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed"),
]


def postgres_blocks(settings: Settings) -> list[str]:
    blocks = code_blocks(instance_values(settings, "http://127.0.0.1/bucket/"))
    found = [b.text for b in blocks if b.page == "backups" and "postgres" in b.options]
    assert found, "the Backups page shows no PostgreSQL block"
    assert all(b.tested for b in blocks if "postgres" in b.options)
    return found


def test_the_handbooks_pg_dump_and_pg_restore_keep_the_archive(api, world, tmp_path):  # noqa: F811
    settings = api.archive.settings
    before = state(api, world["admin"])
    old = make_url(settings.sqlalchemy_url)
    new_db = f"dandi_restored_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "PGHOST": old.host or "127.0.0.1",
        "PGPORT": str(old.port or 5432),
        "PGUSER": old.username or "postgres",
        "OLD_DB": str(old.database),
        "NEW_DB": new_db,
    }
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    restored_archive = None
    try:
        for block in postgres_blocks(settings):
            script = commands_of(block)
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, f"{block}\n{result.stdout}\n{result.stderr}"
        assert (tmp_path / "archive.dump").stat().st_size > 0
        restored_settings = settings.model_copy(
            update={
                "database_url": f"{PG_SERVER}/{new_db}",
                "data_dir": tmp_path / "restored-data",
            }
        )
        env_cli = {
            "DANDI_ARCHIVE_DATABASE_URL": restored_settings.database_url,
            "DANDI_ARCHIVE_BASE_URL": "http://testserver",
            "DANDI_ARCHIVE_S3_BUCKET": settings.s3_bucket,
            "DANDI_ARCHIVE_S3_ENDPOINT_URL": settings.s3_endpoint_url,
            "DANDI_ARCHIVE_S3_ACCESS_KEY_ID": settings.s3_access_key_id,
            "DANDI_ARCHIVE_S3_SECRET_ACCESS_KEY": settings.s3_secret_access_key,
            "DANDI_ARCHIVE_SECRET_KEY": settings.signing_key,
        }
        for command in (["migrate"], ["check"]):
            r = CliRunner().invoke(
                main, [*command, "--data-dir", str(tmp_path / "restored-data")], env=env_cli
            )
            assert r.exit_code == 0, r.output
        restored_archive = build_archive(restored_settings, run_jobs_in_process=True)
        client = TestClient(create_app(restored_archive), base_url="http://testserver")
        with client:
            restored = ApiClient(client, restored_archive)
            assert state(restored, world["admin"]) == before
            # It works on: a new Dandiset on the restored database.
            assert restored.create_dandiset(world["owner"], "After the restore")
    finally:
        if restored_archive is not None:
            restored_archive.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{new_db}" WITH (FORCE)'))
        admin.dispose()


def commands_of(block: str) -> str:
    return commands(CodeBlock("backups", "console", True, block))
