"""Delivery: a mail never holds up nor undoes the change it tells about. With the SMTP
server down or refusing, the change stands, the mail waits in the outbox, and a later
job (queued by the sweep once its pause is over) sends it, once."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import ValidationError
from sqlalchemy import select

from dandi_archive.config import Settings
from dandi_archive.db.models import OutgoingMail, User, UserStatus
from dandi_archive.mail import outbox
from dandi_archive.tasks.registry import run_job
from dandi_archive.testing import free_port

from ..web.helpers import Browser, make_account
from .conftest import Inbox, smtp_settings, start_server
from .test_notifications import decide, outbox_rows


def approve_grace(api) -> None:
    make_account(api, "admin@example.org", admin=True)
    make_account(api, "grace@example.org", status=UserStatus.PENDING, name="Grace Hopper")
    admin = Browser(api)
    admin.sign_in("admin@example.org")
    decide(admin, api, "grace@example.org", "approve")
    api.wait_for_jobs()


def status_of(api, email: str) -> UserStatus:
    with api.archive.db.session() as session:
        return session.scalar(select(User.status).where(User.email == email))


def sweep_when_due(api) -> None:
    [row] = [r for r in outbox_rows(api) if r.sent is None]
    time.sleep(max(0.0, (row.due - datetime.now(UTC)).total_seconds()) + 0.05)
    run_job(api.archive, "sweep", {})
    api.wait_for_jobs()


def test_smtp_down_keeps_the_change_and_sends_the_mail_later(make_api):
    inbox = Inbox(free_port())  # nobody listens there yet
    api = make_api(**smtp_settings(inbox, mail_retry_seconds=0.3))
    approve_grace(api)
    assert status_of(api, "grace@example.org") == UserStatus.APPROVED  # the change stands
    [row] = outbox_rows(api)
    assert row.sent is None and row.attempts == 1
    assert "ConnectionRefusedError" in (row.last_error or "")
    assert row.due > row.created  # paused before the next try

    sweep_when_due(api)  # still down: a second failure, a longer pause
    [row] = outbox_rows(api)
    assert row.sent is None and row.attempts == 2

    controller = start_server(inbox.port, inbox)
    try:
        sweep_when_due(api)
        [mail] = inbox.wait_for(1)
        assert mail.envelope_to == ["grace@example.org"]
        assert mail.subject == "Your DANDI Archive account is approved"
        [row] = outbox_rows(api)
        assert row.sent is not None and row.attempts == 3 and row.last_error is None
        run_job(api.archive, "sweep", {})  # sent: never again
        api.wait_for_jobs()
        time.sleep(0.2)
        assert len(inbox.received) == 1
    finally:
        controller.stop()


def test_a_refusing_server_is_tried_again(make_api, smtp):
    smtp.refuse = True
    api = make_api(**smtp_settings(smtp, mail_retry_seconds=0.2))
    approve_grace(api)
    [row] = outbox_rows(api)
    assert row.sent is None and "451" in (row.last_error or "")
    smtp.refuse = False
    sweep_when_due(api)
    assert len(smtp.wait_for(1)) == 1
    assert outbox_rows(api)[0].sent is not None


def test_a_mail_held_by_one_job_is_not_sent_by_another(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    with api.archive.db.session(write=True) as session:
        mail = outbox.enqueue(
            api.archive, session, "test", ["a@example.org"], "Once", "Only once.\n"
        )
        assert mail is not None
        mail_id = mail.id
    api.wait_for_jobs()
    for _ in range(3):  # duplicates of the job, and sweeps: all find it sent
        run_job(api.archive, "send_mail", {"mail_id": mail_id})
        run_job(api.archive, "sweep", {})
    api.wait_for_jobs()
    time.sleep(0.2)
    assert [m.subject for m in smtp.received] == ["Once"]


def test_bad_addresses_and_line_breaks_never_reach_a_header(make_api, smtp):
    api = make_api(**smtp_settings(smtp))
    with api.archive.db.session(write=True) as session:
        bad = ["x@example.org\r\nBcc: evil@example.org", "no-at-sign", "a b@example.org"]
        assert outbox.enqueue(api.archive, session, "test", bad, "S", "B") is None
        outbox.enqueue(
            api.archive, session, "test", ["ok@example.org", *bad], "Two\r\nBcc: x@y", "B"
        )
    api.wait_for_jobs()
    [mail] = smtp.wait_for(1)
    assert mail.envelope_to == ["ok@example.org"]
    assert mail.subject == "Two Bcc: x@y" and mail.message["Bcc"] is None


# Plain-text AUTH is fine on loopback; aiosmtpd warns of it on real networks.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_is_used_when_configured(make_api):
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    inbox = Inbox(free_port())
    controller = start_server(
        inbox.port, inbox, authenticator=authenticate, auth_required=True, auth_require_tls=False
    )
    try:
        api = make_api(**smtp_settings(inbox, smtp_username="archive", smtp_password="s3cret"))
        approve_grace(api)
        assert len(inbox.wait_for(1)) == 1
        assert logins == [(b"archive", b"s3cret")]
    finally:
        controller.stop()


def test_outbox_rows_need_a_job_to_hold_them_before_sending(make_api, smtp):
    """The claim is what makes a row safe to queue twice: a row not yet due is left."""
    api = make_api(**smtp_settings(smtp))
    with api.archive.db.session(write=True) as session:
        row = OutgoingMail(
            kind="test",
            recipients=["later@example.org"],
            subject="Later",
            body="Not yet.\n",
            due=datetime(2999, 1, 1, tzinfo=UTC),
        )
        session.add(row)
        session.flush()
        mail_id = row.id
    run_job(api.archive, "send_mail", {"mail_id": mail_id})
    run_job(api.archive, "sweep", {})
    api.wait_for_jobs()
    assert smtp.received == [] and outbox_rows(api)[0].attempts == 0


@pytest.mark.parametrize(
    "settings, problem",
    [
        ({"admin_emails": "ok@example.org, two words@example.org"}, "admin_emails"),
        ({"mail_from": "nobody"}, "mail_from"),
        ({"smtp_ssl": True, "smtp_starttls": True}, "choose one"),
        ({"signup_digest_minutes": 0}, "signup_digest_minutes"),
    ],
)
def test_mail_settings_that_cannot_work_are_refused_at_start(settings, problem):
    with pytest.raises(ValidationError, match=problem):
        Settings(**settings)


def test_mail_setting_defaults():
    settings = Settings(base_url="https://dandi.example.org")
    assert settings.mail_sender == "noreply@dandi.example.org"
    assert settings.smtp_port_or_default == 25 and not settings.smtp_configured
    assert Settings(smtp_ssl=True).smtp_port_or_default == 465
    assert Settings(smtp_starttls=True).smtp_port_or_default == 587
    assert Settings(admin_emails=" a@example.org,, b@example.org ").admin_addresses == (
        "a@example.org",
        "b@example.org",
    )
