"""``dandi-archive transfer``: an embedded archive (SQLite + folder store) moved to
PostgreSQL and S3 (moto) serves the same Dandisets, users and bytes; an interrupted
transfer resumes without duplicates; a target holding other data is refused."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from dandi_archive.app import create_app
from dandi_archive.archive import build_archive, build_store
from dandi_archive.cli import main
from dandi_archive.config import Settings
from dandi_archive.db.migrate import upgrade
from dandi_archive.db.models import Transfer, User
from dandi_archive.db.session import Database
from dandi_archive.errors import Conflict
from dandi_archive.testing import S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, s3_settings
from dandi_archive.transfer import rows
from dandi_archive.transfer.run import Progress, Source, Target, source_identity, transfer
from dandi_archive.transfer.urls import UrlRewrite

from ..conftest import PG_SERVER
from ..helpers import ApiClient, publish, valid_dandiset

pytestmark = pytest.mark.parametrize("backend", ["embedded"])

OPEN_FILES = {"sub-1/a.txt": b"alpha", "sub-2/b.txt": b"beta" * 100}
ZARR = {"zarr.json": b'{"zarr_format": 3, "node_type": "group"}', "a/c/0": b"chunk"}
SECRET = b"embargoed bytes"
SECRET_ZARR = {"0/0": b"embargoed chunk"}


class StopTransfer(Exception):
    """Raised by a progress hook: the transfer is interrupted there."""


# -- the source archive --------------------------------------------------------------


def add_zarr(api: ApiClient, key: str, dandiset: str, files: dict[str, bytes]) -> str:
    zarr_id = api.create_zarr(key, dandiset, "image.zarr")
    r = api.post(
        f"/api/dandisets/{dandiset}/versions/draft/assets/",
        key,
        json={"metadata": {"path": "image.zarr", "schemaKey": "Asset"}, "zarr_id": zarr_id},
    )
    assert r.status_code == 200, r.text
    api.put_zarr_files(key, zarr_id, files)
    api.finalize_zarr(key, zarr_id)
    return zarr_id


@pytest.fixture
def world(api: ApiClient) -> dict[str, Any]:
    """Two Dandisets: one published (manifests, a frozen Zarr), one embargoed (a file
    and a Zarr); an owner, a second user and an admin."""
    owner = api.make_user("owner@example.org", name="Olga Owner")
    other = api.make_user("other@example.org", name="Otto Other")
    admin = api.make_user("admin@example.org", admin=True)
    published = valid_dandiset(api, owner, OPEN_FILES)
    add_zarr(api, owner, published, ZARR)
    version = publish(api, owner, published)
    embargoed = api.create_dandiset(other, "Secret", embargo="true")
    api.add_asset(other, embargoed, "secret.bin", SECRET)
    add_zarr(api, other, embargoed, SECRET_ZARR)
    api.wait_for_jobs()
    return {
        "owner": owner,
        "other": other,
        "admin": admin,
        "published": published,
        "version": version,
        "embargoed": embargoed,
    }


# -- the target ----------------------------------------------------------------------


@pytest.fixture
def target_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, created empty (not migrated)."""
    name = f"dandi_transfer_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{PG_SERVER}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def bucket() -> str:
    return f"dandi-transfer-{uuid.uuid4().hex[:12]}"


def target_settings(data_dir: Path, url: str, endpoint: str, bucket: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=url,
        base_url="http://testserver",
        **s3_settings(endpoint, bucket),
    )


def run_cli(api: ApiClient, url: str, endpoint: str, bucket: str, *args: str) -> Result:
    env = {
        "DANDI_ARCHIVE_DATA_DIR": str(api.archive.settings.data_dir),
        "DANDI_ARCHIVE_BASE_URL": "http://testserver",
        "DANDI_ARCHIVE_S3_ACCESS_KEY_ID": S3_ACCESS_KEY_ID,
        "DANDI_ARCHIVE_S3_SECRET_ACCESS_KEY": S3_SECRET_ACCESS_KEY,
    }
    command = ["transfer", "--to-database", url, "--to-s3-bucket", bucket]
    command += ["--to-s3-endpoint-url", endpoint, *args]
    return CliRunner().invoke(main, command, env=env)


