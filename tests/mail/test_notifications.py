"""Mails people get, received by a real SMTP server on loopback: decisions on accounts
(with the administrator's reason), the digest of sign-ups (one per window), owners
added and removed, an embargo lifted; and .eml files when no server is configured."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy

from sqlalchemy import select

from dandi_archive.db.models import OutgoingMail, User, UserStatus
from dandi_archive.tasks.registry import run_job

from ..accounts.test_questionnaire import ANSWERS, URL
from ..web.helpers import PASSWORD, Browser, make_account
from .conftest import smtp_settings


def user_id(api, email: str) -> int:
    with api.archive.db.session() as session:
        return session.scalar(select(User.id).where(User.email == email))


def outbox_rows(api, kind: str | None = None) -> list[OutgoingMail]:
    with api.archive.db.session() as session:
        query = select(OutgoingMail).order_by(OutgoingMail.id)
        if kind:
            query = query.where(OutgoingMail.kind == kind)
        return list(session.scalars(query))


def decide(admin: Browser, api, email: str, action: str, reason: str = "") -> None:
    r = admin.post(
        f"/admin/users/{user_id(api, email)}",
        {"action": action, "reason": reason},
        form_page="/admin/users",
    )
    assert r.status_code == 303, r.text


def test_approved_and_rejected_accounts_hear_of_it(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    make_account(api, "admin@example.org", admin=True, name="Ada Admin")
    make_account(api, "grace@example.org", status=UserStatus.PENDING, name="Grace Hopper")
    make_account(api, "mallory@example.org", status=UserStatus.PENDING, name="Mallory")
    admin = Browser(api)
    admin.sign_in("admin@example.org")
    assert 'name="reason"' in admin.get("/admin/users").text

    decide(admin, api, "grace@example.org", "approve", reason="ignored when approving")
    decide(admin, api, "mallory@example.org", "reject", reason="Not a research\nproject.")
    api.wait_for_jobs()
    smtp.wait_for(2)

    [approved] = smtp.to("grace@example.org")
    assert approved.subject == "Your DANDI Archive account is approved"
    assert approved.message["To"] == "grace@example.org"
    assert approved.message["From"] == "DANDI Test <archive@example.org>"
    assert "Dear Grace Hopper" in approved.body and "ignored" not in approved.body
    assert "http://testserver/account" in approved.links
    [rejected] = smtp.to("mallory@example.org")
    assert rejected.subject == "Your DANDI Archive account was not approved"
    assert "  Not a research\n  project." in rejected.body
    assert len(smtp.received) == 2

    # Deciding the same again says nothing new; a reason that is too long is refused.
    decide(admin, api, "grace@example.org", "approve")
    long = admin.post(
        f"/admin/users/{user_id(api, 'grace@example.org')}",
        {"action": "reject", "reason": "x" * 2001},
        form_page="/admin/users",
    )
    assert long.status_code == 400 and "at most 2000 characters" in long.text
    api.wait_for_jobs()
    assert len(smtp.received) == 2
    with api.archive.db.session() as session:
        assert session.get(User, user_id(api, "grace@example.org")).status == UserStatus.APPROVED
    assert all(row.sent is not None and row.attempts == 1 for row in outbox_rows(api))


def sign_up_and_answer(api, email: str, name: str) -> None:
    """Sign up on the page and answer the questions: the account then waits (PENDING)."""
    web = Browser(api)
    r = web.post(
        "/signup", {"email": email, "name": name, "password": PASSWORD, "password2": PASSWORD}
    )
    assert r.status_code == 303, r.text
    first, _, last = name.partition(" ")
    assert web.post(URL, {**ANSWERS, "First Name": first, "Last Name": last}).status_code == 303


def test_admins_get_one_digest_of_sign_ups_per_window(make_api, smtp):
    admins = "one@example.org,two@example.org"
    api = make_api(**smtp_settings(smtp, admin_emails=admins, signup_digest_minutes=0.1))
    make_account(api, "admin@example.org", admin=True)  # not listed: the setting wins

    # The first sign-up after a quiet spell is told at once.
    sign_up_and_answer(api, "first@example.org", "First Person")
    api.wait_for_jobs()
    [first] = smtp.wait_for(1)
    assert sorted(first.envelope_to) == ["one@example.org", "two@example.org"]
    assert first.subject == "DANDI Archive: 1 account awaits approval"
    assert "First Person <first@example.org>" in first.body and "Yale University" in first.body
    assert "http://testserver/admin/users" in first.links

    # Two more within the window: no mail per sign-up, one digest when the window ends.
    sign_up_and_answer(api, "second@example.org", "Second Person")
    sign_up_and_answer(api, "third@example.org", "Third Person")
    admin = Browser(api)
    admin.sign_in("admin@example.org")
    decide(admin, api, "first@example.org", "approve")  # decided: not listed again
    api.wait_for_jobs()
    run_job(api.archive, "sweep", {})  # before the window ends the sweep sends nothing
    api.wait_for_jobs()
    assert len(smtp.about("await")) == 1
    [waiting] = [row for row in outbox_rows(api, "signup_digest") if row.sent is None]
    time.sleep(max(0.0, (waiting.due - datetime.now(UTC)).total_seconds()) + 0.1)
    run_job(api.archive, "sweep", {})
    api.wait_for_jobs()
    smtp.wait_for(3)  # the approval of "first" and the second digest
    digests = smtp.about("await")
    assert len(digests) == 2
    second = digests[1]
    assert second.subject == "DANDI Archive: 2 accounts await approval"
    assert "Second Person" in second.body and "Third Person" in second.body
    assert "First Person" not in second.body
    assert len(outbox_rows(api, "signup_digest")) == 2


def test_no_digest_when_everyone_was_decided_before_it_was_due(make_api, smtp):
    api = make_api(**smtp_settings(smtp, signup_digest_minutes=0.1))
    make_account(api, "admin@example.org", admin=True)
    admin = Browser(api)
    admin.sign_in("admin@example.org")
    sign_up_and_answer(api, "first@example.org", "First Person")
    api.wait_for_jobs()
    assert len(smtp.wait_for(1)) == 1
    sign_up_and_answer(api, "second@example.org", "Second Person")
    decide(admin, api, "first@example.org", "approve")
    decide(admin, api, "second@example.org", "reject")
    [waiting] = [row for row in outbox_rows(api, "signup_digest") if row.sent is None]
    time.sleep(max(0.0, (waiting.due - datetime.now(UTC)).total_seconds()) + 0.1)
    run_job(api.archive, "sweep", {})
    api.wait_for_jobs()
    smtp.wait_for(3)  # the two decisions, and no digest: nobody waits
    assert len(smtp.about("await")) == 1 and len(smtp.received) == 3
    assert len(outbox_rows(api, "signup_digest")) == 1
    # The window is over: the next sign-up is told at once.
    sign_up_and_answer(api, "third@example.org", "Third Person")
    api.wait_for_jobs()
    smtp.wait_for(4)
    assert "Third Person" in smtp.about("await")[-1].body


def test_digest_goes_to_admin_accounts_when_no_address_is_set(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    make_account(api, "admin@example.org", admin=True)
    make_account(api, "gone-admin@example.org", admin=True, status=UserStatus.REJECTED)
    sign_up_and_answer(api, "new@example.org", "New Person")
    api.wait_for_jobs()
    [digest] = smtp.wait_for(1)
    assert digest.envelope_to == ["admin@example.org"]


def test_owners_added_and_removed_hear_of_it(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    owner = api.make_user("owner@example.org", name="Olive Owner")
    api.make_user("colleague@example.org", name="Carl Colleague")
    dandiset = api.create_dandiset(owner, name="Otter\nrecordings")
    with api.archive.db.session() as session:
        colleague = session.scalar(select(User.username).where(User.email.like("colleague%")))
        mine = session.scalar(select(User.username).where(User.email.like("owner%")))
    users = f"/api/dandisets/{dandiset}/users/"
    r = api.put(users, owner, json=[{"username": mine}, {"username": colleague}])
    assert r.status_code == 200, r.text
    api.wait_for_jobs()
    [added] = smtp.wait_for(1)
    assert added.envelope_to == ["colleague@example.org"]  # not the owner who did it
    assert added.subject == f"You are now an owner of Dandiset {dandiset}"
    assert "Olive Owner made you an owner" in added.body
    assert '"Otter\nrecordings"' in added.body
    assert f"http://testserver/dandiset/{dandiset}" in added.links

    r = api.put(users, owner, json=[{"username": mine}])
    assert r.status_code == 200, r.text
    api.wait_for_jobs()
    removed = smtp.wait_for(2)[1]
    assert removed.envelope_to == ["colleague@example.org"]
    assert removed.subject == f"You are no longer an owner of Dandiset {dandiset}"


def test_owners_hear_when_the_embargo_is_lifted(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    owner = api.make_user("owner@example.org")
    api.make_user("second@example.org", name="Second Owner")
    dandiset = api.create_dandiset(owner, embargo="true")
    with api.archive.db.session() as session:
        second = session.scalar(select(User.username).where(User.email.like("second%")))
        mine = session.scalar(select(User.username).where(User.email.like("owner%")))
    api.put(
        f"/api/dandisets/{dandiset}/users/", owner, json=[{"username": u} for u in (mine, second)]
    )
    api.wait_for_jobs()
    before = len(smtp.wait_for(1))
    assert not smtp.about("is now open")
    r = api.post(f"/api/dandisets/{dandiset}/unembargo/", owner)
    assert r.status_code in (200, 204), r.text
    api.wait_for_jobs()
    smtp.wait_for(before + 2)
    opened = smtp.about("is now open")
    assert sorted(m.envelope_to[0] for m in opened) == ["owner@example.org", "second@example.org"]
    assert all(f"http://testserver/dandiset/{dandiset}" in m.links for m in opened)
    assert api.get(f"/api/dandisets/{dandiset}/").json()["embargo_status"] == "OPEN"


def test_without_smtp_each_mail_is_an_eml_file_in_the_outbox(make_api, caplog):
    api = make_api()
    make_account(api, "admin@example.org", admin=True)
    make_account(api, "grace@example.org", status=UserStatus.PENDING, name="Grace Hopper")
    admin = Browser(api)
    admin.sign_in("admin@example.org")
    with caplog.at_level(logging.INFO, logger="dandi_archive.mail"):
        decide(admin, api, "grace@example.org", "approve")
        api.wait_for_jobs()
    folder = api.archive.settings.data_dir / "outbox"
    [path] = folder.glob("*.eml")
    assert not list(folder.glob(".*"))  # no partial file left behind
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "grace@example.org"
    assert message["From"] == "noreply@testserver"
    assert message["Subject"] == "Your DANDI Archive account is approved"
    assert "http://testserver/account" in message.get_content()
    assert str(path) in caplog.text and "grace@example.org" in caplog.text
    [row] = outbox_rows(api)
    assert row.sent is not None and row.last_error is None
