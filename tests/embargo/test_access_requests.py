"""Access requests through the API: ask, see, accept or decline; bad requests refused."""

from __future__ import annotations

from sqlalchemy import select

from dandi_archive.db.models import EmbargoNotice, UserStatus

from ..helpers import ApiClient


def username(api: ApiClient, key: str) -> str:
    return api.get("/api/users/me/", key).json()["username"]


def setup(api: ApiClient) -> tuple[str, str, str]:
    owner = api.make_user("owner@example.org", name="Olga Owner")
    asker = api.make_user("asker@example.org", name="Ann Asker")
    d = api.create_dandiset(owner, "Under review", embargo="true")
    return owner, asker, d


def notices(api: ApiClient) -> list[tuple[str, int | None]]:
    with api.archive.db.session() as session:
        rows = session.scalars(select(EmbargoNotice).order_by(EmbargoNotice.id))
        return [(n.kind, n.details.get("request_id")) for n in rows]


def test_request_then_accept(api: ApiClient) -> None:
    owner, asker, d = setup(api)
    url = f"/api/dandisets/{d}/access-requests/"
    assert api.get(f"/api/dandisets/{d}/", asker).status_code == 403
    r = api.post(url, asker, json={"message": "I review this for Journal X."})
    assert r.status_code == 200, r.text
    request = r.json()
    assert request["status"] == "pending" and request["username"] == username(api, asker)
    assert request["message"] == "I review this for Journal X." and request["decided"] is None
    # Asking again while pending: the same request, unchanged, one notice.
    again = api.post(url, asker, json={"message": "Please?"}).json()
    assert again == request
    assert api.post(url, asker).json()["id"] == request["id"]  # no body at all
    assert notices(api) == [("access_requested", request["id"])]

    listed = api.get(url, owner).json()
    assert [x["id"] for x in listed] == [request["id"]]
    # Only owners see and answer requests; the asker still reads nothing.
    assert api.get(url, asker).status_code == 403
    accept = f"{url}{request['id']}/accept/"
    assert api.post(accept, asker).status_code == 403
    assert api.post(accept).status_code == 401
    assert api.get(f"/api/dandisets/{d}/", asker).status_code == 403

    r = api.post(accept, owner)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["decided"]
    assert api.get(f"/api/dandisets/{d}/", asker).status_code == 200
    readers = api.get(f"/api/dandisets/{d}/readers/", owner).json()
    assert readers == [{"username": username(api, asker), "name": "Ann Asker"}]
    assert api.get(url, owner).json() == []  # nothing pending
    assert [x["status"] for x in api.get(url, owner, params={"status": "accepted"}).json()] == [
        "accepted"
    ]
    assert api.post(accept, owner).status_code == 400  # already answered
    # Asking again now that it can read: there is nothing to ask for.
    r = api.post(url, asker)
    assert r.status_code == 400 and "already read" in r.json()["detail"]
    assert notices(api)[-1] == ("access_accepted", request["id"])
    kinds = [
        e["record_type"] for e in api.get(f"/api/dandisets/{d}/audit/", owner).json()["results"]
    ]
    assert {"request_access", "accept_access_request", "grant_read_access"} <= set(kinds)


def test_request_then_decline_and_ask_again(api: ApiClient) -> None:
    owner, asker, d = setup(api)
    url = f"/api/dandisets/{d}/access-requests/"
    first = api.post(url, asker, json={"message": "hello"}).json()
    r = api.post(f"{url}{first['id']}/decline/", owner)
    assert r.status_code == 200 and r.json()["status"] == "declined"
    assert api.get(f"/api/dandisets/{d}/", asker).status_code == 403
    assert api.get(f"/api/dandisets/{d}/readers/", owner).json() == []
    # After a decline, asking again re-opens the request (with the new message).
    again = api.post(url, asker, json={"message": "second try"}).json()
    assert again["id"] == first["id"] and again["status"] == "pending"
    assert again["message"] == "second try"
    assert [k for k, _ in notices(api)] == [
        "access_requested",
        "access_declined",
        "access_requested",
    ]
    kinds = [
        e["record_type"] for e in api.get(f"/api/dandisets/{d}/audit/", owner).json()["results"]
    ]
    assert kinds.count("request_access") == 2 and kinds.count("decline_access_request") == 1


def test_granting_answers_a_pending_request(api: ApiClient) -> None:
    owner, asker, d = setup(api)
    url = f"/api/dandisets/{d}/access-requests/"
    request = api.post(url, asker).json()
    r = api.put(f"/api/dandisets/{d}/readers/", owner, json=[{"username": username(api, asker)}])
    assert r.status_code == 200
    answered = api.get(url, owner, params={"status": "accepted"}).json()
    assert [x["id"] for x in answered] == [request["id"]]


def test_bad_requests(api: ApiClient) -> None:
    owner, asker, d = setup(api)
    url = f"/api/dandisets/{d}/access-requests/"
    open_d = api.create_dandiset(owner, "Open one")
    r = api.post(f"/api/dandisets/{open_d}/access-requests/", asker)
    assert r.status_code == 400 and "not embargoed" in r.json()["detail"]
    assert api.post(url).status_code == 401
    pending = api.make_user("pending@example.org", status=UserStatus.PENDING)
    assert api.post(url, pending).status_code == 403
    r = api.post(url, owner)  # owners read it already
    assert r.status_code == 400 and "already read" in r.json()["detail"]
    r = api.post(url, asker, json={"message": "x" * 2001})
    assert r.status_code in (400, 422) and "2000" in r.text
    assert api.post("/api/dandisets/999999/access-requests/", asker).status_code == 404
    assert api.post(f"{url}12345/accept/", owner).status_code == 404
    assert api.get(url, owner, params={"status": "maybe"}).status_code == 400
    # A request of another Dandiset is not answered through this one.
    other = api.create_dandiset(owner, "Another", embargo="true")
    theirs = api.post(f"/api/dandisets/{other}/access-requests/", asker).json()
    assert api.post(f"{url}{theirs['id']}/accept/", owner).status_code == 404
    # A reader of the Dandiset is no owner: it may not answer requests.
    reader = api.make_user("reader@example.org", name="Rea Der")
    api.put(f"/api/dandisets/{d}/readers/", owner, json=[{"username": username(api, reader)}])
    mine = api.post(url, asker).json()
    assert api.post(f"{url}{mine['id']}/accept/", reader).status_code == 403
    assert api.post(f"{url}{mine['id']}/decline/", reader).status_code == 403
    assert api.get(url, reader).status_code == 403
    assert api.get(url, owner).json()[0]["status"] == "pending"
    assert notices(api).count(("access_requested", mine["id"])) == 1
