"""Assets of a draft: adding, listing, browsing folders, replacing, removing, downloading."""

import hashlib

import pytest


def assets_url(dandiset, version="draft"):
    return f"/api/dandisets/{dandiset}/versions/{version}/assets/"


def listed_paths(api, dandiset, **params):
    r = api.get(assets_url(dandiset), params=params)
    assert r.status_code == 200, r.text
    return [a["path"] for a in r.json()["results"]]


def test_asset_metadata_is_completed_by_the_server(api, owner, dandiset):
    data = b"spikes"
    asset = api.add_asset(
        owner, dandiset, "sub-1/sub-1_ses-1.nwb", data, {"foo": "bar", "schemaKey": "Asset"}
    )
    api.wait_for_jobs()
    metadata = api.get(f"{assets_url(dandiset)}{asset['asset_id']}/").json()
    assert metadata["foo"] == "bar"
    assert metadata["id"] == f"dandiasset:{asset['asset_id']}"
    assert metadata["identifier"] == asset["asset_id"]
    assert metadata["path"] == "sub-1/sub-1_ses-1.nwb"
    assert metadata["contentSize"] == len(data)
    assert metadata["digest"]["dandi:sha2-256"] == hashlib.sha256(data).hexdigest()
    assert (
        metadata["contentUrl"][0] == f"http://testserver/api/assets/{asset['asset_id']}/download/"
    )
    assert metadata["access"] == [{"schemaKey": "AccessRequirements", "status": "dandi:OpenAccess"}]
    # The same document from every endpoint.
    assert api.get(f"/api/assets/{asset['asset_id']}/").json() == metadata
    assert api.get(f"/api/assets/{asset['asset_id']}/info/").json()["metadata"] == metadata


def test_computed_fields_sent_back_are_ignored(api, owner, dandiset):
    asset = api.add_asset(owner, dandiset, "a.txt", b"a")
    metadata = api.get(f"/api/assets/{asset['asset_id']}/").json()
    forged = {**metadata, "contentSize": 999, "digest": {"dandi:dandi-etag": "0" * 32 + "-1"}}
    r = api.put(
        f"{assets_url(dandiset)}{asset['asset_id']}/",
        owner,
        json={"metadata": forged, "blob_id": asset["blob"]},
    )
    assert r.status_code == 200
    assert r.json()["asset_id"] == asset["asset_id"]  # nothing the user owns changed
    assert r.json()["metadata"]["contentSize"] == 1


def test_list_filters_orders_and_pages(api, owner, dandiset):
    for path in ["file.txt", "subdir1/apple.txt", "subdir2/banana.txt", "subdir2/coconut.txt"]:
        api.add_asset(owner, dandiset, path, path.encode())
    assert listed_paths(api, dandiset, order="path") == [
        "file.txt",
        "subdir1/apple.txt",
        "subdir2/banana.txt",
        "subdir2/coconut.txt",
    ]
    assert listed_paths(api, dandiset, order="-path")[0] == "subdir2/coconut.txt"
    assert listed_paths(api, dandiset, path="SUBDIR") == [
        "subdir1/apple.txt",
        "subdir2/banana.txt",
        "subdir2/coconut.txt",
    ]
    assert listed_paths(api, dandiset, path="subdir/") == []
    assert listed_paths(api, dandiset, path="subdir1/apple.txt") == ["subdir1/apple.txt"]
    assert listed_paths(api, dandiset, glob="*a*.txt") == [
        "subdir1/apple.txt",
        "subdir2/banana.txt",
    ]
    assert listed_paths(api, dandiset, glob="s*.TXT") == [
        "subdir1/apple.txt",
        "subdir2/banana.txt",
        "subdir2/coconut.txt",
    ]
    page1 = api.get(assets_url(dandiset), params={"page_size": 3, "order": "path"}).json()
    assert page1["count"] == 4
    assert (
        page1["next"]
        == "http://testserver" + assets_url(dandiset) + "?page_size=3&order=path&page=2"
    )
    page2 = api.get(page1["next"]).json()
    assert [a["path"] for a in page2["results"]] == ["subdir2/coconut.txt"]
    assert page2["next"] is None
    assert "metadata" not in page1["results"][0]
    with_metadata = api.get(assets_url(dandiset), params={"metadata": "true"}).json()
    assert with_metadata["results"][0]["metadata"]["path"] == with_metadata["results"][0]["path"]
    r = api.get(assets_url(dandiset), params={"order": "size"})
    assert r.status_code == 400
    # Upstream serves an oversized page at its maximum (1000) rather than refusing it.
    clamped = api.get(assets_url(dandiset), params={"page_size": 1001})
    assert clamped.status_code == 200 and clamped.json()["count"] == page1["count"]


