"""Forgot password: a mail with a signed link that sets a new password once, expires,
never tells whether an address has an account, and is throttled."""

from __future__ import annotations

import time

from sqlalchemy import select

from dandi_archive.accounts import users
from dandi_archive.db.models import OutgoingMail, UserStatus
from dandi_archive.mail.outbox import SCRUBBED

from ..web.helpers import PASSWORD, Browser, make_account, text_of
from .conftest import smtp_settings

NEW_PASSWORD = "a brand new passphrase"
FORGOT = "/password/forgot"


def ask(web: Browser, email: str):
    return web.post(FORGOT, {"email": email})


def reset_link(smtp, address: str, count: int) -> str:
    mail = smtp.wait_for(count)[count - 1]
    assert mail.envelope_to == [address]
    assert mail.subject == "Set a new password for the DANDI Archive"
    [link] = [u for u in mail.links if "/password/reset" in u]
    assert link.startswith("http://testserver/password/reset?token=")
    return link.removeprefix("http://testserver")


def test_a_reset_link_sets_a_new_password_once(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    make_account(api, "grace@example.org", name="Grace Hopper")
    web = Browser(api)
    assert 'href="/password/forgot"' in web.get("/login").text
    assert web.get(FORGOT).status_code == 200

    sent = ask(web, "Grace@Example.org ")  # as people type it
    assert sent.status_code == 200 and "a link to set a new password is on its way" in sent.text
    api.wait_for_jobs()
    link = reset_link(smtp, "grace@example.org", 1)
    assert "works once, for 2 hours" in smtp.received[0].body
    # Once sent, the outbox keeps no usable link.
    with api.archive.db.session() as session:
        assert session.scalar(select(OutgoingMail.body)) == SCRUBBED

    form = web.get(link)
    assert form.status_code == 200 and "grace@example.org" in form.text
    assert form.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in form.headers["Cache-Control"]

    # A bad new password: the form again, the link still good.
    short = web.post(
        "/password/reset",
        {"token": token_of(link), "password": "short", "password2": "short"},
        form_page=link,
    )
    assert short.status_code == 400 and "Use at least 10 characters." in short.text
    done = web.post(
        "/password/reset",
        {"token": token_of(link), "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
        form_page=link,
    )
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert "Your new password is set" in web.get("/login").text

    fresh = Browser(api)
    refused = fresh.post("/login", {"email": "grace@example.org", "password": PASSWORD})
    assert refused.status_code == 400
    fresh.sign_in("grace@example.org", NEW_PASSWORD)

    # Used: the same link no longer works, to open nor to post.
    again = web.get(link)
    assert again.status_code == 400 and "already used" in again.text
    assert 'href="/password/forgot"' in again.text and 'name="password"' not in again.text
    replay = web.post(
        "/password/reset",
        {
            "token": token_of(link),
            "password": "yet another password",
            "password2": "yet another password",
        },
        form_page=FORGOT,
    )
    assert replay.status_code == 400 and "already used" in replay.text
    Browser(api).sign_in("grace@example.org", NEW_PASSWORD)


def token_of(link: str) -> str:
    return link.partition("token=")[2]


def test_the_answer_never_tells_whether_an_account_exists(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    make_account(api, "grace@example.org")
    make_account(api, "rejected@example.org", status=UserStatus.REJECTED)
    with api.archive.db.session(write=True) as session:  # signs in with GitHub only
        users.create_user(session, "github@example.org", name="Octo Cat")
    web = Browser(api)
    pages = {}
    for email in (
        "grace@example.org",
        "nobody@example.org",
        "rejected@example.org",
        "github@example.org",
    ):
        r = ask(web, email)
        assert r.status_code == 200
        pages[email] = text_of(r.text).replace(email, "ADDRESS")
    assert len(set(pages.values())) == 1
    api.wait_for_jobs()
    time.sleep(0.2)
    assert [m.envelope_to for m in smtp.received] == [["grace@example.org"]]

    bad = ask(web, "not an address")
    assert bad.status_code == 400 and "Enter your email address." in bad.text


def test_an_expired_link_is_refused_with_a_readable_page(make_api, smtp):
    api = make_api(**smtp_settings(smtp, password_reset_hours=1 / 3600))  # one second
    make_account(api, "grace@example.org")
    web = Browser(api)
    ask(web, "grace@example.org")
    api.wait_for_jobs()
    link = reset_link(smtp, "grace@example.org", 1)
    time.sleep(2.2)
    page = web.get(link)
    assert page.status_code == 400 and "text/html" in page.headers["content-type"]
    assert "This link has expired" in text_of(page.text)
    assert 'href="/password/forgot"' in page.text
    posted = web.post(
        "/password/reset",
        {"token": token_of(link), "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
        form_page=FORGOT,
    )
    assert posted.status_code == 400 and "expired" in posted.text
    Browser(api).sign_in("grace@example.org", PASSWORD)  # unchanged


def test_tampered_and_missing_tokens_are_refused(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    make_account(api, "grace@example.org")
    web = Browser(api)
    ask(web, "grace@example.org")
    api.wait_for_jobs()
    link = reset_link(smtp, "grace@example.org", 1)
    for url in (link[:-3] + "AAA", "/password/reset", "/password/reset?token=not.a-token"):
        page = web.get(url)
        assert page.status_code == 400 and "This link is not valid" in page.text, url


def test_asking_for_reset_mails_is_throttled(make_api, smtp):
    api = make_api(
        **smtp_settings(smtp),
        throttle_password_reset_per_account="2/hour",
        throttle_password_reset_per_address="5/hour",
    )
    make_account(api, "grace@example.org")
    web = Browser(api)
    assert ask(web, "grace@example.org").status_code == 200
    assert ask(web, "GRACE@example.org").status_code == 200
    third = ask(web, "grace@example.org")
    assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
    assert "Too many requests" in third.text
    # The same for an address without an account: the limit tells nothing either.
    for expected in (200, 200, 429):
        assert ask(web, "nobody@example.org").status_code == expected
    api.wait_for_jobs()
    assert len(smtp.wait_for(2)) == 2
