"""Audit history: each change recorded once with its change, nothing for refused ones,
newest first, filtered by kind, actors without addresses, embargoed histories hidden."""

from __future__ import annotations

from collections import Counter

from ..helpers import DANDISET_METADATA, publish, valid_dandiset


def history(api, dandiset: str, token: str | None = None, **params) -> list[dict]:
    r = api.get(f"/api/dandisets/{dandiset}/audit/", token, params=params)
    assert r.status_code == 200, r.text
    return r.json()["results"]


def kinds(api, dandiset: str, token: str | None = None) -> Counter:
    return Counter(e["record_type"] for e in history(api, dandiset, token))


def test_dandiset_metadata_owner_and_asset_changes_each_recorded_once(api, owner):
    dandiset = api.create_dandiset(owner)
    api.make_user("second@example.org", name="Sam Second")
    second = api.get("/api/users/search/", owner, params={"username": "second"}).json()[0]
    me = api.get("/api/users/me/", owner).json()
    r = api.put(
        f"/api/dandisets/{dandiset}/users/",
        owner,
        json=[{"username": me["username"]}, {"username": second["username"]}],
    )
    assert r.status_code == 200, r.text
    metadata = {**DANDISET_METADATA, "description": "A new description"}
    r = api.put(
        f"/api/dandisets/{dandiset}/versions/draft/",
        owner,
        json={"name": "Renamed", "metadata": metadata},
    )
    assert r.status_code == 200, r.text
    asset = api.add_asset(owner, dandiset, "a.txt", b"alpha")
    blob = api.upload(owner, dandiset, b"beta")
    r = api.put(
        f"/api/dandisets/{dandiset}/versions/draft/assets/{asset['asset_id']}/",
        owner,
        json={"metadata": {"path": "a.txt"}, "blob_id": blob},
    )
    assert r.status_code == 200, r.text
    new_id = r.json()["asset_id"]
    r = api.delete(f"/api/dandisets/{dandiset}/versions/draft/assets/{new_id}/", owner)
    assert r.status_code == 204, r.text

    assert kinds(api, dandiset) == Counter(
        create_dandiset=1,
        change_owners=1,
        update_metadata=1,
        add_asset=1,
        update_asset=1,
        remove_asset=1,
    )
    events = {e["record_type"]: e for e in history(api, dandiset)}
    assert events["change_owners"]["details"] == {
        "removed_owners": [],
        "added_owners": [{"username": second["username"], "name": "Sam Second"}],
    }
    diff = events["update_metadata"]["details"]["diff"]
    assert diff["changed"]["description"]["new"] == "A new description"
    assert "name" in diff["changed"]
    assert events["update_asset"]["details"]["asset_id"] == new_id
    assert events["update_asset"]["details"]["path"] == "a.txt"
    assert events["update_asset"]["details"]["size"] == 4
    assert events["remove_asset"]["details"] == {"path": "a.txt", "asset_id": new_id}
    assert events["add_asset"]["user"] == {"username": me["username"], "name": "Jane Doe"}


def test_unchanged_metadata_records_nothing(api, owner, dandiset):
    current = api.get(f"/api/dandisets/{dandiset}/versions/draft/").json()
    r = api.put(
        f"/api/dandisets/{dandiset}/versions/draft/",
        owner,
        json={"name": current["name"], "metadata": current},
    )
    assert r.status_code == 200, r.text
    assert kinds(api, dandiset) == Counter(create_dandiset=1)


def test_refused_changes_record_nothing(api, owner, dandiset):
    stranger = api.make_user("stranger@example.org")
    asset = api.add_asset(owner, dandiset, "a.txt", b"alpha")
    before = history(api, dandiset)
    url = f"/api/dandisets/{dandiset}/versions/draft/"
    assert api.put(url, stranger, json={"name": "x", "metadata": {}}).status_code == 403
    assert api.put(url, owner, json={"name": "x", "metadata": []}).status_code == 400
    r = api.put(f"/api/dandisets/{dandiset}/users/", owner, json=[{"username": "nobody-here"}])
    assert r.status_code == 400
    r = api.delete(url + f"assets/{asset['asset_id']}/", stranger)
    assert r.status_code == 403
    r = api.post(url + "assets/", owner, json={"metadata": {"path": "b.txt"}, "blob_id": "x"})
    assert r.status_code == 400
    assert api.delete(f"/api/dandisets/{dandiset}/", stranger).status_code == 403
    zarr = {"name": "z.zarr", "dandiset": dandiset}
    assert api.post("/api/zarr/", stranger, json=zarr).status_code == 403
    assert history(api, dandiset) == before


