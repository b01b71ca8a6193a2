"""Multipart uploads: the happy path, deduplication, and every way to get it wrong."""

import hashlib

import pytest

from ..helpers import dandi_etag

MiB = 2**20


def initialize(api, key, dandiset_id, data, **overrides):
    body = {
        "contentSize": len(data),
        "digest": {"algorithm": "dandi:dandi-etag", "value": dandi_etag(data)},
        "dandiset": dandiset_id,
    }
    body.update(overrides)
    return api.post("/api/uploads/initialize/", key, json=body)


def blob_keys(api) -> list[str]:
    return [o.key for o in api.archive.store.list_keys("blobs/")]


def test_upload_stores_one_blob_under_its_own_id_with_sha256(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    data = b"neurons " * 1000
    blob_id = api.upload(key, dandiset, data)
    assert blob_keys(api) == [f"blobs/{blob_id[:3]}/{blob_id[3:6]}/{blob_id}"]
    api.wait_for_jobs()
    r = api.post(
        "/api/blobs/digest/", json={"algorithm": "dandi:dandi-etag", "value": dandi_etag(data)}
    )
    assert r.json() == {
        "blob_id": blob_id,
        "etag": dandi_etag(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    r = api.post(
        "/api/blobs/digest/",
        json={"algorithm": "dandi:sha2-256", "value": hashlib.sha256(data).hexdigest()},
    )
    assert r.json()["blob_id"] == blob_id


def test_multipart_upload_cut_by_dandi_etag_rule(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    data = bytes(range(256)) * (70 * MiB // 256)  # 70 MiB: a 64 MiB part and a 6 MiB part
    r = initialize(api, key, dandiset, data)
    assert [p["size"] for p in r.json()["parts"]] == [64 * MiB, 6 * MiB]
    api.delete(f"/api/dandisets/{dandiset}/uploads/", key)
    blob_id = api.upload(key, dandiset, data)
    asset = api.post(
        f"/api/dandisets/{dandiset}/versions/draft/assets/",
        key,
        json={"metadata": {"path": "big.bin"}, "blob_id": blob_id},
    ).json()
    download = api.download(f"/api/assets/{asset['asset_id']}/download/")
    assert hashlib.md5(download.content).hexdigest() == hashlib.md5(data).hexdigest()


def test_same_content_is_refused_with_409_and_location_even_in_another_dandiset(api):
    key = api.make_user()
    first, second = api.create_dandiset(key), api.create_dandiset(key, name="Second")
    data = b"same bytes twice"
    blob_id = api.upload(key, first, data)
    r = initialize(api, key, second, data)
    assert r.status_code == 409
    assert r.headers["Location"] == blob_id
    assert len(blob_keys(api)) == 1


def test_only_owners_may_upload(api):
    owner, other = api.make_user("o@example.org"), api.make_user("x@example.org")
    dandiset = api.create_dandiset(owner)
    assert initialize(api, other, dandiset, b"data").status_code == 403
    assert initialize(api, None, dandiset, b"data").status_code == 401


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"contentSize": 0}, "at least 1 byte"),
        ({"contentSize": -5}, "at least 1 byte"),
        ({"contentSize": 6 * 2**40}, "5 TiB"),
        ({"contentSize": "ten"}, "contentSize"),
        ({"digest": {"algorithm": "dandi:md5", "value": "x"}}, "dandi:dandi-etag"),
        ({"digest": {"algorithm": "dandi:dandi-etag", "value": "not-an-etag"}}, "not a dandi-etag"),
        ({"digest": {"algorithm": "dandi:dandi-etag", "value": "0" * 32 + "-3"}}, "has 1 parts"),
        ({"dandiset": "999999"}, "does not exist"),
    ],
)
def test_bad_initialize_requests_name_the_problem(api, overrides, message):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    r = initialize(api, key, dandiset, b"some data", **overrides)
    assert 400 <= r.status_code < 500
    assert message in r.json()["detail"]
    assert api.get(f"/api/dandisets/{dandiset}/uploads/", key).json()["count"] == 0


def test_malformed_json_is_a_400(api):
    key = api.make_user()
    r = api.post(
        "/api/uploads/initialize/",
        key,
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    assert "JSON" in r.json()["detail"]


def _start(api, key, dandiset, data):
    init = initialize(api, key, dandiset, data).json()
    part = init["parts"][0]
    put = api.put(part["upload_url"], content=data)
    assert put.status_code == 200
    return init, {"part_number": 1, "size": len(data), "etag": put.headers["ETag"].strip('"')}


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([], "non-empty"),
        ([{"part_number": 2, "size": 9, "etag": "0" * 32}], "does not exist"),
        ([{"part_number": 1, "size": 3, "etag": "0" * 32}], "must be 9 bytes"),
        ([{"part_number": 1, "size": 9, "etag": "zz"}], "MD5"),
        (
            [
                {"part_number": 1, "size": 9, "etag": "0" * 32},
                {"part_number": 1, "size": 9, "etag": "0" * 32},
            ],
            "listed twice",
        ),
    ],
)
def test_completing_with_wrong_parts_is_refused(api, parts, message):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    init, _ = _start(api, key, dandiset, b"some data")
    r = api.post(f"/api/uploads/{init['upload_id']}/complete/", key, json={"parts": parts})
    assert r.status_code == 400
    assert message in r.json()["detail"]