def run_service(
    api: ApiClient, settings: Settings, progress: Progress, *, create: bool = True
) -> None:
    """The transfer as the command runs it, with hooks of the test's own."""
    upgrade(settings.sqlalchemy_url)
    store = build_store(settings)
    if create:
        store.ensure_bucket()  # type: ignore[attr-defined]
    target_db = Database(settings.sqlalchemy_url)
    source = api.archive
    try:
        transfer(
            Source(source.db, source.store, source_identity(source.settings.signing_key)),  # type: ignore[arg-type]
            Target(target_db, store),  # type: ignore[arg-type]
            tmp_dir=source.settings.data_dir / "tmp",
            jobs=2,
            progress=progress,
        )
    finally:
        target_db.dispose()


@pytest.fixture
def open_target(tmp_path: Path):
    """Start an archive on the transferred database and bucket (closed at the end)."""
    opened: list[tuple[TestClient, Any]] = []

    def start(settings: Settings) -> ApiClient:
        archive = build_archive(settings, run_jobs_in_process=True)
        client = TestClient(create_app(archive), base_url="http://testserver")
        client.__enter__()
        opened.append((client, archive))
        return ApiClient(client, archive)

    yield start
    for client, archive in opened:
        client.__exit__(None, None, None)
        archive.close()


# -- what the two archives say ---------------------------------------------------------


def everything(api: ApiClient, keys: list[str]) -> dict[str, Any]:
    """Every Dandiset, version and asset (full metadata) each key sees, with the old
    bucket's URLs spelled as the new bucket's, so the two archives compare."""
    seen: dict[str, Any] = {}
    for key in [None, *keys]:
        params = {"embargoed": "true"} if key else {}
        listing = api.get("/api/dandisets/", key, params=params).json()
        for dandiset in listing["results"]:
            ident = dandiset["identifier"]
            versions = api.get(f"/api/dandisets/{ident}/versions/", key).json()["results"]
            for v in versions:
                base = f"/api/dandisets/{ident}/versions/{v['version']}"
                assets = api.get(f"{base}/assets/", key, params={"metadata": 1}).json()
                seen[f"{key}:{ident}/{v['version']}"] = {
                    "dandiset": dandiset,
                    "version": v,
                    "metadata": api.get(f"{base}/", key).json(),
                    "assets": assets["results"],
                }
    return seen


def spelled_for(store: Any, value: Any, new_prefix: str) -> Any:
    text_ = json.dumps(value)
    for prefix in store.url_prefixes():
        text_ = text_.replace(prefix, new_prefix)
    return json.loads(text_)


def row_counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        return rows.count_rows(db)
    finally:
        db.dispose()


def object_keys(store: Any) -> list[str]:
    return [o.key for o in store.list_keys("")]


def cli_check(settings: Settings, *command: str) -> Result:
    env = {
        "DANDI_ARCHIVE_DATA_DIR": str(settings.data_dir),
        "DANDI_ARCHIVE_DATABASE_URL": settings.database_url or "",
        "DANDI_ARCHIVE_BASE_URL": "http://testserver",
        "DANDI_ARCHIVE_S3_BUCKET": settings.s3_bucket or "",
        "DANDI_ARCHIVE_S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
        "DANDI_ARCHIVE_S3_ACCESS_KEY_ID": S3_ACCESS_KEY_ID,
        "DANDI_ARCHIVE_S3_SECRET_ACCESS_KEY": S3_SECRET_ACCESS_KEY,
    }
    return CliRunner().invoke(main, list(command), env=env)


# -- tests -----------------------------------------------------------------------------


