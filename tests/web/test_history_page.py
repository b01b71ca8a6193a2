"""A Dandiset's History page: each change, who made it, newest first, filterable; hidden
with the Dandiset when it is embargoed; access changes for owners only."""

from __future__ import annotations

import re

from .helpers import Browser, make_account


def rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in body.split("<tr>")[1:]]


def test_history_lists_changes_newest_first_and_filters(api):
    key = make_account(api, "owner@example.org", name="Olga Owner")
    d = api.create_dandiset(key, "Histories")
    api.add_asset(key, d, "sub-1/a.txt", b"alpha")
    api.add_asset(key, d, "sub-2/b.txt", b"beta")
    page = Browser(api).get(f"/dandiset/{d}/history")
    assert page.status_code == 200
    found = rows(page.text)
    assert len(found) == 3
    assert "Olga Owner added a file sub-2/b.txt" in found[0]
    assert "Olga Owner created the Dandiset Histories" in found[-1]
    assert f'href="/dandiset/{d}/history"' in Browser(api).get(f"/dandiset/{d}").text

    only = Browser(api).get(f"/dandiset/{d}/history", params={"kind": "create_dandiset"})
    assert len(rows(only.text)) == 1
    bad = Browser(api).get(f"/dandiset/{d}/history", params={"kind": "nonsense"})
    assert bad.status_code == 400 and "Unknown kind" in bad.text
    assert Browser(api).get("/dandiset/999999/history").status_code == 404


def test_an_embargoed_history_is_for_those_who_may_read_it(api):
    owner = make_account(api, "owner@example.org", name="Olga Owner")
    reader = make_account(api, "reader@example.org", name="Rita Reader")
    make_account(api, "stranger@example.org")
    d = api.create_dandiset(owner, "Secret", embargo="true")
    username = api.get("/api/users/me/", reader).json()["username"]
    r = api.put(f"/api/dandisets/{d}/readers/", owner, json=[{"username": username}])
    assert r.status_code == 200, r.text

    assert Browser(api).get(f"/dandiset/{d}/history").status_code == 303
    stranger = Browser(api)
    stranger.sign_in("stranger@example.org")
    assert stranger.get(f"/dandiset/{d}/history").status_code == 403
    as_reader = Browser(api)
    as_reader.sign_in("reader@example.org")
    seen = rows(as_reader.get(f"/dandiset/{d}/history").text)
    assert len(seen) == 1 and "created the Dandiset" in seen[0]  # grants are the owners'
    as_owner = Browser(api)
    as_owner.sign_in("owner@example.org")
    assert any(
        "gave read access Rita Reader" in r
        for r in rows(as_owner.get(f"/dandiset/{d}/history").text)
    )