def test_part_bytes_not_matching_md5_leave_no_blob(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    data = b"some data"
    init, good = _start(api, key, dandiset, data)
    wrong = {**good, "etag": hashlib.md5(b"other data").hexdigest()}
    completion = api.post(
        f"/api/uploads/{init['upload_id']}/complete/", key, json={"parts": [wrong]}
    ).json()
    r = api.post(completion["complete_url"], content=completion["body"])
    assert r.status_code == 400
    assert "InvalidPart" in r.text
    r = api.post(f"/api/uploads/{init['upload_id']}/validate/", key)
    assert r.status_code == 400
    assert blob_keys(api) == []


def test_announced_etag_not_matching_uploaded_bytes_is_refused(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    announced, sent = b"what I promised", b"what I uploaded"
    init = initialize(api, key, dandiset, announced).json()
    put = api.put(init["parts"][0]["upload_url"], content=sent)
    done = [{"part_number": 1, "size": len(sent), "etag": put.headers["ETag"].strip('"')}]
    completion = api.post(
        f"/api/uploads/{init['upload_id']}/complete/", key, json={"parts": done}
    ).json()
    api.post(completion["complete_url"], content=completion["body"])
    r = api.post(f"/api/uploads/{init['upload_id']}/validate/", key)
    assert r.status_code == 400
    assert blob_keys(api) == []
    r = api.post(
        "/api/blobs/digest/", json={"algorithm": "dandi:dandi-etag", "value": dandi_etag(announced)}
    )
    assert r.status_code == 404
    # The failed upload is gone; the same content can be uploaded properly afterwards.
    assert api.get(f"/api/dandisets/{dandiset}/uploads/", key).json()["count"] == 0
    assert api.upload(key, dandiset, announced)


def test_abandoned_upload_can_be_listed_cancelled_and_restarted(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    data = b"abandoned halfway"
    initialize(api, key, dandiset, data)
    uploads = api.get(f"/api/dandisets/{dandiset}/uploads/", key).json()
    assert uploads["count"] == 1
    # Upstream's row shape: the Upload model's fields but its ids, dandiset and embargo.
    (row,) = uploads["results"]
    assert set(row) == {"upload_id", "blob", "etag", "size", "created", "modified"}
    assert row["size"] == len(data) and row["modified"] == row["created"]
    assert api.get(f"/api/dandisets/{dandiset}", key).status_code in (200, 307)
    assert (
        api.get(f"/api/dandisets/{dandiset}/", key).json()["draft_version"]["active_uploads"] == 1
    )
    assert api.delete(f"/api/dandisets/{dandiset}/uploads/", key).status_code == 204
    assert api.get(f"/api/dandisets/{dandiset}/uploads/", key).json()["count"] == 0
    assert blob_keys(api) == []
    assert api.upload(key, dandiset, data)


def test_tampered_or_foreign_storage_urls_are_refused(api):
    if api.archive.settings.s3_bucket:
        pytest.skip("S3 itself checks its presigned URLs")
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    init = initialize(api, key, dandiset, b"data").json()
    url = init["parts"][0]["upload_url"]
    # One character inside the signature (the last one's low bits are padding, which a
    # base64 decoder may ignore, so changing it need not change the signature).
    changed = "A" if url[-6] != "A" else "B"
    assert api.put(url[:-6] + changed + url[-5:], content=b"data").status_code == 403
    assert api.put(url, content=b"dat").status_code == 400  # too short
    assert api.put(url, content=b"data!").status_code == 400  # too long
