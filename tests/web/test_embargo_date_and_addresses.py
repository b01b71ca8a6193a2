"""Two rules of the pages, checked: the embargo's end is typed in the form its label
names (YYYY-MM-DD, a text box, not a date picker showing the browser's own format), and
e-mail addresses appear only where the privacy rule allows — an owners list shows them
to the Dandiset's owners and admins only; an account page shows its own address only."""

from __future__ import annotations

import html
import re

from dandi_archive.dandisets.dandisets import default_embargo_end

from .helpers import Browser, make_account


def test_the_embargo_date_is_typed_as_its_label_says(api):
    make_account(api, "owner@example.org")
    web = Browser(api)
    web.sign_in("owner@example.org")
    page = web.get("/dandiset/new").text
    assert '<label for="f-embargo_end">Embargo ends on (YYYY-MM-DD)</label>' in page
    field = re.search(r'<input id="f-embargo_end"[^>]*>', page)[0]
    assert 'type="text"' in field and 'placeholder="YYYY-MM-DD"' in field
    assert 'type="date"' not in page
    assert f"For example {default_embargo_end().isoformat()}" in page

    for typed in ("30/06/2031", "20310630", "2031-W26-1", "2031-6-30", "2031-02-30"):
        r = web.post("/dandiset/new", {"name": "Secret", "embargo": "1", "embargo_end": typed})
        assert r.status_code == 400, typed
        assert "Enter a date as YYYY-MM-DD, e.g. " in html.unescape(r.text), typed
        assert f'value="{typed}"' in r.text  # kept as typed
    past = web.post(
        "/dandiset/new", {"name": "Secret", "embargo": "1", "embargo_end": "2001-01-01"}
    )
    assert past.status_code == 400 and "must be in the future" in past.text

    r = web.post("/dandiset/new", {"name": "Secret", "embargo": "1", "embargo_end": "2031-06-30"})
    assert r.status_code == 303
    dandiset = re.search(r"/dandiset/(\d{6})/", r.headers["location"])[1]
    key = make_account(api, "admin@example.org", admin=True)
    access = api.get(f"/api/dandisets/{dandiset}/versions/draft/", key).json()["access"][0]
    assert access["embargoedUntil"] == "2031-06-30"


def test_addresses_only_where_the_privacy_rule_allows(api):
    owner = make_account(api, "olga.owner@example.org", name="Olga Owner")
    make_account(api, "cora.coowner@example.org", name="Cora Coowner")
    reader = make_account(api, "rita.reader@example.org", name="Rita Reader")
    make_account(api, "sam.stranger@example.org", name="Sam Stranger")
    make_account(api, "ada.admin@example.org", name="Ada Admin", admin=True)
    addresses = ("olga.owner@example.org", "cora.coowner@example.org")
    dandiset = api.create_dandiset(owner, "Shared", embargo="true")
    reader_name = api.get("/api/users/me/", reader).json()["username"]
    r = api.put(f"/api/dandisets/{dandiset}/readers/", owner, json=[{"username": reader_name}])
    assert r.status_code == 200, r.text
    owners_page = f"/dandiset/{dandiset}/owners"
    web = Browser(api)
    web.sign_in("olga.owner@example.org")
    assert web.post(owners_page, {"action": "add", "username": "cora-coowner"}).status_code == 303

    seen = {}
    for who in ("olga.owner", "cora.coowner", "rita.reader", "sam.stranger", "ada.admin"):
        visitor = Browser(api)
        visitor.sign_in(f"{who}@example.org")
        r = visitor.get(owners_page)
        seen[who] = (r.status_code, [a for a in addresses if a in r.text])
        # The account page: one's own address, never another's (a co-owner's included).
        account = visitor.get("/account").text
        assert f"{who}@example.org" in account
        others = re.findall(r"[\w.]+@example\.org", account)
        assert set(others) == {f"{who}@example.org"}, (who, others)
    assert seen == {
        "olga.owner": (200, list(addresses)),
        "cora.coowner": (200, list(addresses)),
        "rita.reader": (200, []),  # reads the Dandiset, is not an owner
        "sam.stranger": (403, []),  # embargoed: not even the page
        "ada.admin": (200, list(addresses)),
    }
    # Anonymous visitors of an open Dandiset's owners: names and usernames only.
    public = api.create_dandiset(owner, "Open")
    r = Browser(api).get(f"/dandiset/{public}/owners")
    assert r.status_code == 200 and "Olga Owner" in r.text
    assert "@example.org" not in r.text
