"""The bucket describes itself: manifests under dandisets/, enough to fetch and verify
every file without the API or the database."""

from __future__ import annotations

import hashlib
import json

import yaml
from click.testing import CliRunner

from dandi_archive.archive import build_store
from dandi_archive.cli import main
from dandi_archive.integrity.verify import iter_manifest_assets

from ..helpers import dandi_etag, publish, settings_env, valid_dandiset

FILES = {"sub-1/a.txt": b"alpha", "sub-2/b.txt": b"beta" * 1000, "c.txt": b"gamma"}
NAMES = [
    "assets.jsonld",
    "assets.yaml",
    "collection.jsonld",
    "dandiset.jsonld",
    "dandiset.ttl",
    "dandiset.yaml",
]


def read(store, key: str) -> bytes:
    return b"".join(store.iter_bytes(key))


def test_published_version_manifests_match_the_api(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key, FILES)
    version = publish(api, key, dandiset)
    store = api.archive.store
    prefix = f"dandisets/{dandiset}/{version}/"
    assert sorted(o.key.removeprefix(prefix) for o in store.list_keys(prefix)) == NAMES

    metadata = api.get(f"/api/dandisets/{dandiset}/versions/{version}/").json()
    assert json.loads(read(store, prefix + "dandiset.jsonld")) == metadata
    assert yaml.safe_load(read(store, prefix + "dandiset.yaml")) == metadata

    listed = api.get(
        f"/api/dandisets/{dandiset}/versions/{version}/assets/", params={"metadata": 1}
    )
    expected = [a["metadata"] for a in listed.json()["results"]]
    assets = json.loads(read(store, prefix + "assets.jsonld"))
    assert assets == expected
    assets_yaml = read(store, prefix + "assets.yaml").decode()
    assert yaml.safe_load(assets_yaml) == expected
    assert assets_yaml == yaml.dump(expected, Dumper=yaml.CSafeDumper, allow_unicode=True)
    collection = json.loads(read(store, prefix + "collection.jsonld"))
    assert collection["@type"] == "prov:Collection"
    assert collection["id"] == metadata["id"]
    assert collection["hasMember"] == [a["id"] for a in expected]
    assert metadata["manifestLocation"] == [store.public_url(prefix + "assets.yaml")]


def test_draft_manifests_follow_changes(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key, {"one.txt": b"1"})
    store = api.archive.store
    key_name = f"dandisets/{dandiset}/draft/assets.jsonld"
    assert [a["path"] for a in json.loads(read(store, key_name))] == ["one.txt"]
    api.add_asset(key, dandiset, "two.txt", b"2", {"schemaKey": "Asset"})
    api.wait_for_jobs()
    assert [a["path"] for a in json.loads(read(store, key_name))] == ["one.txt", "two.txt"]


def test_embargoed_dandisets_get_no_manifests(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key, embargo="true")
    api.add_asset(key, dandiset, "secret.txt", b"secret")
    api.wait_for_jobs()
    assert list(api.archive.store.list_keys(f"dandisets/{dandiset}/")) == []


def test_whole_dandiset_fetched_and_verified_from_the_bucket_alone(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key, FILES)
    version = publish(api, key, dandiset)
    # A reader with nothing but the bucket: a store built from storage settings only.
    store = build_store(api.archive.settings)
    fetched = {}
    for asset in iter_manifest_assets(store, dandiset, version):
        bucket_key = next(k for k in map(store.key_for_url, asset["contentUrl"]) if k)
        data = read(store, bucket_key)
        assert len(data) == asset["contentSize"]
        assert dandi_etag(data) == asset["digest"]["dandi:dandi-etag"]
        assert hashlib.sha256(data).hexdigest() == asset["digest"]["dandi:sha2-256"]
        fetched[asset["path"]] = data
    assert fetched == FILES


def test_verify_command_reads_only_the_bucket_and_finds_damage(api, monkeypatch):
    key = api.make_user()
    dandiset = valid_dandiset(api, key, FILES)
    version = publish(api, key, dandiset)
    env = settings_env(api.archive.settings)
    # Point the database somewhere unusable: verify must not need it.
    env["DANDI_ARCHIVE_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    runner = CliRunner()
    ok = runner.invoke(main, ["manifests", "verify", "--dandiset", dandiset], env=env)
    assert ok.exit_code == 0, ok.output
    assert f"{dandiset}/{version}: 3 files, OK" in ok.output
    assert f"{dandiset}/draft: 3 files, OK" in ok.output

    # Alter one stored blob: same size, different bytes.
    store = api.archive.store
    victim = next(a for a in iter_manifest_assets(store, dandiset, version) if a["path"] == "c.txt")
    victim_key = next(k for k in map(store.key_for_url, victim["contentUrl"]) if k)
    store.put_bytes(victim_key, b"GAMMA", "application/octet-stream")
    bad = runner.invoke(
        main, ["manifests", "verify", "--dandiset", dandiset, "--version", version], env=env
    )
    assert bad.exit_code == 1
    assert "c.txt" in bad.output
    assert "PROBLEM" in bad.output


def test_rebuild_command_rewrites_missing_manifests(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key, FILES)
    version = publish(api, key, dandiset)
    store = api.archive.store
    for name in NAMES:
        store.delete(f"dandisets/{dandiset}/{version}/{name}")
    result = CliRunner().invoke(
        main,
        ["manifests", "rebuild", "--dandiset", dandiset],
        env=settings_env(api.archive.settings),
    )
    assert result.exit_code == 0, result.output
    assert len(list(store.list_keys(f"dandisets/{dandiset}/{version}/"))) == len(NAMES)