def test_the_new_instance_serves_the_same_archive(
    api, world, target_url, moto_endpoint, bucket, tmp_path, open_target
):
    result = run_cli(api, target_url, moto_endpoint, bucket, "--create-bucket")
    assert result.exit_code == 0, result.output
    assert "Done." in result.output
    assert "  users " in result.output  # the report's rows per table
    settings = target_settings(tmp_path / "new", target_url, moto_endpoint, bucket)
    new = open_target(settings)
    keys = [world["owner"], world["other"], world["admin"]]

    # The same Dandisets, versions, assets and metadata, for each user and anonymously.
    before = spelled_for(api.archive.store, everything(api, keys), new.archive.store.public_url(""))
    after = everything(new, keys)
    assert after == before
    assert {k.split(":")[1] for k in after} >= {
        f"{world['published']}/draft",
        f"{world['published']}/{world['version']}",
        f"{world['embargoed']}/draft",
    }
    # The same API keys work, for the same users.
    for key in keys:
        me = new.get("/api/users/me/", key)
        assert me.status_code == 200 and me.json() == api.get("/api/users/me/", key).json()
    # Every file downloads with the same bytes (the embargoed one only for its owner).
    for name, entry in after.items():
        key = name.split(":")[0]
        for asset in entry["assets"]:
            if asset["blob"] is None:
                continue
            url = f"/api/assets/{asset['asset_id']}/download/"
            token = None if key == "None" else key
            assert new.download(url, token).content == api.download(url, token).content
    # Zarr files too, live and frozen.
    with new.archive.db.session() as session:
        zarrs = session.execute(text("SELECT id FROM zarrs")).scalars().all()
    for zarr_id in zarrs:
        zid = str(uuid.UUID(str(zarr_id)))
        for entry in api.zarr_files(zid, world["other"]):
            r = new.get(
                f"/api/zarr/{zid}/files/",
                world["other"],
                params={"prefix": entry["Key"], "download": "true"},
                follow_redirects=False,
            )
            assert r.status_code == 302, r.text
            old = api.get(
                f"/api/zarr/{zid}/files/",
                world["other"],
                params={"prefix": entry["Key"], "download": "true"},
                follow_redirects=False,
            )
            assert (
                new.get(r.headers["Location"]).content == api.get(old.headers["Location"]).content
            )
    # Anonymous readers still may not read the embargoed Dandiset.
    assert new.get(f"/api/dandisets/{world['embargoed']}/").status_code == 401

    # Every object copied, embargoed ones tagged for the bucket policy.
    store = new.archive.store
    assert object_keys(store) == object_keys(api.archive.store)
    tags = {
        key: store.client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]  # type: ignore[attr-defined]
        for key in object_keys(store)
    }
    secret_key = api.blob_key(SECRET)
    assert tags[secret_key] == [{"Key": "embargoed", "Value": "true"}]
    assert tags[api.blob_key(OPEN_FILES["sub-1/a.txt"])] == []
    assert all(tags[k] for k in tags if k.startswith("zarr/") and k.endswith("0/0"))
    assert not any(tags[k] for k in tags if k.startswith(("dandisets/", "zarr-manifests/")))
    assert store.policy_problem() is None  # --create-bucket set the archive's policy
    # Documents keep the types the archive stores them with.
    prefix = f"dandisets/{world['published']}/{world['version']}/"
    types = {
        name: store.client.head_object(Bucket=bucket, Key=prefix + name)["ContentType"]  # type: ignore[attr-defined]
        for name in ("assets.yaml", "assets.jsonld")
    }
    assert types == {"assets.yaml": "application/x-yaml", "assets.jsonld": "application/ld+json"}

    # The new instance's own checks pass.
    verify = cli_check(settings, "manifests", "verify")
    assert verify.exit_code == 0, verify.output
    assert "PROBLEM" not in verify.output
    check = cli_check(settings, "check")
    assert check.exit_code == 0 and "consistent" in check.output, check.output

    # New rows get new ids (the sequences moved past the copied ones).
    made = new.create_dandiset(world["owner"], "Made after the move")
    assert int(made) > max(int(world["published"]), int(world["embargoed"]))
    new.make_user("newcomer@example.org")
    with new.archive.db.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 4
        assert session.scalar(select(Transfer.finished)) is not None

    # Running it again finds everything there and copies nothing.
    again = run_cli(api, target_url, moto_endpoint, bucket)
    assert again.exit_code == 0, again.output
    assert "Rows: copied by an earlier run." in again.output
    assert " 0 copied (0 bytes)" in again.output