def test_folder_listing_with_aggregates(api, owner, dandiset):
    api.add_asset(owner, dandiset, "top.txt", b"12345")
    api.add_asset(owner, dandiset, "sub-1/a.nwb", b"123")
    api.add_asset(owner, dandiset, "sub-1/ses-1/b.nwb", b"12")
    root = api.get(assets_url(dandiset) + "paths/").json()
    assert root["count"] == 2
    sub, top = root["results"]
    assert (sub["path"], sub["aggregate_files"], sub["aggregate_size"], sub["asset"]) == (
        "sub-1",
        2,
        5,
        None,
    )
    assert (top["path"], top["aggregate_files"], top["aggregate_size"]) == ("top.txt", 1, 5)
    assert top["asset"]["asset_id"]
    inner = api.get(assets_url(dandiset) + "paths/", params={"path_prefix": "sub-1/"}).json()
    assert [e["path"] for e in inner["results"]] == ["sub-1/a.nwb", "sub-1/ses-1"]
    r = api.get(assets_url(dandiset) + "paths/", params={"path_prefix": "nope"})
    assert r.status_code == 404
    info = api.get(f"/api/dandisets/{dandiset}/").json()["draft_version"]
    assert (info["asset_count"], info["size"]) == (3, 10)


@pytest.mark.parametrize(
    "path",
    [
        "/abs.txt",
        "a/../b.txt",
        "./a.txt",
        "a//b.txt",
        "a\\b.txt",
        "a\x00b",
        "tab\there",
        "a/",
        "x" * 513,
        "",
    ],
)
def test_invalid_paths_are_refused_and_change_nothing(api, owner, dandiset, path):
    blob = api.upload(owner, dandiset, b"content")
    r = api.post(assets_url(dandiset), owner, json={"metadata": {"path": path}, "blob_id": blob})
    assert r.status_code == 400
    assert "path" in r.json()["detail"]
    assert listed_paths(api, dandiset) == []
    assert api.get(f"/api/dandisets/{dandiset}/").json()["draft_version"]["asset_count"] == 0


def test_path_conflicts_are_409_and_change_nothing(api, owner, dandiset):
    api.add_asset(owner, dandiset, "dir/file.txt", b"one")
    blob = api.upload(owner, dandiset, b"two")
    for path in ("dir/file.txt", "dir", "dir/file.txt/inner"):
        r = api.post(
            assets_url(dandiset), owner, json={"metadata": {"path": path}, "blob_id": blob}
        )
        assert r.status_code == 409, path
        assert r.json()["detail"]
    assert listed_paths(api, dandiset) == ["dir/file.txt"]
    root = api.get(assets_url(dandiset) + "paths/").json()["results"]
    assert [(e["path"], e["aggregate_files"]) for e in root] == [("dir", 1)]


