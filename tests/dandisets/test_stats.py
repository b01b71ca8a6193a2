"""``GET /api/stats/``: upstream's archive-wide figures."""

from dandi_archive.db.models import UserStatus

from ..helpers import publish, valid_dandiset

EMPTY = {"dandiset_count": 0, "published_dandiset_count": 0, "user_count": 0, "size": 0}


def stats(api):
    r = api.get("/api/stats/")
    assert r.status_code == 200, r.text
    return r.json()


def test_baseline(api):
    assert stats(api) == EMPTY


def test_counts_approved_users_only(api):
    api.make_user("a@example.org")
    api.make_user("b@example.org")
    for i, status in enumerate(
        (UserStatus.PENDING, UserStatus.REJECTED, UserStatus.INCOMPLETE, UserStatus.PENDING)
    ):
        api.make_user(f"other{i}@example.org", status=status)
    assert stats(api)["user_count"] == 2


def test_dandisets_embargoed_included_and_distinct_bytes(api):
    key = api.make_user()
    first = api.create_dandiset(key)
    embargoed = api.create_dandiset(key, embargo="true")
    api.add_asset(key, first, "a.bin", b"12345")
    api.add_asset(key, first, "copy.bin", b"12345")  # the same blob: counted once
    api.add_asset(key, embargoed, "e.bin", b"1234567")
    assert stats(api) == {
        "dandiset_count": 2,
        "published_dandiset_count": 0,
        "user_count": 1,
        "size": 12,
    }


def test_removed_assets_leave_the_size(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    asset = api.add_asset(key, dandiset, "a.bin", b"12345")
    assert stats(api)["size"] == 5
    r = api.delete(f"/api/dandisets/{dandiset}/versions/draft/assets/{asset['asset_id']}/", key)
    assert r.status_code == 204
    assert stats(api)["size"] == 0


def test_published_and_zarr_counted_once(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key)  # "alpha" + "beta": 9 bytes
    zarr_id = api.create_zarr(key, dandiset)
    api.put_zarr_files(key, zarr_id, {"0/0": b"chunk", ".zattrs": b"{}"})
    api.finalize_zarr(key, zarr_id)
    r = api.post(
        f"/api/dandisets/{dandiset}/versions/draft/assets/",
        key,
        json={"metadata": {"path": "sample.zarr"}, "zarr_id": zarr_id},
    )
    assert r.status_code == 200, r.text
    api.create_dandiset(key)
    assert stats(api)["size"] == 9 + 7
    api.wait_for_jobs()
    publish(api, key, dandiset)
    # The published version shares the blobs and holds a frozen copy of the Zarr:
    # each counted once, as upstream counts a Zarr its versions share.
    assert stats(api) == {
        "dandiset_count": 2,
        "published_dandiset_count": 1,
        "user_count": 1,
        "size": 16,
    }


def test_stats_needs_no_key_and_ignores_query(api):
    assert api.get("/api/stats/", params={"x": "1"}).status_code == 200