def test_an_interrupted_transfer_resumes_without_duplicates(
    api, world, target_url, moto_endpoint, bucket, tmp_path
):
    settings = target_settings(tmp_path / "new", target_url, moto_endpoint, bucket)
    copied: list[str] = []

    def stop_in_assets(table: str, n: int) -> None:
        copied.append(table)
        if table == "assets":
            raise StopTransfer

    with pytest.raises(StopTransfer):
        run_service(api, settings, Progress(rows=stop_in_assets))
    partial = row_counts(target_url)
    assert partial["users"] == 3 and partial["assets"] > 0 and partial["version_assets"] == 0

    seen: list[str] = []

    def stop_after_three(outcome: Any) -> None:
        seen.append(outcome.key)
        if len(seen) == 3:
            raise StopTransfer

    with pytest.raises(StopTransfer):
        run_service(api, settings, Progress(objects=stop_after_three), create=False)
    assert 3 <= len(object_keys(build_store(settings))) < len(object_keys(api.archive.store))

    result = run_cli(api, target_url, moto_endpoint, bucket)
    assert result.exit_code == 0, result.output
    assert "Rows: copied by an earlier run." in result.output
    assert " 0 already there" not in result.output  # the first objects were not copied again
    assert row_counts(target_url) == row_counts(api.archive.settings.sqlalchemy_url)
    assert object_keys(build_store(settings)) == object_keys(api.archive.store)
    verify = cli_check(settings, "manifests", "verify")
    assert verify.exit_code == 0, verify.output


def test_rows_resume_mid_table(api, world, target_url):
    """A table copied in part is finished by the next run, each row once; SQL NULL and
    JSON null stay apart."""
    upgrade(target_url)
    source, target = api.archive.db, Database(target_url)
    rewrite = UrlRewrite(api.archive.store.url_prefixes(), "http://s3.example.org/bucket/")

    def stop(table: str, n: int) -> None:
        if table == "zarr_files":
            raise StopTransfer

    try:
        with pytest.raises(StopTransfer):
            rows.copy_rows(source, target, rewrite, stop, batch=2)
        expected = row_counts(source.url)
        assert row_counts(target_url)["zarr_files"] == 2 < expected["zarr_files"]
        counts = rows.copy_rows(source, target, rewrite, batch=2)
        assert (counts["zarr_files"].present, counts["zarr_files"].copied) == (
            2,
            expected["zarr_files"] - 2,
        )
        assert (counts["users"].present, counts["users"].copied) == (3, 0)
        assert row_counts(target_url) == expected
        nulls = (
            "SELECT (SELECT count(*) FROM users WHERE questionnaire IS NULL),"
            " (SELECT count(*) FROM versions WHERE publish_request IS NULL)"
        )
        with source.engine.connect() as a, target.engine.connect() as b:
            assert tuple(a.execute(text(nulls)).one()) == tuple(b.execute(text(nulls)).one())
            assert b.execute(text(nulls)).one()[0] == 3
    finally:
        target.dispose()


def test_a_target_with_other_data_is_refused(
    api, world, target_url, moto_endpoint, bucket, tmp_path, open_target
):
    settings = target_settings(tmp_path / "new", target_url, moto_endpoint, bucket)
    upgrade(target_url)
    other = open_target(settings)  # another archive, already in use
    other.archive.store.ensure_bucket()  # type: ignore[attr-defined]
    other.make_user("someone@example.org")
    result = run_cli(api, target_url, moto_endpoint, bucket)
    assert result.exit_code != 0
    assert "already holds data (tables users" in result.output, result.output
    assert row_counts(target_url)["users"] == 1
    with other.archive.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Transfer)) == 0


