"""Stars from the pages: the landing page's Star / Starred button for approved accounts
(a count for everyone else), and the "Starred" list of "My Dandisets", which unstars
too and leaves out a starred Dandiset its reader may no longer read."""

from __future__ import annotations

import re

from dandi_archive.accounts import users
from dandi_archive.db.models import UserStatus

from .helpers import Browser, make_account, text_of


def signed_in(api, email: str) -> Browser:
    web = Browser(api)
    web.sign_in(email)
    return web


def test_star_on_the_page_and_find_it_under_my_dandisets(api):
    key = make_account(api, "owner@example.org", name="Olga Owner")
    rita_key = make_account(api, "rita@example.org", name="Rita Researcher")
    first = api.create_dandiset(key, "First study")
    second = api.create_dandiset(key, "Second study")
    rita = signed_in(api, "rita@example.org")

    mine = rita.get("/my-dandisets")
    assert "You have not starred any Dandiset yet" in text_of(mine.text)
    page = rita.get(f"/dandiset/{first}")
    assert 'aria-pressed="false">☆ Star</button>' in page.text and "0 stars" in page.text
    for d in (first, second):
        r = rita.post(f"/dandiset/{d}/star", {"action": "star", "next": f"/dandiset/{d}/draft"})
        assert r.status_code == 303 and r.headers["location"] == f"/dandiset/{d}/draft#star"
    page = rita.get(f"/dandiset/{first}/draft")
    assert 'aria-pressed="true">★ Starred</button>' in page.text
    assert "1 star" in text_of(page.text) and "Starred: this Dandiset has 1 star." in page.text
    # The API sees the same stars.
    listed = api.get("/api/dandisets/", rita_key, params={"starred": "true", "draft": "true"})
    assert {d["identifier"] for d in listed.json()["results"]} == {first, second}

    mine = rita.get("/my-dandisets").text
    names = re.findall(r'<a href="/dandiset/(\d{6})">([^<]+)</a>', mine)
    assert names == [(second, "Second study"), (first, "First study")]  # latest starred first
    r = rita.post(
        f"/dandiset/{second}/star",
        {"action": "unstar", "next": "/my-dandisets"},
        form_page="/my-dandisets",
    )
    assert r.status_code == 303 and r.headers["location"] == "/my-dandisets#starred"
    mine = rita.get("/my-dandisets").text
    assert "Second study" not in mine and "First study" in mine
    # A next address elsewhere is not followed.
    r = rita.post(f"/dandiset/{first}/star", {"action": "star", "next": "https://evil.example"})
    assert r.headers["location"] == f"/dandiset/{first}#star"


def test_who_sees_a_button_and_what_is_refused(api):
    key = make_account(api, "owner@example.org", name="Olga Owner")
    make_account(api, "pat@example.org", name="Pat Pending", status=UserStatus.PENDING)
    make_account(api, "rita@example.org", name="Rita Researcher")
    d = api.create_dandiset(key, "Open study")
    page = api.client.get(f"/dandiset/{d}").text
    assert 'id="star-count">☆ 0 stars' in page and 'action="/dandiset/' + d + '/star"' not in page
    pat = signed_in(api, "pat@example.org")
    assert f'action="/dandiset/{d}/star"' not in pat.get(f"/dandiset/{d}").text
    assert pat.post(f"/dandiset/{d}/star", {"action": "star"}, form_page="/").status_code == 403
    rita = signed_in(api, "rita@example.org")
    r = rita.post(f"/dandiset/{d}/star", {"action": "shine"}, form_page="/")
    assert r.status_code == 400 and "Choose star or unstar" in text_of(r.text)


def test_a_star_on_a_dandiset_no_longer_readable_is_not_listed(api):
    key = make_account(api, "owner@example.org", name="Olga Owner")
    make_account(api, "rita@example.org", name="Rita Researcher")
    d = api.create_dandiset(key, "Sealed study", embargo="true")
    with api.archive.db.session() as session:
        rita_name = users.get_user_by_email(session, "rita@example.org").username
    r = api.put(f"/api/dandisets/{d}/readers/", key, json=[{"username": rita_name}])
    assert r.status_code == 200, r.text
    rita = signed_in(api, "rita@example.org")
    assert rita.post(f"/dandiset/{d}/star", {"action": "star"}, form_page="/").status_code == 303
    assert "Sealed study" in rita.get("/my-dandisets").text
    assert api.put(f"/api/dandisets/{d}/readers/", key, json=[]).status_code == 200
    assert "Sealed study" not in rita.get("/my-dandisets").text
