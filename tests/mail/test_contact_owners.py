"""Writing to a Dandiset's owners from its page, received by a real SMTP server: one
mail per owner with the sender's name, address and message; the sender never sees an
owner's address; only approved accounts write, about what they may read, a few times
an hour."""

from __future__ import annotations

from dandi_archive.accounts import users
from dandi_archive.db.models import UserStatus

from ..web.helpers import Browser, make_account, text_of
from .conftest import smtp_settings

MESSAGE = "Which reference electrode\ndid you use in session 2?"


def signed_in(api, email: str) -> Browser:
    web = Browser(api)
    web.sign_in(email)
    return web


def test_owners_get_the_message_without_their_addresses_shown(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    key = make_account(api, "olga@example.org", name="Olga Owner")
    make_account(api, "oscar@example.org", name="Oscar Owner")
    make_account(api, "rita@example.org", name="Rita Researcher")
    d = api.create_dandiset(key, "Electrodes")
    owners = [{"username": username_of(api, a)} for a in ("olga@example.org", "oscar@example.org")]
    r = api.put(f"/api/dandisets/{d}/users/", key, json=owners)
    assert r.status_code == 200, r.text
    api.wait_for_jobs()
    smtp.received.clear()  # the "you are now an owner" mail

    rita = signed_in(api, "rita@example.org")
    page = rita.get(f"/dandiset/{d}")
    assert "Send to the owners" in page.text
    assert "olga@example.org" not in page.text and "oscar@example.org" not in page.text
    r = rita.post(f"/dandiset/{d}/contact", {"message": MESSAGE}, form_page=f"/dandiset/{d}")
    assert r.status_code == 303 and r.headers["location"] == f"/dandiset/{d}#contact"
    after = rita.get(r.headers["location"].partition("#")[0])
    assert "Your message is on its way to the 2 owners" in text_of(after.text)
    assert "olga@example.org" not in after.text and "oscar@example.org" not in after.text
    api.wait_for_jobs()
    smtp.wait_for(2)
    assert sorted(m.envelope_to[0] for m in smtp.received) == [
        "olga@example.org",
        "oscar@example.org",
    ]
    for mail in smtp.received:
        assert len(mail.envelope_to) == 1  # each owner alone: no address of another
        assert mail.subject == f"Rita Researcher writes about Dandiset {d}"
        assert "rita@example.org" in mail.body and "Electrodes" in mail.body
        assert "  Which reference electrode\n  did you use in session 2?" in mail.body
        other = {"olga@example.org", "oscar@example.org"} - set(mail.envelope_to)
        assert not any(address in mail.body for address in other)


def test_who_may_write_and_what_is_refused(make_api, smtp):
    api = make_api(**smtp_settings(smtp), throttle_contact_owners_per_account="1/hour")
    key = make_account(api, "olga@example.org", name="Olga Owner")
    make_account(api, "rita@example.org", name="Rita Researcher")
    make_account(api, "pat@example.org", name="Pat Pending", status=UserStatus.PENDING)
    d = api.create_dandiset(key, "Electrodes")
    secret = api.create_dandiset(key, "Sealed", embargo="true")
    page = f"/dandiset/{d}"

    # Anonymous: asked to sign in, and a post without a session is refused.
    assert "Sign in</a> to write to the owners" in api.client.get(page).text
    # Pending: told to wait for approval; a forged post is refused.
    pat = signed_in(api, "pat@example.org")
    assert "Once an administrator has approved your account" in pat.get(page).text
    assert pat.post(f"{page}/contact", {"message": "hi"}, form_page=page).status_code == 403
    # The owner has no form (nobody else to write to) and would be refused anyway.
    olga = signed_in(api, "olga@example.org")
    assert "Send to the owners" not in olga.get(page).text
    r = olga.post(f"{page}/contact", {"message": "hi"}, form_page=page)
    assert r.status_code == 303
    assert "no other owner to write to" in text_of(olga.get(page).text)

    rita = signed_in(api, "rita@example.org")
    # An embargoed Dandiset: no page to read, no owners to write to.
    r = rita.post(f"/dandiset/{secret}/contact", {"message": "hi"}, form_page=page)
    assert r.status_code == 403 and "Sealed" not in r.text
    # Empty and too long: said on the page, nothing sent.
    rita.post(f"{page}/contact", {"message": "   "}, form_page=page)
    assert "Write a message first." in text_of(rita.get(page).text)
    assert rita.post(f"{page}/contact", {"message": "x" * 5001}, form_page=page).status_code == 303
    assert "at most 5,000" in text_of(rita.get(page).text)
    api.wait_for_jobs()
    assert smtp.received == []
    # Refused messages do not count; past the throttle (one an hour here): 429, said why.
    assert rita.post(f"{page}/contact", {"message": "one"}, form_page=page).status_code == 303
    r = rita.post(f"{page}/contact", {"message": "two"}, form_page=page)
    assert r.status_code == 429 and "wait before the next" in text_of(r.text)
    api.wait_for_jobs()
    assert len(smtp.wait_for(1)) == 1


def username_of(api, email: str) -> str:
    with api.archive.db.session() as session:
        return users.get_user_by_email(session, email).username