def test_unknown_ids_are_404(api, owner, dandiset):
    unknown = "2b8c3d2e-2f4f-4a4b-9c3e-1f2a3b4c5d6e"
    assert api.get(f"/api/assets/{unknown}/").status_code == 404
    assert api.get("/api/assets/not-a-uuid/info/").status_code == 404
    assert api.get(f"{assets_url(dandiset)}{unknown}/").status_code == 404
    assert api.get(assets_url("999999")).status_code == 404
    assert api.get(assets_url(dandiset, "0.999999.9999")).status_code == 404
    r = api.post(assets_url(dandiset), owner, json={"metadata": {"path": "a"}, "blob_id": unknown})
    assert r.status_code == 404
    r = api.post(assets_url(dandiset), owner, json={"metadata": {"path": "a"}, "blob_id": "nope"})
    assert r.status_code == 400


def test_rename_makes_a_new_asset_and_keeps_others(api, owner, dandiset):
    moved = api.add_asset(owner, dandiset, "old/name.txt", b"moving")
    kept = api.add_asset(owner, dandiset, "stay.txt", b"staying")
    metadata = api.get(f"/api/assets/{moved['asset_id']}/").json()
    r = api.put(
        f"{assets_url(dandiset)}{moved['asset_id']}/",
        owner,
        json={"metadata": {**metadata, "path": "new/name.txt"}, "blob_id": moved["blob"]},
    )
    assert r.status_code == 200
    renamed = r.json()
    assert renamed["asset_id"] != moved["asset_id"]
    assert renamed["blob"] == moved["blob"]
    assert renamed["metadata"]["path"] == "new/name.txt"
    assert listed_paths(api, dandiset) == ["new/name.txt", "stay.txt"]
    assert api.get(f"/api/assets/{moved['asset_id']}/").status_code == 404
    assert listed_paths(api, dandiset, path="stay.txt") == ["stay.txt"]
    assert api.get(f"/api/assets/{kept['asset_id']}/").status_code == 200
    folders = [e["path"] for e in api.get(assets_url(dandiset) + "paths/").json()["results"]]
    assert folders == ["new", "stay.txt"]


def test_rename_onto_existing_path_fails_without_change(api, owner, dandiset):
    one = api.add_asset(owner, dandiset, "one.txt", b"1")
    api.add_asset(owner, dandiset, "two.txt", b"2")
    metadata = api.get(f"/api/assets/{one['asset_id']}/").json()
    r = api.put(
        f"{assets_url(dandiset)}{one['asset_id']}/",
        owner,
        json={"metadata": {**metadata, "path": "two.txt"}, "blob_id": one["blob"]},
    )
    assert r.status_code == 409
    assert listed_paths(api, dandiset) == ["one.txt", "two.txt"]
    assert api.get(f"/api/assets/{one['asset_id']}/").status_code == 200


def test_delete_removes_from_draft(api, owner, dandiset):
    asset = api.add_asset(owner, dandiset, "gone/soon.txt", b"bye")
    url = f"{assets_url(dandiset)}{asset['asset_id']}/"
    assert api.delete(url).status_code == 401
    assert api.delete(url, owner).status_code == 204
    assert listed_paths(api, dandiset) == []
    assert api.get(assets_url(dandiset) + "paths/").json()["results"] == []
    assert api.delete(url, owner).status_code == 404


def test_download_redirects_to_bytes_with_range_support(api, owner, dandiset):
    data = bytes(range(256)) * 40
    asset = api.add_asset(owner, dandiset, "data/file.bin", data)
    full = api.download(f"/api/assets/{asset['asset_id']}/download/")
    assert full.content == data
    part = api.download(
        f"/api/assets/{asset['asset_id']}/download/", headers={"Range": "bytes=100-199"}
    )
    assert part.status_code == 206
    assert part.content == data[100:200]
    nested = api.download(f"{assets_url(dandiset)}{asset['asset_id']}/download/")
    assert nested.content == data
    # The storage URL in contentUrl is public and answers HEAD and Range reads.
    storage_url = api.get(f"/api/assets/{asset['asset_id']}/").json()["contentUrl"][1]
    head = api.request("HEAD", storage_url)
    assert head.status_code == 200
    assert int(head.headers["Content-Length"]) == len(data)
    assert api.get(storage_url, headers={"Range": "bytes=0-9"}).content == data[:10]


