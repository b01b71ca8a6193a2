"""The bucket lists itself: inventories in S3 Inventory's format under inventory/, written
by a periodic job or `dandi-archive inventory write`, checked by `manifests verify
--inventory`, never readable by the public (they name embargoed blobs)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus

from click.testing import CliRunner

from dandi_archive.cli import main
from dandi_archive.integrity import inventory
from dandi_archive.integrity.tasks import periodic_jobs

from ..helpers import publish, settings_env, valid_dandiset

FILES = {"sub-1/a b+c.txt": b"alpha", "sub-2/b.txt": b"beta" * 1000, "c.txt": b"gamma"}


def read(store, key: str) -> bytes:
    return b"".join(store.iter_bytes(key))


def run(api, *args: str):
    return CliRunner().invoke(main, list(args), env=settings_env(api.archive.settings))


def rows_of(store, manifest: dict) -> list[list[str]]:
    rows = []
    for entry in manifest["files"]:
        data = read(store, entry["key"])
        assert (len(data), hashlib.md5(data).hexdigest()) == (entry["size"], entry["MD5checksum"])
        text = gzip.decompress(data).decode()
        assert text.startswith('"')  # every field quoted, as S3 writes them
        rows += list(csv.reader(io.StringIO(text)))
    return rows


def stocked(api) -> tuple[str, str]:
    """An open published Dandiset and an embargoed one; returns the owner's key and the
    embargoed blob's key."""
    owner = api.make_user()
    dandiset = valid_dandiset(api, owner, FILES)
    publish(api, owner, dandiset)
    embargoed = api.create_dandiset(owner, name="Sealed", embargo=True)
    api.add_asset(owner, embargoed, "secret.bin", b"sealed bytes")
    api.wait_for_jobs()
    return owner, api.blob_key(b"sealed bytes")


def test_an_inventory_lists_every_object_in_s3_format_and_verifies(api):
    _, secret_key = stocked(api)
    store = api.archive.store
    result = run(api, "inventory", "write")
    assert result.exit_code == 0, result.output
    manifest_key = result.output.strip()
    config = api.archive.settings.inventory_config_id
    assert manifest_key.startswith(f"inventory/{store.bucket_name}/{config}/")
    manifest = json.loads(read(store, manifest_key))
    checksum = read(store, manifest_key.replace("manifest.json", "manifest.checksum"))
    assert checksum.decode() == hashlib.md5(read(store, manifest_key)).hexdigest()
    assert manifest["sourceBucket"] == store.bucket_name
    assert manifest["destinationBucket"] == f"arn:aws:s3:::{store.bucket_name}"
    assert manifest["version"] == "2016-11-30"
    assert manifest["fileFormat"] == "CSV"
    assert manifest["fileSchema"] == "Bucket, Key, Size, LastModifiedDate, ETag"
    created = datetime.fromtimestamp(int(manifest["creationTimestamp"]) / 1000, UTC)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)

    rows = rows_of(store, manifest)
    objects = [o for o in store.list_keys("") if not o.key.startswith("inventory/")]
    assert [unquote_plus(row[1]) for row in rows] == [o.key for o in objects]
    for row, obj in zip(rows, objects, strict=True):
        assert row[0] == store.bucket_name
        assert (int(row[2]), row[4]) == (obj.size, obj.etag)
        assert row[3].endswith("Z") and len(row[3]) == len("2024-01-01T00:00:00.000Z")
    keys = {o.key for o in objects}
    assert secret_key in keys  # every object: the inventory is why it must stay private
    assert any(k.endswith("/dandiset.ttl") for k in keys)

    result = run(api, "manifests", "verify", "--inventory")
    assert result.exit_code == 0, result.output
    assert "matches the bucket" in result.output


def test_data_files_hold_a_chunk_of_rows_each_in_key_order(make_api):
    api = make_api(inventory_rows_per_file=2)
    stocked(api)
    store = api.archive.store
    key = inventory.write(store, api.archive.settings)
    manifest = json.loads(read(store, key))
    rows = rows_of(store, manifest)
    assert len(manifest["files"]) == (len(rows) + 1) // 2 > 2
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    assert inventory.verify(store, api.archive.settings.inventory_config_id).problems == []


def test_differences_from_the_bucket_are_reported(api):
    stocked(api)
    store = api.archive.store
    settings = api.archive.settings
    inventory.write(store, settings)
    gone = api.blob_key(b"alpha")
    store.delete(gone)
    store.put_bytes("zarr-manifests/new-after.json", b"{}", "application/json")  # newer: fine
    result = run(api, "manifests", "verify", "--inventory")
    assert result.exit_code == 1
    assert f"{gone}: listed in the inventory, not in the bucket" in result.output
    assert "new-after" not in result.output
    assert "1 difference(s)" in result.output

    # A data file that is not the one the manifest lists is reported too.
    manifest = json.loads(read(store, inventory.latest(store, settings.inventory_config_id)))
    data_key = manifest["files"][0]["key"]
    store.put_bytes(data_key, gzip.compress(b'"b","x","1","","e"\n'), "application/gzip")
    report = inventory.verify(store, settings.inventory_config_id)
    assert any("not the data file the manifest lists" in p for p in report.problems)


def test_verify_without_an_inventory_says_how_to_make_one(api):
    result = run(api, "manifests", "verify", "--inventory")
    assert result.exit_code == 1
    assert "dandi-archive inventory write" in result.output
    result = run(api, "manifests", "verify", "--inventory", "--quick")
    assert result.exit_code == 2


def test_inventories_are_not_public(api):
    _, secret_key = stocked(api)
    store = api.archive.store
    key = inventory.write(store, api.archive.settings)
    manifest = json.loads(read(store, key))
    written = [key, key.replace("manifest.json", "manifest.checksum")]
    written += [entry["key"] for entry in manifest["files"]]
    if api.archive.settings.s3_bucket:
        # moto does not enforce the bucket policy (see tests/storage/test_bucket_policy.py):
        # the tag it refuses anonymous reads on is what is checked.
        for name in written:
            tags = store.client.get_object_tagging(Bucket=store.bucket, Key=name)["TagSet"]
            assert tags == [{"Key": "embargoed", "Value": "true"}], name
    else:
        for name in written:
            for url in (f"/{store.bucket_name}/{name}", f"/bucket/{name}"):
                r = api.get(url)
                assert r.status_code == 404, (url, r.status_code)
                assert secret_key.encode() not in r.content


def test_the_job_runs_on_its_schedule_and_old_inventories_are_pruned(make_api):
    api = make_api(inventory_keep=2)
    stocked(api)
    settings = api.archive.settings
    assert periodic_jobs(settings)["write_inventory"] == (86400.0, {})
    assert "write_inventory" not in periodic_jobs(
        settings.model_copy(update={"inventory_interval_seconds": 0})
    )
    store = api.archive.store
    config = settings.inventory_config_id
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for minutes in range(3):
        inventory.write(store, settings, now=start + timedelta(minutes=minutes))
    api.archive.jobs.submit("write_inventory")
    api.wait_for_jobs()
    kept = inventory.manifests(store, config)
    assert len(kept) == 2
    assert kept[0].endswith("/2024-01-01T00-02Z/manifest.json")
    named = set()
    for key in kept:
        named |= {e["key"] for e in json.loads(read(store, key))["files"]}
    data = [o.key for o in store.list_keys(f"{inventory.root(store, config)}data/")]
    assert sorted(data) == sorted(named)
    assert inventory.verify(store, config).problems == []
