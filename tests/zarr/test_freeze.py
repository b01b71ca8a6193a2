"""Freezing a Zarr for a published version: the frozen Zarr keeps serving the old bytes
while the draft's Zarr changes, cannot change itself, and stores each content once."""

from __future__ import annotations

import json
import uuid

import pytest

from dandi_archive.db.models import Zarr
from dandi_archive.zarr import freeze as zarr_freeze

from ..helpers import md5_base64, zarr_checksum_of

OLD = {
    "zarr.json": b'{"zarr_format": 3, "node_type": "group"}',
    "a/c/0": b"chunk a0",
    "a/c/1": b"chunk a1",
    "a/c/2": b"zeros",
    "a/c/3": b"zeros",  # same bytes: one frozen copy
}


@pytest.fixture
def live(api, owner):
    dandiset = api.create_dandiset(owner)
    zarr_id = api.create_zarr(owner, dandiset)
    api.put_zarr_files(owner, zarr_id, OLD)
    api.finalize_zarr(owner, zarr_id)
    return zarr_id


def freeze(api, zarr_id: str) -> str:
    with api.archive.db.session(write=True) as session:
        frozen = zarr_freeze.freeze(api.archive, session, session.get(Zarr, uuid.UUID(zarr_id)))
        frozen_id = str(frozen.id)
    api.wait_for_jobs()
    return frozen_id


def content_keys(api, zarr_id: str) -> list[str]:
    return [o.key for o in api.archive.store.list_keys(f"zarr-content/{zarr_id}/")]


def download(api, zarr_id: str, path: str) -> bytes:
    r = api.get(
        f"/api/zarr/{zarr_id}/files/",
        params={"prefix": path, "download": "true"},
        follow_redirects=False,
    )
    assert r.status_code == 302, r.text
    return api.get(r.headers["Location"]).content


def test_frozen_zarr_keeps_the_old_content(api, owner, live):
    frozen = freeze(api, live)
    assert frozen != live
    assert len(content_keys(api, live)) == 4  # five files, four distinct contents
    # The draft's Zarr changes: one chunk rewritten, one deleted.
    api.put_zarr_files(owner, live, {"a/c/0": b"new a0"})
    assert (
        api.delete(f"/api/zarr/{live}/files/", owner, json=[{"path": "a/c/1"}]).status_code == 204
    )
    new = {**OLD, "a/c/0": b"new a0"}
    del new["a/c/1"]
    assert api.finalize_zarr(owner, live)["checksum"] == zarr_checksum_of(new)

    info = api.get(f"/api/zarr/{frozen}/").json()
    assert info["checksum"] == zarr_checksum_of(OLD)
    assert info["status"] == "Complete"
    listing = api.zarr_files(frozen)
    assert [e["Key"] for e in listing] == sorted(OLD)
    assert [e["Key"] for e in api.zarr_files(frozen, prefix="a/c/", limit=2)] == sorted(OLD)[:4]
    for path, data in OLD.items():
        assert download(api, frozen, path) == data
    assert download(api, live, "a/c/0") == b"new a0"


def test_the_manifest_maps_paths_to_frozen_objects(api, owner, live):
    frozen = freeze(api, live)
    api.put_zarr_files(owner, live, {"a/c/0": b"new a0"})
    api.finalize_zarr(owner, live)
    key = zarr_freeze.manifest_key(uuid.UUID(frozen))
    manifest = json.loads(b"".join(api.archive.store.iter_bytes(key)))
    api.make_bucket_public()
    assert manifest["version"] == 1
    assert sorted(manifest["refs"]) == sorted(OLD)
    for path, (url,) in manifest["refs"].items():
        assert api.get(url).content == OLD[path]


