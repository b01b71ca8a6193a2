"""Zarr archives: creating, uploading file by file, listing, deleting, finalizing, the
incremental checksum, Zarr assets, and every way to get it wrong."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from dandi_archive.db.models import Zarr, ZarrChange, ZarrDirectory, ZarrStatus

from ..helpers import md5_base64, zarr_checksum_of

FILES = {
    "zarr.json": b'{"zarr_format": 3, "node_type": "group", "attributes": {}}',
    "arr/zarr.json": b'{"zarr_format": 3, "node_type": "array"}',
    "arr/c/0/0": b"chunk 0 0" * 10,
    "arr/c/0/1": b"chunk 0 1" * 10,
    "arr/c/1/0": b"chunk 1 0" * 10,
    "labels/x": b"x",
}


@pytest.fixture
def zarr_id(api, owner, dandiset):
    return api.create_zarr(owner, dandiset)


def uploaded(api, owner, zarr_id, files=FILES) -> dict:
    api.put_zarr_files(owner, zarr_id, files)
    return api.finalize_zarr(owner, zarr_id)


def test_create_get_and_find_by_dandiset_and_name(api, owner, dandiset):
    r = api.post("/api/zarr/", owner, json={"name": "a.ome.zarr", "dandiset": dandiset})
    assert r.status_code == 200
    zarr = r.json()
    assert zarr == {
        "name": "a.ome.zarr",
        "dandiset": dandiset,
        "zarr_id": zarr["zarr_id"],
        "status": "Pending",
        "checksum": None,
        "file_count": 0,
        "size": 0,
    }
    assert api.get(f"/api/zarr/{zarr['zarr_id']}/").json() == zarr
    again = api.post("/api/zarr/", owner, json={"name": "a.ome.zarr", "dandiset": dandiset})
    assert again.status_code == 400
    assert "Zarr already exists" in again.text
    api.create_zarr(owner, dandiset, "b.zarr")
    found = api.get("/api/zarr/", params={"dandiset": dandiset, "name": "a.ome.zarr"}).json()
    assert found["count"] == 1
    assert found["results"] == [zarr]
    assert api.get("/api/zarr/", params={"dandiset": dandiset}).json()["count"] == 2


def test_upload_finalize_gives_the_clients_checksum(api, owner, zarr_id):
    assert api.zarr_files(zarr_id) == []
    zarr = uploaded(api, owner, zarr_id)
    assert zarr["status"] == "Complete"
    assert zarr["checksum"] == zarr_checksum_of(FILES)
    assert zarr["file_count"] == len(FILES)
    assert zarr["size"] == sum(len(d) for d in FILES.values())


def test_empty_zarr_finalizes_to_the_empty_checksum(api, owner, zarr_id):
    zarr = api.finalize_zarr(owner, zarr_id)
    assert zarr["checksum"] == "481a2f77ab786a0f45aafd5db0971caa-0--0"
    assert zarr["status"] == "Complete"


def test_listing_pages_filters_and_downloads(api, owner, zarr_id):
    uploaded(api, owner, zarr_id)
    entries = api.zarr_files(zarr_id)
    assert [e["Key"] for e in entries] == sorted(FILES)
    first = entries[0]
    assert first["ETag"] == hashlib.md5(FILES[first["Key"]]).hexdigest()  # unquoted
    assert first["Size"] == len(FILES[first["Key"]])
    assert first["LastModified"].endswith(("Z", "+00:00"))
    # Cursor paging: the same keys, two at a time; with and without the trailing slash.
    page = api.get(f"/api/zarr/{zarr_id}/files/", params={"limit": 2}).json()
    assert [e["Key"] for e in page["results"]] == sorted(FILES)[:2]
    assert "after=" in page["next"]
    assert api.zarr_files(zarr_id, limit=2) == entries
    assert [e["Key"] for e in api.zarr_files(zarr_id, prefix="arr/c/0")] == [
        "arr/c/0/0",
        "arr/c/0/1",
    ]
    r = api.get(
        f"/api/zarr/{zarr_id}/files/",
        params={"prefix": "arr/c/1/0", "download": "true"},
        follow_redirects=False,
    )
    assert r.status_code == 302
    body = api.get(r.headers["Location"])
    assert body.content == FILES["arr/c/1/0"]
    ranged = api.get(r.headers["Location"], headers={"Range": "bytes=2-4"})
    assert ranged.status_code == 206 and ranged.content == FILES["arr/c/1/0"][2:5]
    head = api.request(
        "HEAD",
        f"/api/zarr/{zarr_id}/files/",
        params={"prefix": "zarr.json"},
        follow_redirects=False,
    )
    assert head.status_code == 302
    assert api.request("HEAD", head.headers["Location"]).status_code == 200


def test_metadata_files_keep_their_content_type(api, owner, zarr_id):
    r = api.post(
        f"/api/zarr/{zarr_id}/files/",
        owner,
        json=[{"path": "zarr.json", "base64md5": md5_base64(FILES["zarr.json"])}],
    )
    put = api.put(
        r.json()[0],
        content=FILES["zarr.json"],
        headers={"Content-MD5": md5_base64(FILES["zarr.json"]), "Content-Type": "application/json"},
    )
    assert put.status_code == 200
    url = api.get(
        f"/api/zarr/{zarr_id}/files/",
        params={"prefix": "zarr.json", "download": True},
        follow_redirects=False,
    ).headers["Location"]
    assert api.get(url).headers["Content-Type"].startswith("application/json")


def test_changes_rehash_only_the_directories_above_them(api, owner, zarr_id):
    uploaded(api, owner, zarr_id)
    with api.archive.db.session() as session:
        before = {
            d.path: d.digest
            for d in session.query(ZarrDirectory).filter_by(zarr_id=zarr_id_uuid(zarr_id))
        }
    changed = {**FILES, "arr/c/0/1": b"new chunk"}
    del changed["labels/x"]
    api.put_zarr_files(owner, zarr_id, {"arr/c/0/1": b"new chunk"})
    r = api.delete(f"/api/zarr/{zarr_id}/files/", owner, json=[{"path": "labels/x"}])
    assert r.status_code == 204
    assert api.get(f"/api/zarr/{zarr_id}/").json()["status"] == "Pending"
    zarr = api.finalize_zarr(owner, zarr_id)
    assert zarr["checksum"] == zarr_checksum_of(changed)
    assert zarr["file_count"] == len(changed)
    with api.archive.db.session() as session:
        after = {
            d.path: d.digest
            for d in session.query(ZarrDirectory).filter_by(zarr_id=zarr_id_uuid(zarr_id))
        }
    assert after["arr/c/1"] == before["arr/c/1"]  # untouched
    assert after["arr/c/0"] != before["arr/c/0"]
    assert "labels" not in after  # emptied directories disappear
    assert [e["Key"] for e in api.zarr_files(zarr_id)] == sorted(changed)


@pytest.mark.parametrize(
    "path", ["../escape", "a/../../b", "/abs", "a//b", "./a", "a/.", "dir/", "a\\b", "", "a\x00b"]
)
def test_paths_escaping_the_zarr_are_refused(api, owner, zarr_id, path):
    r = api.post(
        f"/api/zarr/{zarr_id}/files/", owner, json=[{"path": path, "base64md5": md5_base64(b"x")}]
    )
    assert r.status_code == 400
    assert "path" in r.json()["detail"].lower()
    r = api.delete(f"/api/zarr/{zarr_id}/files/", owner, json=[{"path": path}])
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "non-empty"),
        ({"path": "a"}, "list"),
        ([{"path": "a", "base64md5": "nope"}], "16-byte MD5"),
        ([{"path": "a", "base64md5": md5_base64(b"1")}] * 2, "listed twice"),
        ([{"path": f"f{i}", "base64md5": md5_base64(b"1")} for i in range(1001)], "At most"),
    ],
)
def test_bad_upload_requests_name_the_problem(api, owner, zarr_id, body, message):
    r = api.post(f"/api/zarr/{zarr_id}/files/", owner, json=body)
    assert r.status_code == 400
    assert message in r.json()["detail"]
    assert api.get(f"/api/zarr/{zarr_id}/").json()["status"] == "Pending"


def test_md5_mismatch_on_put_changes_nothing_and_a_late_upload_is_counted(api, owner, zarr_id):
    uploaded(api, owner, zarr_id)
    new = b"replacement chunk"
    r = api.post(
        f"/api/zarr/{zarr_id}/files/",
        owner,
        json=[{"path": "arr/c/0/0", "base64md5": md5_base64(new)}],
    )
    url = r.json()[0]
    # Other bytes than announced: storage refuses them, the old object stays. (S3 does
    # this itself; moto does not check Content-MD5, so there only finalize catches it.)
    bad = api.put(url, content=b"other bytes", headers={"Content-MD5": md5_base64(new)})
    if not api.archive.settings.s3_bucket:
        assert bad.status_code == 400
        assert "BadDigest" in bad.text
        listed = {e["Key"]: e["ETag"] for e in api.zarr_files(zarr_id)}
        assert listed["arr/c/0/0"] == hashlib.md5(FILES["arr/c/0/0"]).hexdigest()
        # As on dandiarchive.org, finalize takes storage as it is: the client sees a
        # checksum other than its own and uploads again.
        zarr = api.finalize_zarr(owner, zarr_id)
        assert zarr["status"] == "Complete"
        assert zarr["checksum"] == zarr_checksum_of(FILES)
        assert awaiting_paths(api, zarr_id) == ["arr/c/0/0"]
    good = api.put(url, content=new, headers={"Content-MD5": md5_base64(new)})
    assert good.status_code == 200
    # The next finalize looks at the path again, though nothing new was announced for it.
    api.put_zarr_files(owner, zarr_id, {"labels/y": b"y"})
    zarr = api.finalize_zarr(owner, zarr_id)
    assert zarr["checksum"] == zarr_checksum_of({**FILES, "arr/c/0/0": new, "labels/y": b"y"})
    assert awaiting_paths(api, zarr_id) == []


def awaiting_paths(api, zarr_id: str) -> list[str]:
    """Paths kept on record after an ingest because a URL may still write them."""
    with api.archive.db.session() as session:
        rows = session.scalars(
            select(ZarrChange.path).where(ZarrChange.zarr_id == zarr_id_uuid(zarr_id))
        )
        return sorted(rows)


def test_finalize_does_not_wait_for_announced_uploads(api, owner, zarr_id):
    """dandi's retry loop relies on it: a PUT that silently failed shows up as a checksum
    mismatch, and the client uploads the missing files again."""
    missing = {"arr/c/1/1": b"chunk 1 1" * 10, "arr/c/2/0": b"chunk 2 0" * 10}
    api.put_zarr_files(owner, zarr_id, FILES)
    r = api.post(
        f"/api/zarr/{zarr_id}/files/",
        owner,
        json=[{"path": p, "base64md5": md5_base64(d)} for p, d in missing.items()],
    )
    old_urls = r.json()
    zarr = api.finalize_zarr(owner, zarr_id)
    assert zarr["status"] == "Complete"
    assert zarr["checksum"] == zarr_checksum_of(FILES)
    assert zarr["file_count"] == len(FILES)
    assert awaiting_paths(api, zarr_id) == sorted(missing)
    # The client uploads them again with new URLs; then the old URLs deliver too (same
    # bytes, signed in): nothing is counted twice.
    api.put_zarr_files(owner, zarr_id, missing)
    zarr = api.finalize_zarr(owner, zarr_id)
    assert zarr["checksum"] == zarr_checksum_of({**FILES, **missing})
    assert awaiting_paths(api, zarr_id) == []
    for url, data in zip(old_urls, missing.values(), strict=True):
        assert api.put(url, content=data, headers={"Content-MD5": md5_base64(data)}).is_success
    assert api.get(f"/api/zarr/{zarr_id}/").json()["checksum"] == zarr_checksum_of(
        {**FILES, **missing}
    )


def test_awaiting_paths_are_dropped_once_their_urls_expired(api, owner, zarr_id):
    api.put_zarr_files(owner, zarr_id, FILES)
    body = [{"path": "never", "base64md5": md5_base64(b"never")}]
    assert api.post(f"/api/zarr/{zarr_id}/files/", owner, json=body).status_code == 200
    api.finalize_zarr(owner, zarr_id)
    assert awaiting_paths(api, zarr_id) == ["never"]
    with api.archive.db.session(write=True) as session:
        session.execute(
            update(ZarrChange)
            .where(ZarrChange.zarr_id == zarr_id_uuid(zarr_id))
            .values(expires=datetime.now(UTC) - timedelta(seconds=1))
        )
    api.put_zarr_files(owner, zarr_id, {"labels/y": b"y"})
    zarr = api.finalize_zarr(owner, zarr_id)
    assert zarr["checksum"] == zarr_checksum_of({**FILES, "labels/y": b"y"})
    assert awaiting_paths(api, zarr_id) == []


def test_a_deleted_path_written_again_by_its_old_url_is_counted(api, owner, zarr_id):
    api.put_zarr_files(owner, zarr_id, {"a": b"a"})
    r = api.post(
        f"/api/zarr/{zarr_id}/files/", owner, json=[{"path": "b", "base64md5": md5_base64(b"b")}]
    )
    url = r.json()[0]
    assert api.put(url, content=b"b", headers={"Content-MD5": md5_base64(b"b")}).is_success
    assert api.delete(f"/api/zarr/{zarr_id}/files/", owner, json=[{"path": "b"}]).status_code == 204
    zarr = api.finalize_zarr(owner, zarr_id)
    assert zarr["checksum"] == zarr_checksum_of({"a": b"a"})
    assert awaiting_paths(api, zarr_id) == ["b"]  # the upload URL still works
    assert api.put(url, content=b"b", headers={"Content-MD5": md5_base64(b"b")}).is_success
    api.put_zarr_files(owner, zarr_id, {"c": b"c"})
    zarr = api.finalize_zarr(owner, zarr_id)
    assert zarr["checksum"] == zarr_checksum_of({"a": b"a", "b": b"b", "c": b"c"})


def test_put_without_the_signed_md5_is_refused(api, owner, zarr_id):
    if api.archive.settings.s3_bucket:
        pytest.skip("S3 itself checks its presigned URLs (moto does not)")
    r = api.post(
        f"/api/zarr/{zarr_id}/files/", owner, json=[{"path": "a", "base64md5": md5_base64(b"a")}]
    )
    assert api.put(r.json()[0], content=b"a").status_code == 403
    other = api.put(r.json()[0], content=b"b", headers={"Content-MD5": md5_base64(b"b")})
    assert other.status_code == 403
    assert api.zarr_files(zarr_id) == []


def test_objects_over_5_gib_are_refused(api, owner, zarr_id):
    if api.archive.settings.s3_bucket:
        pytest.skip("S3 refuses PUTs over 5 GiB itself (moto does not)")
    r = api.post(
        f"/api/zarr/{zarr_id}/files/", owner, json=[{"path": "a", "base64md5": md5_base64(b"a")}]
    )
    big = api.put(
        r.json()[0],
        content=b"a",
        headers={"Content-MD5": md5_base64(b"a"), "Content-Length": str(5 * 2**30 + 1)},
    )
    assert big.status_code == 400
    assert "EntityTooLarge" in big.text
    assert api.zarr_files(zarr_id) == []


def test_concurrent_finalize_runs_once(api, owner, zarr_id):
    api.put_zarr_files(owner, zarr_id, FILES)
    codes: list[int] = []

    def finalize() -> None:
        codes.append(api.post(f"/api/zarr/{zarr_id}/finalize/", owner).status_code)

    threads = [threading.Thread(target=finalize) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [204, 400, 400]
    api.wait_for_jobs()
    zarr = api.get(f"/api/zarr/{zarr_id}/").json()
    assert zarr["checksum"] == zarr_checksum_of(FILES)


def test_no_changes_while_ingesting(api, owner, zarr_id):
    api.put_zarr_files(owner, zarr_id, FILES)
    with api.archive.db.session(write=True) as session:
        session.get(Zarr, zarr_id_uuid(zarr_id)).status = ZarrStatus.UPLOADED  # job not run yet
    body = [{"path": "a", "base64md5": md5_base64(b"a")}]
    r = api.post(f"/api/zarr/{zarr_id}/files/", owner, json=body)
    assert r.status_code == 400
    assert "uploaded" in r.json()["detail"]
    assert (
        api.delete(f"/api/zarr/{zarr_id}/files/", owner, json=[{"path": "zarr.json"}]).status_code
        == 400
    )
    assert api.post(f"/api/zarr/{zarr_id}/finalize/", owner).status_code == 400


def zarr_id_uuid(zarr_id: str):
    import uuid

    return uuid.UUID(zarr_id)


def test_deleting_missing_files_deletes_nothing(api, owner, zarr_id):
    uploaded(api, owner, zarr_id)
    r = api.delete(
        f"/api/zarr/{zarr_id}/files/", owner, json=[{"path": "zarr.json"}, {"path": "nope"}]
    )
    assert r.status_code == 400
    assert "nope" in r.json()["detail"]
    assert len(api.zarr_files(zarr_id)) == len(FILES)
    assert api.get(f"/api/zarr/{zarr_id}/").json()["status"] == "Complete"


def test_file_and_folder_at_one_path(api, owner, zarr_id):
    """dandi deletes the remote file before uploading a folder in its place."""
    uploaded(api, owner, zarr_id, {"a": b"file"})
    assert api.delete(f"/api/zarr/{zarr_id}/files/", owner, json=[{"path": "a"}]).status_code == 204
    api.put_zarr_files(owner, zarr_id, {"a/b": b"now a folder"})
    zarr = api.finalize_zarr(owner, zarr_id)
    assert zarr["checksum"] == zarr_checksum_of({"a/b": b"now a folder"})


def test_only_owners_change_zarrs(api, owner, dandiset, zarr_id):
    other = api.make_user("x@example.org")
    body = [{"path": "a", "base64md5": md5_base64(b"a")}]
    assert (
        api.post("/api/zarr/", other, json={"name": "x", "dandiset": dandiset}).status_code == 403
    )
    assert api.post(f"/api/zarr/{zarr_id}/files/", other, json=body).status_code == 403
    assert api.post(f"/api/zarr/{zarr_id}/files/", None, json=body).status_code == 401
    assert api.post(f"/api/zarr/{zarr_id}/finalize/", other).status_code == 403
    assert api.delete(f"/api/zarr/{zarr_id}/files/", other, json=[{"path": "a"}]).status_code == 403


def test_zarrs_of_embargoed_dandisets_are_hidden(api, owner):
    embargoed = api.create_dandiset(owner, name="Secret", embargo="true")
    zarr_id = api.create_zarr(owner, embargoed)
    uploaded(api, owner, zarr_id, {"a": b"secret"})
    other = api.make_user("x@example.org")
    for token in (None, other):
        assert api.get(f"/api/zarr/{zarr_id}/", token).status_code == 404
        assert api.get(f"/api/zarr/{zarr_id}/files", token).status_code == 404
        assert api.get("/api/zarr/", token, params={"dandiset": embargoed}).json()["count"] == 0
    body = [{"path": "b", "base64md5": md5_base64(b"b")}]
    assert api.post(f"/api/zarr/{zarr_id}/files/", None, json=body).status_code == 401
    assert api.post(f"/api/zarr/{zarr_id}/files/", other, json=body).status_code == 404
    assert api.get(f"/api/zarr/{zarr_id}/", owner).json()["file_count"] == 1
    assert api.get("/api/zarr/", owner, params={"dandiset": embargoed}).json()["count"] == 1
    if not api.archive.settings.s3_bucket:
        public = api.archive.store.public_url(f"zarr/{zarr_id}/a")
        assert api.get(public).status_code == 403


def test_unknown_zarrs_are_404(api, owner):
    assert api.get("/api/zarr/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert api.get("/api/zarr/not-a-uuid/").status_code == 404
    assert (
        api.post("/api/zarr/", owner, json={"name": "x", "dandiset": "999999"}).status_code == 404
    )


# -- Zarr assets ------------------------------------------------------------------------


def add_zarr_asset(api, owner, dandiset, zarr_id, path="sample.zarr", **extra) -> dict:
    r = api.post(
        f"/api/dandisets/{dandiset}/versions/draft/assets/",
        owner,
        json={
            "metadata": {"path": path, "digest": {}, "contentSize": 4096, **extra},
            "zarr_id": zarr_id,
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_zarr_asset_metadata_follows_its_zarr(api, owner, dandiset, zarr_id):
    asset = add_zarr_asset(api, owner, dandiset, zarr_id, encodingFormat="application/x-zarr")
    assert asset["zarr"] == zarr_id and asset["blob"] is None
    assert asset["metadata"]["digest"] == {}  # no checksum before the first ingest
    zarr = uploaded(api, owner, zarr_id)
    aid = asset["asset_id"]
    meta = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/{aid}/").json()
    assert meta["digest"] == {"dandi:dandi-zarr-checksum": zarr["checksum"]}
    assert meta["contentSize"] == zarr["size"]
    assert meta["encodingFormat"] == "application/x-zarr"
    assert meta["contentUrl"][1].endswith(f"zarr/{zarr_id}/")
    listing = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/").json()
    assert listing["results"][0]["size"] == zarr["size"]
    assert listing["results"][0]["zarr"] == zarr_id
    version = api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()
    assert version["size"] == zarr["size"]  # folder totals follow the ingest
    r = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/{aid}/validation/")
    assert r.json()["status"] == "Valid", r.json()
    # Changing the Zarr changes the draft's totals again.
    api.put_zarr_files(owner, zarr_id, {"more": b"12345"})
    zarr = api.finalize_zarr(owner, zarr_id)
    assert api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()["size"] == zarr["size"]
    folders = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/paths/").json()
    assert folders["results"][0]["aggregate_size"] == zarr["size"]


def test_zarr_filter_and_download_refusal(api, owner, dandiset, zarr_id):
    add_zarr_asset(api, owner, dandiset, zarr_id)
    blob_asset = api.add_asset(owner, dandiset, "file.txt", b"text")
    only = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/", params={"zarr": "true"})
    assert [a["path"] for a in only.json()["results"]] == ["sample.zarr"]
    assert only.json()["count"] == 1
    both = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/").json()
    assert both["count"] == 2
    aid = only.json()["results"][0]["asset_id"]
    r = api.get(f"/api/assets/{aid}/download/", follow_redirects=False)
    assert r.status_code == 400
    assert f"/api/zarr/{zarr_id}/files" in r.json()["detail"]
    r = api.get(f"/api/assets/{blob_asset['asset_id']}/download/", follow_redirects=False)
    assert r.status_code == 302


def test_zarr_asset_requests_are_checked(api, owner, dandiset, zarr_id):
    url = f"/api/dandisets/{dandiset}/versions/draft/assets/"
    blob_id = api.upload(owner, dandiset, b"bytes")
    both = {"metadata": {"path": "x.zarr"}, "zarr_id": zarr_id, "blob_id": blob_id}
    assert api.post(url, owner, json=both).status_code == 400
    unknown = {"metadata": {"path": "x.zarr"}, "zarr_id": "00000000-0000-4000-8000-000000000000"}
    assert api.post(url, owner, json=unknown).status_code == 404
    elsewhere = api.create_dandiset(owner, name="Other")
    other_zarr = api.create_zarr(owner, elsewhere)
    r = api.post(url, owner, json={"metadata": {"path": "x.zarr"}, "zarr_id": other_zarr})
    assert r.status_code == 400
    assert api.get(url).json()["count"] == 0


def test_replacing_a_zarr_asset_keeps_the_zarr(api, owner, dandiset, zarr_id):
    asset = add_zarr_asset(api, owner, dandiset, zarr_id)
    uploaded(api, owner, zarr_id)
    r = api.put(
        f"/api/dandisets/{dandiset}/versions/draft/assets/{asset['asset_id']}/",
        owner,
        json={"metadata": {"path": "sample.zarr", "description": "new"}, "zarr_id": zarr_id},
    )
    assert r.status_code == 200
    assert r.json()["zarr"] == zarr_id and r.json()["asset_id"] != asset["asset_id"]
    info = api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()
    assert info["asset_count"] == 1
    assert info["size"] == sum(len(d) for d in FILES.values())


def test_deleting_the_dandiset_removes_its_zarr_objects(api, owner, dandiset, zarr_id):
    add_zarr_asset(api, owner, dandiset, zarr_id)
    uploaded(api, owner, zarr_id)
    assert api.delete(f"/api/dandisets/{dandiset}/", owner).status_code == 204
    api.wait_for_jobs()
    assert list(api.archive.store.list_keys(f"zarr/{zarr_id}/")) == []
    assert api.get(f"/api/zarr/{zarr_id}/").status_code == 404


def test_publishing_waits_for_zarrs_to_be_complete(api, owner, dandiset, zarr_id):
    add_zarr_asset(api, owner, dandiset, zarr_id)
    api.put_zarr_files(owner, zarr_id, {"a/b": b"not finalized yet"})
    api.wait_for_jobs()
    r = api.post(f"/api/dandisets/{dandiset}/versions/draft/publish/", owner)
    assert r.status_code == 409
    assert r.json()["detail"]
    assert api.get(f"/api/dandisets/{dandiset}/versions/").json()["count"] == 1


def test_lifting_the_embargo_opens_the_zarr_objects(api, owner):
    embargoed = api.create_dandiset(owner, name="Secret", embargo="true")
    zarr_id = api.create_zarr(owner, embargoed)
    uploaded(api, owner, zarr_id, {"a/b": b"secret"})
    store, bucket = api.archive.store, api.archive.settings.s3_bucket
    key = f"zarr/{zarr_id}/a/b"
    if bucket:
        tags = store.client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        assert tags == [{"Key": "embargoed", "Value": "true"}]
    else:
        assert api.get(store.public_url(key)).status_code == 403
    assert api.post(f"/api/dandisets/{embargoed}/unembargo/", owner).status_code == 200
    api.wait_for_jobs()
    assert api.get(f"/api/zarr/{zarr_id}/").status_code == 200  # visible to all now
    if bucket:
        assert store.client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] == []
    else:
        assert api.get(store.public_url(key)).content == b"secret"
