"""``dandi-archive backup`` / ``restore`` of the embedded archive: a backup taken while
the archive serves and changes restores into a fresh data dir that serves the same
Dandisets, bytes, users and API keys, and passes ``manifests verify`` and ``check``.
A damaged, incomplete or missing backup, or a data dir that is not empty, is refused
with a clear message and changes nothing."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy import select

from dandi_archive.app import create_app
from dandi_archive.archive import build_archive
from dandi_archive.cli import main
from dandi_archive.config import Settings
from dandi_archive.db.models import ApiKey, User

from ..helpers import ApiClient, publish, valid_dandiset
from ..transfer.test_transfer import OPEN_FILES, SECRET, SECRET_ZARR, ZARR, add_zarr

pytestmark = pytest.mark.parametrize("backend", ["embedded"])


def cli(*args: str, **env: str) -> Result:
    return CliRunner().invoke(
        main, list(args), env={"DANDI_ARCHIVE_BASE_URL": "http://testserver", **env}
    )


@pytest.fixture
def world(api: ApiClient) -> dict[str, Any]:
    """A published Dandiset (files and a Zarr), an embargoed one (a file and a Zarr),
    an owner, a second user, an admin, each with an API key."""
    owner = api.make_user("owner@example.org", name="Olga Owner")
    other = api.make_user("other@example.org", name="Otto Other")
    admin = api.make_user("admin@example.org", admin=True)
    published = valid_dandiset(api, owner, OPEN_FILES)
    add_zarr(api, owner, published, ZARR)
    publish(api, owner, published)
    embargoed = api.create_dandiset(other, "Secret", embargo="true")
    api.add_asset(other, embargoed, "secret.bin", SECRET)
    add_zarr(api, other, embargoed, SECRET_ZARR)
    api.wait_for_jobs()
    return {"owner": owner, "other": other, "admin": admin}


def state(api: ApiClient, admin: str) -> dict[str, Any]:
    """What the archive serves: every Dandiset and version, each file's bytes (by
    SHA-256) and each Zarr's files, the accounts and their API keys."""
    listed = api.get("/api/dandisets/?embargoed=true&page_size=100", admin).json()["results"]
    dandisets: dict[str, Any] = {}
    for d in sorted(listed, key=lambda d: d["identifier"]):
        ident = d["identifier"]
        versions = api.get(f"/api/dandisets/{ident}/versions/", admin).json()["results"]
        for v in versions:
            base = f"/api/dandisets/{ident}/versions/{v['version']}"
            assets = api.get(f"{base}/assets/?page_size=1000", admin).json()["results"]
            files = {}
            for a in assets:
                if a.get("zarr"):
                    files[a["path"]] = sorted(
                        (f["Key"], f["ETag"]) for f in api.zarr_files(a["zarr"], admin)
                    )
                else:
                    body = api.download(f"{base}/assets/{a['asset_id']}/download/", admin)
                    assert body.status_code == 200, body.text
                    files[a["path"]] = hashlib.sha256(body.content).hexdigest()
            dandisets[f"{ident}/{v['version']}"] = (v["name"], v["status"], files)
    with api.archive.db.session() as session:
        users = sorted(
            session.execute(
                select(User.email, User.username, User.status, User.is_admin, ApiKey.key).join(
                    ApiKey, ApiKey.user_id == User.id, isouter=True
                )
            ).all()
        )
    for *_, key in users:
        if key:
            assert api.get("/api/users/me/", key).status_code == 200
    return {"dandisets": dandisets, "users": users}


@pytest.fixture
def open_archive(request: pytest.FixtureRequest) -> Iterator[Any]:
    opened: list[tuple[TestClient, Any]] = []

    def factory(data_dir: Path) -> ApiClient:
        archive = build_archive(
            Settings(data_dir=data_dir, base_url="http://testserver"), run_jobs_in_process=True
        )
        client = TestClient(create_app(archive), base_url="http://testserver")
        client.__enter__()
        opened.append((client, archive))
        return ApiClient(client, archive)

    yield factory
    for client, archive in opened:
        client.__exit__(None, None, None)
        archive.close()