def test_validation_reaches_valid_and_reports_asset_errors(api, owner, dandiset):
    api.add_asset(
        owner, dandiset, "ok.txt", b"fine", {"schemaKey": "Asset", "encodingFormat": "text/plain"}
    )
    api.add_asset(
        owner,
        dandiset,
        "bad.txt",
        b"broken",
        {"schemaKey": "Asset", "contentSize": "huge", "wasAttributedTo": "nobody"},
    )
    api.wait_for_jobs()
    info = api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()
    assert info["status"] == "Valid"
    errors = info["asset_validation_errors"]
    assert errors and {e["path"] for e in errors} == {"bad.txt"}
    assert all(e["field"] is not None and e["message"] for e in errors)
    listing = api.get(assets_url(dandiset), params={"path": "bad.txt"}).json()["results"][0]
    validation = api.get(f"{assets_url(dandiset)}{listing['asset_id']}/validation/").json()
    assert validation["status"] == "Invalid"
    assert validation["validation_errors"]


def test_webdav_atpath_as_upstream(api, owner, dandiset):
    """Upstream's ``/api/webdav/assets/atpath/``: an asset's path gives the asset; a
    folder gives itself (with totals) and, if asked, its children; the root only its
    children; a path that is not there, or an asset asked for as ``path/``, is a 404."""
    a = api.add_asset(owner, dandiset, "sub-1/a.txt", b"alpha")
    api.add_asset(owner, dandiset, "sub-1/deep/b.txt", b"bb")
    api.add_asset(owner, dandiset, "top.txt", b"top")

    def atpath(**params) -> dict:
        query = {"dandiset_id": dandiset, "version_id": "draft", **params}
        r = api.get("/api/webdav/assets/atpath/", params=query)
        assert r.status_code == 200, r.text
        return r.json()

    asset = atpath(path="sub-1/a.txt")
    assert asset["count"] == 1 and asset["next"] is None
    (only,) = asset["results"]
    assert only["type"] == "asset"
    assert set(only["resource"]) == {
        "asset_id", "path", "created", "modified", "zarr", "blob", "size"
    }  # fmt: skip
    assert only["resource"]["asset_id"] == a["asset_id"] and only["resource"]["size"] == 5
    with_metadata = atpath(path="sub-1/a.txt", metadata="true")["results"][0]["resource"]
    assert with_metadata["metadata"]["path"] == "sub-1/a.txt"

    folder = atpath(path="sub-1/")
    assert folder["results"] == [
        {"type": "folder", "resource": {"path": "sub-1", "total_assets": 2, "total_size": 7}}
    ]
    listed = atpath(path="sub-1", children="true")
    assert listed["count"] == 3
    assert [(e["type"], e["resource"]["path"]) for e in listed["results"]] == [
        ("folder", "sub-1"),
        ("asset", "sub-1/a.txt"),
        ("folder", "sub-1/deep"),
    ]
    page2 = atpath(path="sub-1", children="true", page_size=2, page=2)
    assert [e["resource"]["path"] for e in page2["results"]] == ["sub-1/deep"]
    assert page2["next"] is None and page2["previous"]
    assert atpath()["results"] == [] and atpath()["count"] == 0
    root = atpath(children="true")
    assert [e["resource"]["path"] for e in root["results"]] == ["sub-1", "top.txt"]

    url = "/api/webdav/assets/atpath/"
    for path, detail in (("nope", "Folder or asset not found at nope"), ("top.txt/", "Folder")):
        r = api.get(url, params={"dandiset_id": dandiset, "version_id": "draft", "path": path})
        assert r.status_code == 404 and detail in r.json()["detail"]
    assert api.get(url, params={"dandiset_id": dandiset}).status_code == 400
    r = api.get(url, params={"dandiset_id": "999999", "version_id": "draft"})
    assert r.status_code == 404