def test_a_non_empty_bucket_is_refused(api, world, target_url, moto_endpoint, bucket, tmp_path):
    settings = target_settings(tmp_path / "new", target_url, moto_endpoint, bucket)
    store = build_store(settings)
    store.ensure_bucket()  # type: ignore[attr-defined]
    store.put_bytes("blobs/abc/def/other", b"someone else's", "text/plain")
    result = run_cli(api, target_url, moto_endpoint, bucket)
    assert result.exit_code != 0
    assert "already holds objects" in result.output, result.output
    assert sum(row_counts(target_url).values()) == 0


def test_a_row_changed_in_the_target_stops_the_resume(
    api, world, target_url, moto_endpoint, bucket, tmp_path
):
    settings = target_settings(tmp_path / "new", target_url, moto_endpoint, bucket)

    def stop(table: str, n: int) -> None:
        if table == "assets":
            raise StopTransfer

    with pytest.raises(StopTransfer):
        run_service(api, settings, Progress(rows=stop))
    engine = create_engine(target_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET name = 'Changed' WHERE email = 'owner@example.org'"))
    engine.dispose()
    with pytest.raises(Conflict, match=r"row .* of table users with other values"):
        run_service(api, settings, Progress(), create=False)


def test_the_target_must_be_postgresql(api, world, moto_endpoint, bucket, tmp_path):
    result = run_cli(api, f"sqlite:///{tmp_path / 'x.sqlite3'}", moto_endpoint, bucket)
    assert result.exit_code != 0 and "PostgreSQL" in result.output


def test_an_object_whose_bytes_changed_on_disk_is_not_copied(
    api, world, target_url, moto_endpoint, bucket, tmp_path
):
    """Bit rot in the folder store: the object's bytes no longer have the ETag recorded
    at upload. It is named and left out; everything else is copied; once the bytes are
    right again, the next run finishes."""
    settings = target_settings(tmp_path / "new", target_url, moto_endpoint, bucket)
    path = api.archive.store.path(api.blob_key(OPEN_FILES["sub-1/a.txt"]))
    with open(path, "r+b") as fh:  # same size, one byte flipped, recorded ETag kept
        fh.write(b"A")
    result = run_cli(api, target_url, moto_endpoint, bucket, "--create-bucket")
    assert result.exit_code != 0
    blob = api.blob_key(OPEN_FILES["sub-1/a.txt"])
    assert f"{blob}: the bytes on disk have ETag" in result.output
    assert "1 object(s) not copied" in result.output
    store = build_store(settings)
    assert store.head(blob) is None
    assert len(object_keys(store)) == len(object_keys(api.archive.store)) - 1
    with open(path, "r+b") as fh:
        fh.write(b"a")
    again = run_cli(api, target_url, moto_endpoint, bucket)
    assert again.exit_code == 0, again.output
    assert "Objects: 1 copied" in again.output
    assert b"".join(store.iter_bytes(blob)) == OPEN_FILES["sub-1/a.txt"]


def test_an_unreachable_target_or_missing_source_is_one_clear_line(
    api, world, moto_endpoint, bucket, tmp_path
):
    from ..conftest import free_port

    nowhere = f"postgresql+psycopg://dandi@127.0.0.1:{free_port()}/dandi"
    result = run_cli(api, nowhere, moto_endpoint, bucket)
    assert result.exit_code != 0 and "Cannot reach the database" in result.output
    assert "Traceback" not in result.output
    empty = tmp_path / "nothing-here"
    result = CliRunner().invoke(
        main,
        ["transfer", "--data-dir", str(empty), "--to-database", nowhere, "--to-s3-bucket", bucket],
    )
    assert result.exit_code != 0 and "No embedded archive in" in result.output
