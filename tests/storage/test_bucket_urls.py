"""Object URLs name their bucket, S3 path-style, on both stores: ``…/{bucket}/{key}``.

The folder store serves its objects at ``{archive}/{folder_bucket_name}/{key}`` (the
dandi client's tests look for the bucket name in upload URLs), and still at the older
``{archive}/bucket/{key}``, which published metadata may hold.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from pydantic import ValidationError

from dandi_archive.config import Settings

from ..helpers import md5_base64


def bucket_of(api) -> str:
    settings = api.archive.settings
    return settings.s3_bucket or settings.folder_bucket_name


def zarr_upload_url(api, owner, zarr_id: str, path: str, data: bytes) -> str:
    body = [{"path": path, "base64md5": md5_base64(data)}]
    r = api.post(f"/api/zarr/{zarr_id}/files/", owner, json=body)
    assert r.status_code == 200, r.text
    return r.json()[0]


def test_handed_out_urls_name_the_bucket(api, owner, dandiset):
    bucket = bucket_of(api)
    zarr_id = api.create_zarr(owner, dandiset)
    url = zarr_upload_url(api, owner, zarr_id, "arr/0", b"chunk")
    assert urlparse(url).path == f"/{bucket}/zarr/{zarr_id}/arr/0"
    assert api.put(url, content=b"chunk", headers={"Content-MD5": md5_base64(b"chunk")}).is_success
    asset = api.add_asset(owner, dandiset, "sub-1/a.nwb", b"nwb bytes")
    r = api.get(f"/api/assets/{asset['asset_id']}/download/", follow_redirects=False)
    assert urlparse(r.headers["location"]).path.startswith(f"/{bucket}/blobs/")
    content_urls = api.get(f"/api/assets/{asset['asset_id']}/").json()["contentUrl"]
    assert any(urlparse(u).path.startswith(f"/{bucket}/blobs/") for u in content_urls)


def test_folder_store_serves_both_spellings(make_api, backend):
    if backend != "embedded":
        pytest.skip("the folder store's own routes exist on the embedded backend only")
    api = make_api()
    owner = api.make_user()
    dandiset = api.create_dandiset(owner)
    zarr_id = api.create_zarr(owner, dandiset)
    api.put_zarr_files(owner, zarr_id, {"a/b": b"bytes of b"})
    key = f"zarr/{zarr_id}/a/b"
    store = api.archive.store
    for address in (f"/dandi-dandisets/{key}", f"/bucket/{key}"):
        assert api.get(address).content == b"bytes of b"
        assert api.request("HEAD", address, None).status_code == 200
        assert store.key_for_url(f"http://testserver{address}?token=x") == key
    assert store.key_for_url(f"http://testserver/other/{key}") is None
    # An upload URL rewritten to the old spelling still works: same routes, same rules.
    old = zarr_upload_url(api, owner, zarr_id, "a/c", b"c").replace("/dandi-dandisets/", "/bucket/")
    assert api.put(old, content=b"c", headers={"Content-MD5": md5_base64(b"c")}).is_success
    assert api.get(f"/dandi-dandisets/zarr/{zarr_id}/a/c").content == b"c"
    missing = api.get(f"/dandi-dandisets/zarr/{zarr_id}/nope")
    assert missing.status_code == 404
    assert "<Code>NoSuchKey</Code>" in missing.text


def test_the_bucket_name_is_a_setting(make_api, backend):
    if backend != "embedded":
        pytest.skip("on S3 the URLs name DANDI_ARCHIVE_S3_BUCKET")
    api = make_api(folder_bucket_name="lab.archive-1")
    owner = api.make_user()
    zarr_id = api.create_zarr(owner, api.create_dandiset(owner))
    url = zarr_upload_url(api, owner, zarr_id, "x", b"x")
    assert urlparse(url).path == f"/lab.archive-1/zarr/{zarr_id}/x"
    assert api.put(url, content=b"x", headers={"Content-MD5": md5_base64(b"x")}).is_success
    assert api.get(f"/lab.archive-1/zarr/{zarr_id}/x").content == b"x"
    # Not a bucket: the default name is an ordinary (missing) page now.
    assert api.get(f"/dandi-dandisets/zarr/{zarr_id}/x").status_code == 404


def test_file_bytes_to_bucket_urls_are_not_capped_like_api_bodies(make_api, backend):
    if backend != "embedded":
        pytest.skip("S3 receives the bytes itself")
    api = make_api(max_request_body_bytes=1024)
    owner = api.make_user()
    zarr_id = api.create_zarr(owner, api.create_dandiset(owner))
    big = b"z" * 4096
    url = zarr_upload_url(api, owner, zarr_id, "big", big)
    assert api.put(url, content=big, headers={"Content-MD5": md5_base64(big)}).is_success
    # Errors there are S3's XML, not a web page.
    r = api.post(f"/dandi-dandisets/zarr/{zarr_id}/big", None)
    assert r.status_code == 405
    assert "<html" not in r.text.lower()


@pytest.mark.parametrize(
    "name", ["Dandi", "ab", "a" * 64, "-bucket", "bucket-", "a..b", "with space", "x/y", "a_b"]
)
def test_bucket_names_follow_s3s_rules(name):
    with pytest.raises(ValidationError, match="folder_bucket_name"):
        Settings(folder_bucket_name=name)


@pytest.mark.parametrize("name", ["api", "dandiset", "static"])
def test_a_bucket_name_taken_by_the_archive_is_refused_at_start(make_api, backend, name):
    if backend != "embedded":
        pytest.skip("only the folder store serves its bucket")
    with pytest.raises(ValueError, match="DANDI_ARCHIVE_FOLDER_BUCKET_NAME"):
        make_api(folder_bucket_name=name)
