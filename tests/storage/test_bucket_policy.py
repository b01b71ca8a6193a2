"""The S3 bucket policy is the archive's job: set on new buckets and by
``dandi-archive bucket policy --apply``, checked at start; embargoed objects carry the
``embargoed=true`` tag the policy keys on until the embargo ends.

moto (5.2) does not enforce this policy: it serves objects to anonymous readers without
any policy and ignores the tag condition, so it cannot show that S3 refuses tagged
objects. These tests check what the policy rests on instead: the document set and read
back, and the tags on every embargoed object until the embargo ends.
"""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from click.testing import CliRunner

from dandi_archive.cli import main, warn_about_bucket_policy
from dandi_archive.config import Settings
from dandi_archive.storage.s3 import bucket_policy

pytestmark = pytest.mark.parametrize("backend", ["postgres-s3"])

EMBARGO_TAG = [{"Key": "embargoed", "Value": "true"}]


def tags(api, key: str) -> list[dict]:
    store = api.archive.store
    return store.client.get_object_tagging(Bucket=store.bucket, Key=key)["TagSet"]


def test_a_new_bucket_gets_the_policy_and_open_objects_read_anonymously(api):
    store = api.archive.store
    live = store.client.get_bucket_policy(Bucket=store.bucket)["Policy"]
    assert json.loads(live) == bucket_policy(store.bucket)
    assert store.policy_problem() is None
    owner = api.make_user()
    dandiset = api.create_dandiset(owner)
    api.add_asset(owner, dandiset, "open.txt", b"open bytes")
    zarr_id = api.create_zarr(owner, dandiset)
    api.put_zarr_files(owner, zarr_id, {".zgroup": b'{"zarr_format": 2}'})
    api.finalize_zarr(owner, zarr_id)
    urls = {
        store.public_url(api.blob_key(b"open bytes")): b"open bytes",
        store.public_url(f"zarr/{zarr_id}/.zgroup"): b'{"zarr_format": 2}',
    }
    # Under the policy, open objects read without credentials or signature (moto would
    # serve them without a policy too: it enforces neither object ACLs nor conditions).
    with httpx.Client() as anonymous:
        for url, data in urls.items():
            r = anonymous.get(url)
            assert (r.status_code, r.content) == (200, data), url
    store.client.delete_bucket_policy(Bucket=store.bucket)
    assert "has no policy" in store.policy_problem()
    api.make_bucket_public()  # an operator's plain public-read policy
    assert "differs" in store.policy_problem()


def test_embargoed_objects_are_tagged_until_the_embargo_ends(api):
    owner = api.make_user()
    embargoed = api.create_dandiset(owner, name="Secret", embargo="true")
    public = api.create_dandiset(owner, name="Public")
    api.add_asset(owner, embargoed, "secret.bin", b"secret blob")  # a multipart upload
    api.add_asset(owner, public, "open.bin", b"open blob")
    zarr_id = api.create_zarr(owner, embargoed)
    api.put_zarr_files(owner, zarr_id, {".zgroup": b"{}", "a/0": b"secret chunk"})
    api.finalize_zarr(owner, zarr_id)
    api.wait_for_jobs()
    embargoed_keys = [
        api.blob_key(b"secret blob"),
        f"zarr/{zarr_id}/.zgroup",
        f"zarr/{zarr_id}/a/0",
    ]
    for key in embargoed_keys:
        assert tags(api, key) == EMBARGO_TAG, key
    assert tags(api, api.blob_key(b"open blob")) == []
    # The archive's own signed URLs still read them.
    store = api.archive.store
    assert (
        api.get(store.presign_download(api.blob_key(b"secret blob"), 60)).content == b"secret blob"
    )

    assert api.post(f"/api/dandisets/{embargoed}/unembargo/", owner).status_code == 200
    api.wait_for_jobs()
    for key in embargoed_keys:
        assert tags(api, key) == [], key


def _cli_env(settings: Settings) -> dict[str, str | None]:
    return {
        "DANDI_ARCHIVE_S3_BUCKET": settings.s3_bucket,
        "DANDI_ARCHIVE_S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "DANDI_ARCHIVE_S3_ACCESS_KEY_ID": settings.s3_access_key_id,
        "DANDI_ARCHIVE_S3_SECRET_ACCESS_KEY": settings.s3_secret_access_key,
        "DANDI_ARCHIVE_DATABASE_URL": settings.database_url,
    }


def test_the_cli_prints_and_applies_the_policy(api, tmp_path):
    store = api.archive.store
    runner = CliRunner()
    env = _cli_env(api.archive.settings)
    args = ["bucket", "policy", "--data-dir", str(tmp_path / "cli")]
    store.client.delete_bucket_policy(Bucket=store.bucket)

    printed = runner.invoke(main, args, env=env)
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == bucket_policy(store.bucket)
    assert "Not applied" in printed.stderr and "has no policy" in printed.stderr
    assert store.policy_problem() == f"bucket {store.bucket!r} has no policy"

    applied = runner.invoke(main, [*args, "--apply"], env=env)
    assert applied.exit_code == 0, applied.output
    assert "Policy set" in applied.stderr
    assert store.policy_problem() is None

    folder = runner.invoke(main, args, env={k: None for k in env})
    assert folder.exit_code == 1
    assert "local folder" in folder.output


def test_serve_warns_once_when_the_live_policy_is_not_the_archives(api, caplog):
    settings = api.archive.settings
    store = api.archive.store

    def warnings() -> list[str]:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="dandi_archive"):
            warn_about_bucket_policy(settings)
        return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]

    assert warnings() == []
    api.make_bucket_public()
    (line,) = warnings()
    assert "differs" in line and "bucket policy --apply" in line
    store.client.delete_bucket_policy(Bucket=store.bucket)
    assert "has no policy" in warnings()[0]
    missing = settings.model_copy(update={"s3_bucket": "no-such-bucket-here"})
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dandi_archive"):
        warn_about_bucket_policy(missing)
    assert "cannot be read (NoSuchBucket)" in caplog.text