def test_frozen_zarrs_cannot_change(api, owner, live):
    frozen = freeze(api, live)
    body = [{"path": "x", "base64md5": md5_base64(b"x")}]
    for r in (
        api.post(f"/api/zarr/{frozen}/files/", owner, json=body),
        api.delete(f"/api/zarr/{frozen}/files/", owner, json=[{"path": "a/c/0"}]),
        api.post(f"/api/zarr/{frozen}/finalize/", owner),
    ):
        assert r.status_code == 400
        assert "published" in r.json()["detail"]
    assert len(api.zarr_files(frozen)) == len(OLD)


def test_the_live_zarr_waits_while_being_frozen(api, owner, live):
    frozen = freeze(api, live)
    with api.archive.db.session(write=True) as session:
        session.get(Zarr, uuid.UUID(frozen)).preserved = False  # as before the copy job
    body = [{"path": "x", "base64md5": md5_base64(b"x")}]
    assert api.post(f"/api/zarr/{live}/files/", owner, json=body).status_code == 423
    assert download(api, frozen, "a/c/0") == OLD["a/c/0"]  # served from the live object


def test_refreezing_copies_only_new_contents(api, owner, live):
    first = freeze(api, live)
    assert freeze(api, live) == first  # unchanged: the same frozen Zarr
    api.put_zarr_files(owner, live, {"a/c/0": b"new a0", "b/c/0": b"zeros"})
    api.finalize_zarr(owner, live)
    second = freeze(api, live)
    assert second != first
    assert len(content_keys(api, live)) == 5  # only "new a0" was copied
    assert api.zarr_files(second)[0]["Key"] == "a/c/0"
    assert download(api, second, "a/c/0") == b"new a0"
    assert download(api, first, "a/c/0") == OLD["a/c/0"]


def test_only_complete_zarrs_freeze(api, owner, live):
    api.put_zarr_files(owner, live, {"x": b"x"})
    with api.archive.db.session(write=True) as session, pytest.raises(Exception) as err:
        zarr_freeze.freeze(api.archive, session, session.get(Zarr, uuid.UUID(live)))
    assert "Complete" in str(err.value)


def test_frozen_zarrs_are_not_found_by_name(api, owner, live):
    freeze(api, live)
    dandiset = api.get(f"/api/zarr/{live}/").json()["dandiset"]
    found = api.get("/api/zarr/", params={"dandiset": dandiset, "name": "sample.zarr"}).json()
    assert [z["zarr_id"] for z in found["results"]] == [live]


def test_frozen_tree_reads_with_zarr_from_the_manifest(api, owner, tmp_path):
    """zarr + fsspec's reference filesystem over the bucket alone (public S3 over HTTP)."""
    if not api.archive.settings.s3_bucket:
        pytest.skip("the folder store's URLs are only served through the test client here")
    import fsspec
    import numpy as np
    import zarr
    from zarr.storage import FsspecStore

    from ..omezarr import tree_files

    def write(data):
        array = zarr.create_array(
            zarr.storage.LocalStore(tmp_path / "a.zarr"),
            shape=(100,),
            chunks=(10,),
            dtype="float64",
            overwrite=True,
        )
        array[:] = data

    write(np.arange(100))
    dandiset = api.create_dandiset(owner)
    live = api.create_zarr(owner, dandiset, "a.zarr")
    api.put_zarr_files(owner, live, tree_files(tmp_path / "a.zarr"))
    api.finalize_zarr(owner, live)
    frozen = freeze(api, live)
    write(np.zeros(100))
    api.put_zarr_files(owner, live, tree_files(tmp_path / "a.zarr"))
    api.finalize_zarr(owner, live)
    api.make_bucket_public()
    manifest = api.archive.store.public_url(zarr_freeze.manifest_key(uuid.UUID(frozen)))
    fs = fsspec.filesystem(
        "reference",
        fo=manifest,
        remote_protocol="http",
        remote_options={"asynchronous": True},
        asynchronous=True,
    )
    array = zarr.open_array(FsspecStore(fs, read_only=True), mode="r")
    assert np.array_equal(array[:], np.arange(100))
