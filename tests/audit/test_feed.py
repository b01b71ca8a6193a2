"""``/api/audit/events/asset``: administrators' cursor-paginated feed of asset events."""

from __future__ import annotations


def feed(api, token, **params) -> dict:
    r = api.get("/api/audit/events/asset", token, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_asset_events_only_for_admins_in_time_order(api, owner, dandiset):
    admin = api.make_user("admin@example.org", admin=True)
    for n in range(5):
        api.add_asset(owner, dandiset, f"f{n}.txt", f"data {n}".encode())
    assert api.get("/api/audit/events/asset").status_code == 401
    assert api.get("/api/audit/events/asset", owner).status_code == 403

    page = feed(api, admin)
    assert [e["details"]["path"] for e in page["results"]] == [f"f{n}.txt" for n in range(5)]
    assert set(page["results"][0]) == {"id", "dandiset_id", "timestamp", "record_type", "details"}
    assert page["results"][0]["dandiset_id"] == int(dandiset)
    assert page["next"] is None and page["previous"] is None

    newest = feed(api, admin, reverse_order="true")["results"]
    assert [e["details"]["path"] for e in newest] == [f"f{n}.txt" for n in reversed(range(5))]

    first = feed(api, admin, page_size=2)
    second = api.get(first["next"], admin).json()
    assert [e["details"]["path"] for e in second["results"]] == ["f2.txt", "f3.txt"]
    back = api.get(second["previous"], admin).json()
    assert back["results"] == first["results"]
    third = api.get(second["next"], admin).json()
    assert [e["details"]["path"] for e in third["results"]] == ["f4.txt"]
    assert third["next"] is None

    middle = page["results"][2]["timestamp"]
    since = [e["details"]["path"] for e in feed(api, admin, after=middle)["results"]]
    until = [e["details"]["path"] for e in feed(api, admin, before=middle)["results"]]
    assert since[0] == "f2.txt" and until[-1] == "f2.txt"
    for bad in ({"before": "yesterday"}, {"reverse_order": "maybe"}, {"cursor": "%%%"}):
        r = api.get("/api/audit/events/asset", admin, params=bad)
        assert r.status_code == 400 and r.json()["detail"], r.text