def test_zarr_publish_and_delete_are_recorded(api, owner):
    dandiset = valid_dandiset(api, owner)
    version = publish(api, owner, dandiset)
    events = history(api, dandiset)
    assert events[0]["record_type"] == "publish_dandiset"
    assert events[0]["details"] == {"version": version}
    assert events[0]["user"]["name"] == "Jane Doe"

    other = api.create_dandiset(owner, name="With a Zarr")
    zarr_id = api.create_zarr(owner, other)
    api.put_zarr_files(owner, zarr_id, {"a/0": b"zero", "a/1": b"one"})
    api.finalize_zarr(owner, zarr_id)
    r = api.delete(f"/api/zarr/{zarr_id}/files/", owner, json=[{"path": "a/1"}])
    assert r.status_code == 204, r.text
    assert kinds(api, other) == Counter(
        create_dandiset=1,
        create_zarr=1,
        upload_zarr_chunks=1,
        finalize_zarr=1,
        delete_zarr_chunks=1,
    )
    upload = next(e for e in history(api, other) if e["record_type"] == "upload_zarr_chunks")
    assert upload["details"] == {"zarr_id": zarr_id, "paths": ["a/0", "a/1"], "path_count": 2}

    assert api.delete(f"/api/dandisets/{other}/", owner).status_code == 204
    admin = api.make_user("admin@example.org", admin=True)
    assert api.get(f"/api/dandisets/{other}/audit/").status_code == 404
    assert history(api, other, admin)[0]["record_type"] == "delete_dandiset"


def test_newest_first_paginated_and_filtered(api, owner, dandiset):
    for n in range(3):
        api.add_asset(owner, dandiset, f"f{n}.txt", f"data {n}".encode())
    events = history(api, dandiset)
    assert [e["record_type"] for e in events] == ["add_asset"] * 3 + ["create_dandiset"]
    assert [e["details"]["path"] for e in events[:3]] == ["f2.txt", "f1.txt", "f0.txt"]
    ids = [e["id"] for e in events]
    assert ids == sorted(ids, reverse=True)
    page = api.get(f"/api/dandisets/{dandiset}/audit/", params={"page_size": 2}).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    assert api.get(page["next"]).json()["results"][0]["id"] == ids[2]
    only = history(api, dandiset, kind="create_dandiset")
    assert [e["record_type"] for e in only] == ["create_dandiset"]
    for bad in ({"kind": "no_such_kind"}, {"page": "x"}):
        r = api.get(f"/api/dandisets/{dandiset}/audit/", params=bad)
        assert r.status_code == 400 and r.json()["detail"], r.text
    assert api.get("/api/dandisets/999999/audit/").status_code == 404


def test_no_addresses_for_the_public(api, owner):
    metadata = {
        **DANDISET_METADATA,
        "contributor": [
            {
                "schemaKey": "Person",
                "name": "Doe, Jane",
                "email": "contact-person@example.org",
                "roleName": ["dcite:ContactPerson"],
            }
        ],
    }
    dandiset = api.create_dandiset(owner)
    r = api.put(
        f"/api/dandisets/{dandiset}/versions/draft/",
        owner,
        json={"name": "Test Dandiset", "metadata": metadata},
    )
    assert r.status_code == 200, r.text
    r = api.get(f"/api/dandisets/{dandiset}/audit/")
    assert r.status_code == 200
    assert "@" not in r.text
    assert {e["user"]["name"] for e in r.json()["results"]} == {"Jane Doe"}


def test_embargoed_history_only_for_readers(api, owner):
    dandiset = api.create_dandiset(owner, embargo="true")
    stranger = api.make_user("stranger@example.org")
    admin = api.make_user("admin@example.org", admin=True)
    assert api.get(f"/api/dandisets/{dandiset}/audit/").status_code == 401
    assert api.get(f"/api/dandisets/{dandiset}/audit/", stranger).status_code == 403
    created = history(api, dandiset, owner)[0]
    assert created["details"]["embargoed"] is True
    assert history(api, dandiset, admin) == [created]


def test_unembargo_is_recorded_once_with_who_asked(api, owner):
    dandiset = api.create_dandiset(owner, embargo="true")
    r = api.post(f"/api/dandisets/{dandiset}/unembargo/", owner)
    assert r.status_code in (200, 204), r.text
    api.wait_for_jobs()
    events = history(api, dandiset)
    assert events[0]["record_type"] == "unembargo_dandiset"
    assert events[0]["user"]["name"] == "Jane Doe"
    assert kinds(api, dandiset)["unembargo_dandiset"] == 1
