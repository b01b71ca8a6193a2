"""The embargo pages: "Request access" for approved non-owners, the owners' access
panel (readers, requests, Unembargo with a confirmation)."""

from __future__ import annotations

import html

from dandi_archive.accounts import users
from dandi_archive.db.models import UserStatus

from ..helpers import ApiClient
from ..web.helpers import Browser, make_account, text_of


def username(api: ApiClient, key: str) -> str:
    return api.get("/api/users/me/", key).json()["username"]


def world(api: ApiClient) -> tuple[str, Browser, str, Browser, str]:
    owner_key = make_account(api, "owner@example.org", name="Olga Owner")
    asker_key = make_account(api, "asker@example.org", name="Ann Asker")
    d = api.create_dandiset(owner_key, "Secret otter study", embargo="true")
    owner, asker = Browser(api), Browser(api)
    owner.sign_in("owner@example.org")
    asker.sign_in("asker@example.org")
    return d, owner, owner_key, asker, asker_key


def test_request_access_then_accept_on_the_pages(api: ApiClient) -> None:
    d, owner, _, asker, asker_key = world(api)
    page = asker.get(f"/dandiset/{d}")
    assert page.status_code == 403
    assert "Request access" in page.text and "Secret otter" not in page.text
    r = asker.post(
        f"/dandiset/{d}/request-access",
        {"message": "For Journal X's review."},
        form_page=f"/dandiset/{d}",
    )
    assert r.status_code == 303
    page = asker.get(f"/dandiset/{d}")
    assert 'id="request-pending"' in page.text and 'id="request-access"' not in page.text

    landing = owner.get(f"/dandiset/{d}")
    assert landing.status_code == 200 and "1 request" in text_of(landing.text)
    panel = owner.get(f"/dandiset/{d}/access")
    assert "Ann Asker" in panel.text and "For Journal X&#39;s review." in panel.text
    stranger = api.make_user("stranger@example.org")
    assert api.get(f"/api/dandisets/{d}/access-requests/", stranger).status_code == 403
    rid = panel.text.split(f"/dandiset/{d}/access-requests/")[1].split('"')[0]
    # The asker cannot answer its own request.
    assert (
        asker.post(
            f"/dandiset/{d}/access-requests/{rid}", {"action": "accept"}, form_page="/"
        ).status_code
        == 403
    )
    r = owner.post(
        f"/dandiset/{d}/access-requests/{rid}",
        {"action": "accept"},
        form_page=f"/dandiset/{d}/access",
    )
    assert r.status_code == 303
    assert "can now read" in owner.get(r.headers["location"]).text
    page = asker.get(f"/dandiset/{d}")
    assert page.status_code == 200 and "Secret otter study" in page.text
    assert 'id="access-link"' not in page.text  # a reader has no access panel
    assert asker.get(f"/dandiset/{d}/access").status_code == 403
    assert asker.get(f"/dandiset/{d}/draft/files").status_code == 200
    assert api.get(f"/api/dandisets/{d}/", asker_key).status_code == 200


def test_decline_on_the_pages(api: ApiClient) -> None:
    d, owner, _, asker, _ = world(api)
    asker.post(f"/dandiset/{d}/request-access", {"message": ""}, form_page=f"/dandiset/{d}")
    panel = owner.get(f"/dandiset/{d}/access")
    rid = panel.text.split(f"/dandiset/{d}/access-requests/")[1].split('"')[0]
    r = owner.post(
        f"/dandiset/{d}/access-requests/{rid}",
        {"action": "decline"},
        form_page=f"/dandiset/{d}/access",
    )
    assert r.status_code == 303
    page = asker.get(f"/dandiset/{d}")
    assert page.status_code == 403 and "declined your earlier request" in page.text


def test_readers_panel(api: ApiClient) -> None:
    d, owner, _, asker, asker_key = world(api)
    make_account(api, "pending@example.org", name="Pen Ding", status=UserStatus.PENDING)
    url = f"/dandiset/{d}/readers"
    r = owner.post(
        url, {"action": "add", "username": "no-such-person"}, form_page=f"/dandiset/{d}/access"
    )
    assert r.status_code == 400 and "No such user: no-such-person" in html.unescape(r.text)
    with api.archive.db.session() as session:
        pending_name = users.get_user_by_email(session, "pending@example.org").username
    r = owner.post(
        url, {"action": "add", "username": pending_name}, form_page=f"/dandiset/{d}/access"
    )
    assert r.status_code == 400 and "Only approved accounts" in r.text
    name = username(api, asker_key)
    r = owner.post(url, {"action": "add", "username": name}, form_page=f"/dandiset/{d}/access")
    assert r.status_code == 303
    assert asker.get(f"/dandiset/{d}").status_code == 200
    # A reader cannot change the readers.
    assert asker.post(url, {"action": "remove", "username": name}, form_page="/").status_code == 403
    r = owner.post(url, {"action": "remove", "username": name}, form_page=f"/dandiset/{d}/access")
    assert r.status_code == 303
    assert asker.get(f"/dandiset/{d}").status_code == 403


def test_unembargo_button(api: ApiClient) -> None:
    d, owner, _, asker, _ = world(api)
    url = f"/dandiset/{d}/unembargo"
    assert asker.post(url, {"confirm": "yes"}, form_page="/").status_code == 403
    r = owner.post(url, {}, form_page=f"/dandiset/{d}/access")  # not confirmed
    assert r.status_code == 400 and "Tick the box" in r.text
    assert api.get(f"/api/dandisets/{d}/").status_code == 401  # still embargoed
    r = owner.post(url, {"confirm": "yes"}, form_page=f"/dandiset/{d}/access")
    assert r.status_code == 303
    api.wait_for_jobs()
    assert api.get(f"/api/dandisets/{d}/").json()["embargo_status"] == "OPEN"
    assert "everyone can read it" in owner.get(f"/dandiset/{d}/access").text
    r = asker.get(f"/dandiset/{d}")
    assert r.status_code == 200 and "Request access" not in r.text
