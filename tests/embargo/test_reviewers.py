"""Readers of an embargoed Dandiset: they read everything (metadata, listings, bytes,
Zarrs, bucket URLs handed out) and change nothing; revoking ends it, and after the
embargo is lifted the Dandiset is public anyway. Both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dandi_archive.db.models import AuditEvent, DandisetReader, UserStatus

from ..helpers import ApiClient, md5_base64

SECRET = b"reviewer-only bytes " * 30
CHUNK = b"reviewer-only chunk"


def username(api: ApiClient, key: str) -> str:
    return api.get("/api/users/me/", key).json()["username"]


def embargoed_world(api: ApiClient) -> dict[str, Any]:
    """An embargoed Dandiset with a file and a Zarr, its owner and a reviewer."""
    owner = api.make_user("owner@example.org", name="Olga Owner")
    reviewer = api.make_user("reviewer@example.org", name="Rita Reviewer")
    d = api.create_dandiset(owner, "Under review", embargo="true")
    asset = api.add_asset(owner, d, "sub-1/data.bin", SECRET)
    z = api.create_zarr(owner, d, "image.zarr")
    api.put_zarr_files(owner, z, {"0/0": CHUNK})
    api.finalize_zarr(owner, z)
    r = api.post(
        f"/api/dandisets/{d}/versions/draft/assets/",
        owner,
        json={"metadata": {"path": "image.zarr"}, "zarr_id": z},
    )
    assert r.status_code == 200, r.text
    api.wait_for_jobs()
    return {"owner": owner, "reviewer": reviewer, "d": d, "asset": asset["asset_id"], "z": z}


def grant(api: ApiClient, w: dict[str, Any], *keys: str) -> list[dict]:
    body = [{"username": username(api, k)} for k in keys]
    r = api.put(f"/api/dandisets/{w['d']}/readers/", w["owner"], json=body)
    assert r.status_code == 200, r.text
    return r.json()


def reads(api: ApiClient, w: dict[str, Any], key: str | None) -> dict[str, int]:
    """The status of each way of reading the Dandiset (downloads followed to the bytes)."""
    d, a, z = w["d"], w["asset"], w["z"]
    v = f"/api/dandisets/{d}/versions/draft"
    urls = {
        "dandiset": f"/api/dandisets/{d}/",
        "metadata": f"{v}/",
        "info": f"{v}/info/",
        "assets": f"{v}/assets/",
        "paths": f"{v}/assets/paths/",
        "asset": f"{v}/assets/{a}/",
        "asset_by_id": f"/api/assets/{a}/",
        "owners": f"/api/dandisets/{d}/users/",
        "history": f"/api/dandisets/{d}/audit/",
        "zarr": f"/api/zarr/{z}/",
        "zarr_files": f"/api/zarr/{z}/files/",
        "atpath": f"/api/webdav/assets/atpath/?dandiset_id={d}&version_id=draft",
    }
    got = {name: api.get(url, key).status_code for name, url in urls.items()}
    download = api.get(f"{v}/assets/{a}/download/", key, follow_redirects=False)
    got["download"] = download.status_code
    if download.status_code == 302:  # the signed bucket URL serves the bytes
        body = api.get(download.headers["Location"])
        got["download"] = body.status_code if body.content == SECRET else 500
    chunk = api.get(
        f"/api/zarr/{z}/files/",
        key,
        params={"prefix": "0/0", "download": "true"},
        follow_redirects=False,
    )
    got["zarr_chunk"] = chunk.status_code
    if chunk.status_code == 302:
        body = api.get(chunk.headers["Location"])
        got["zarr_chunk"] = body.status_code if body.content == CHUNK else 500
    return got


def changes(api: ApiClient, w: dict[str, Any], key: str) -> dict[str, int]:
    """The status of each way of changing the Dandiset, by ``key``."""
    d, a, z = w["d"], w["asset"], w["z"]
    v = f"/api/dandisets/{d}/versions/draft"
    me = [{"username": username(api, key)}]
    data = b"a reviewer's upload"
    digest = {"algorithm": "dandi:dandi-etag", "value": "0" * 32 + "-1"}
    calls = {
        "metadata": ("PUT", f"{v}/", {"json": {"name": "Hijacked", "metadata": {}}}),
        "owners": ("PUT", f"/api/dandisets/{d}/users/", {"json": me}),
        "readers": ("PUT", f"/api/dandisets/{d}/readers/", {"json": me}),
        "readers_list": ("GET", f"/api/dandisets/{d}/readers/", {}),
        "requests_list": ("GET", f"/api/dandisets/{d}/access-requests/", {}),
        "asset_put": ("PUT", f"{v}/assets/{a}/", {"json": {"metadata": {"path": "x.bin"}}}),
        "asset_delete": ("DELETE", f"{v}/assets/{a}/", {}),
        "asset_add": ("POST", f"{v}/assets/", {"json": {"metadata": {"path": "y.bin"}}}),
        "upload": (
            "POST",
            "/api/uploads/initialize/",
            {"json": {"contentSize": len(data), "digest": digest, "dandiset": d}},
        ),
        "zarr_create": ("POST", "/api/zarr/", {"json": {"name": "new.zarr", "dandiset": d}}),
        "zarr_upload": (
            "POST",
            f"/api/zarr/{z}/files/",
            {"json": [{"path": "1/0", "base64md5": md5_base64(b"x")}]},
        ),
        "zarr_delete": ("DELETE", f"/api/zarr/{z}/files/", {"json": [{"path": "0/0"}]}),
        "zarr_finalize": ("POST", f"/api/zarr/{z}/finalize/", {}),
        "publish": ("POST", f"{v}/publish/", {}),
        "unembargo": ("POST", f"/api/dandisets/{d}/unembargo/", {}),
        "uploads": ("GET", f"/api/dandisets/{d}/uploads/", {}),
        "delete": ("DELETE", f"/api/dandisets/{d}/", {}),
    }
    return {
        name: api.request(method, url, key, **kwargs).status_code
        for name, (method, url, kwargs) in calls.items()
    }


def test_reviewer_reads_everything_and_changes_nothing(api: ApiClient) -> None:
    w = embargoed_world(api)
    stranger = api.make_user("stranger@example.org", name="Stan Stranger")
    assert all(s in (403, 404) for s in reads(api, w, w["reviewer"]).values())

    assert grant(api, w, w["reviewer"]) == [
        {"username": username(api, w["reviewer"]), "name": "Rita Reviewer"}
    ]
    granted = reads(api, w, w["reviewer"])
    assert not {k: s for k, s in granted.items() if s != 200}
    # Listings: the reviewer finds it among embargoed Dandisets and Zarrs; strangers do not.
    listed = api.get("/api/dandisets/", w["reviewer"], params={"embargoed": "true"}).json()
    assert w["d"] in [x["identifier"] for x in listed["results"]]
    hidden = api.get("/api/dandisets/", stranger, params={"embargoed": "true"}).json()
    assert w["d"] not in [x["identifier"] for x in hidden["results"]]
    zarrs = api.get("/api/zarr/", w["reviewer"], params={"dandiset": w["d"]}).json()
    assert [x["zarr_id"] for x in zarrs["results"]] == [w["z"]]
    # The owners' e-mail addresses stay the owners' business.
    assert all(
        o["email"] is None for o in api.get(f"/api/dandisets/{w['d']}/users/", w["reviewer"]).json()
    )

    assert api.get(f"/api/dandisets/{w['d']}/versions/draft/", w["owner"]).status_code == 200
    snapshot = api.get(f"/api/dandisets/{w['d']}/versions/draft/assets/", w["owner"]).json()
    refused = changes(api, w, w["reviewer"])
    assert all(s == 403 for s in refused.values()), refused
    assert api.get(f"/api/dandisets/{w['d']}/versions/draft/assets/", w["owner"]).json() == snapshot
    assert api.get(f"/api/dandisets/{w['d']}/", w["owner"]).json()["draft_version"]["name"] == (
        "Under review"
    )
    # A stranger still reads nothing.
    assert all(s in (403, 404) for s in reads(api, w, stranger).values())


def test_revoking_ends_access(api: ApiClient) -> None:
    w = embargoed_world(api)
    other = api.make_user("other@example.org", name="Otto Other")
    grant(api, w, w["reviewer"], other)
    assert reads(api, w, w["reviewer"])["download"] == 200
    kept = grant(api, w, other)  # the reviewer is revoked, the other reader kept
    assert [r["name"] for r in kept] == ["Otto Other"]
    after = reads(api, w, w["reviewer"])
    assert all(s in (403, 404) for s in after.values()), after
    assert reads(api, w, other)["zarr_chunk"] == 200
    assert grant(api, w) == []  # an empty list revokes everyone
    assert all(s in (403, 404) for s in reads(api, w, other).values())
    kinds = [
        e["record_type"]
        for e in api.get(f"/api/dandisets/{w['d']}/audit/", w["owner"]).json()["results"]
    ]
    assert kinds.count("grant_read_access") == 1 and kinds.count("revoke_read_access") == 2


def test_access_ends_with_approval(api: ApiClient) -> None:
    """A reader whose account is no longer approved reads nothing (as owners)."""
    from dandi_archive.accounts import users

    w = embargoed_world(api)
    grant(api, w, w["reviewer"])
    with api.archive.db.session(write=True) as session:
        users.get_user_by_email(session, "reviewer@example.org").status = UserStatus.PENDING
    assert all(s in (403, 404) for s in reads(api, w, w["reviewer"]).values())


def test_after_unembargo_the_dandiset_is_public(api: ApiClient) -> None:
    w = embargoed_world(api)
    grant(api, w, w["reviewer"])
    api.make_bucket_public()
    assert api.post(f"/api/dandisets/{w['d']}/unembargo/", w["owner"]).status_code == 200
    api.wait_for_jobs()
    everyone = reads(api, w, None)
    assert all(s == 200 for s in everyone.values() if s != 401), everyone
    assert everyone["download"] == 200 and everyone["zarr_chunk"] == 200
    assert all(s == 200 for s in reads(api, w, w["reviewer"]).values())
    with api.archive.db.session() as session:
        assert not session.scalars(select(DandisetReader)).all()  # dropped with the embargo
    # An open Dandiset has no readers to choose: everyone reads it.
    r = api.put(f"/api/dandisets/{w['d']}/readers/", w["owner"], json=[])
    assert r.status_code == 400 and "not embargoed" in r.json()["detail"]
    assert api.get(f"/api/dandisets/{w['d']}/readers/", w["owner"]).json() == []


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("nobody-such", "No such user: nobody-such"),
        ("pending", "Only approved accounts"),
        ("rejected", "Only approved accounts"),
        ("admin", "Only approved accounts"),
        ("owner", "Already owners"),
    ],
)
def test_bad_grants_are_refused_naming_them(api: ApiClient, who: str, expected: str) -> None:
    owner = api.make_user("owner@example.org", name="Olga Owner")
    d = api.create_dandiset(owner, "Under review", embargo="true")
    statuses = {"pending": UserStatus.PENDING, "rejected": UserStatus.REJECTED}
    if who == "owner":
        name = username(api, owner)
    elif who == "nobody-such":
        name = who
    else:
        key = api.make_user(
            f"{who}@example.org",
            name=f"{who.title()} Person",
            admin=who == "admin",
            status=statuses.get(who, UserStatus.APPROVED),
        )
        with api.archive.db.session() as session:
            from dandi_archive.accounts import users

            name = users.get_user_by_email(session, f"{who}@example.org").username
        assert key
    good = api.make_user("good@example.org", name="Good Reader")
    body = [{"username": username(api, good)}, {"username": name}]
    r = api.put(f"/api/dandisets/{d}/readers/", owner, json=body)
    assert r.status_code == 400, r.text
    assert expected in r.json()["detail"] and name in r.json()["detail"]
    assert api.get(f"/api/dandisets/{d}/readers/", owner).json() == []  # nothing half-done
    for bad in ({"username": 3}, "x", {"name": "y"}):
        r = api.put(f"/api/dandisets/{d}/readers/", owner, json=[bad])
        assert r.status_code in (400, 422), r.text


def test_access_events_are_for_owners(api: ApiClient) -> None:
    """Readers (anonymous reviewers, say) do not see each other in the history."""
    w = embargoed_world(api)
    grant(api, w, w["reviewer"])
    url = f"/api/dandisets/{w['d']}/audit/"
    owner_kinds = {e["record_type"] for e in api.get(url, w["owner"]).json()["results"]}
    reviewer_kinds = {e["record_type"] for e in api.get(url, w["reviewer"]).json()["results"]}
    assert "grant_read_access" in owner_kinds
    assert "grant_read_access" not in reviewer_kinds and "create_dandiset" in reviewer_kinds
    with api.archive.db.session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "grant_read_access"))
        assert event is not None
        assert event.details == {
            "readers": [{"username": username(api, w["reviewer"]), "name": "Rita Reviewer"}]
        }