def test_a_backup_taken_while_serving_restores_the_same_archive(api, world, tmp_path, open_archive):
    data_dir = api.archive.settings.data_dir
    before = state(api, world["admin"])
    # Writes go on during the backup: uploads into a draft, each a new blob and rows.
    busy = api.create_dandiset(world["owner"], "Busy")
    stop, written = threading.Event(), []

    def writer() -> None:
        while not stop.is_set() and len(written) < 200:
            n = len(written)
            api.add_asset(world["owner"], busy, f"live/{n}.bin", f"written live {n}".encode())
            written.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = cli("backup", str(tmp_path / "backup"), "--data-dir", str(data_dir))
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert "Backed up the database" in result.output and written
    meta = json.loads((tmp_path / "backup" / "backup.json").read_text())
    assert meta["format"] == 1 and meta["schema_revision"]
    assert not list(tmp_path.glob(".backup.partial-*"))

    checked = cli("restore", "--check", str(tmp_path / "backup"))
    assert checked.exit_code == 0 and "is whole" in checked.output, checked.output
    restored_dir = tmp_path / "restored"
    result = cli("restore", str(tmp_path / "backup"), "--data-dir", str(restored_dir))
    assert result.exit_code == 0, result.output
    assert (restored_dir / "secret_key").read_text() == (data_dir / "secret_key").read_text()
    assert (restored_dir / "secret_key").stat().st_mode & 0o777 == 0o600

    restored = open_archive(restored_dir)
    after = state(restored, world["admin"])
    busy_key = f"{busy}/draft"
    busy_files = after["dandisets"].pop(busy_key)[2]
    assert after == before  # the same Dandisets, versions, bytes, Zarrs, users and keys
    # Of the files written during the backup, those the snapshot holds are all whole.
    assert set(busy_files) <= {f"live/{n}.bin" for n in written}
    for path, digest in busy_files.items():
        n = int(path.removeprefix("live/").removesuffix(".bin"))
        assert digest == hashlib.sha256(f"written live {n}".encode()).hexdigest()
    # The restored archive works on: a new upload, and its jobs.
    restored.add_asset(world["owner"], busy, "after-restore.bin", b"new bytes")
    restored.wait_for_jobs()

    verify = cli("manifests", "verify", "--data-dir", str(restored_dir))
    assert verify.exit_code == 0, verify.output
    assert "PROBLEM" not in verify.output
    consistent = cli("check", "--data-dir", str(restored_dir))
    assert consistent.exit_code == 0 and "consistent" in consistent.output, consistent.output


def test_bad_backups_and_targets_are_refused_and_nothing_changes(api, world, tmp_path):
    data_dir = api.archive.settings.data_dir
    good = tmp_path / "good"
    assert cli("backup", str(good), "--data-dir", str(data_dir)).exit_code == 0
    # Backing up into a folder that holds something: refused.
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    r = cli("backup", str(tmp_path / "full"), "--data-dir", str(data_dir))
    assert r.exit_code != 0 and "is not empty" in r.output
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
    r = cli("backup", str(tmp_path / "b"), "--data-dir", str(tmp_path / "nothing"))
    assert r.exit_code != 0 and "No embedded archive" in r.output

    # Restoring into a data dir that is not empty (the live one, say): refused.
    r = cli("restore", str(good), "--data-dir", str(data_dir))
    assert r.exit_code != 0 and "is not empty" in r.output
    r = cli("restore", str(good), "--data-dir", str(tmp_path / "full"))
    assert r.exit_code != 0 and "is not empty" in r.output
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]

    def refused(source: Path, words: str) -> None:
        target = tmp_path / "target"
        for args in (
            ("restore", str(source), "--data-dir", str(target)),
            ("restore", "--check", str(source)),
        ):
            r = cli(*args)
            assert r.exit_code != 0, r.output
            assert words in r.output, r.output
            assert not target.exists()
        assert not list(tmp_path.glob(".target.restoring-*"))

    refused(tmp_path / "missing", "There is no backup at")
    # Unfinished: no backup.json.
    unfinished = tmp_path / "unfinished"
    copy_tree(good, unfinished)
    (unfinished / "backup.json").unlink()
    refused(unfinished, "not a complete backup")
    # A blob whose bytes changed after the backup.
    damaged = tmp_path / "damaged"
    copy_tree(good, damaged)
    blob = next(p for p in (damaged / "bucket" / "blobs").rglob("*") if p.is_file())
    blob.write_bytes(b"X" + blob.read_bytes()[1:])
    refused(damaged, "is damaged")
    # A file gone from the backup.
    gone = tmp_path / "gone"
    copy_tree(good, gone)
    next(p for p in (gone / "bucket" / "zarr").rglob("*") if p.is_file()).unlink()
    refused(gone, "is missing from the backup")
    # The file list edited.
    edited = tmp_path / "edited"
    copy_tree(good, edited)
    with open(edited / "files.jsonl", "a") as fh:
        fh.write('{"path": "../../etc/passwd", "size": 1, "sha256": "0"}\n')
    refused(edited, "was changed or damaged")
    # The database damaged.
    broken = tmp_path / "broken"
    copy_tree(good, broken)
    db = broken / "archive.sqlite3"
    data = bytearray(db.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    db.write_bytes(bytes(data))
    refused(broken, "archive.sqlite3 is damaged")

    # The commands are for the embedded archive only.
    r = cli(
        "restore",
        str(good),
        "--data-dir",
        str(tmp_path / "pg"),
        DANDI_ARCHIVE_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1/none",
    )
    assert r.exit_code != 0 and "pg_dump" in r.output
    assert not (tmp_path / "pg").exists()
    # The good one still restores after all that.
    assert cli("restore", str(good), "--data-dir", str(tmp_path / "target")).exit_code == 0


def copy_tree(source: Path, target: Path) -> None:
    import shutil

    shutil.copytree(source, target)
