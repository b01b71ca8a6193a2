"""The outbox: a mail is a row written in the transaction of the change it tells
about, and a ``send_mail`` job queued after commit sends it. A failed send leaves the
row for a later try (with a growing pause), so a broken SMTP server never loses a mail
nor undoes a change; the sweep re-queues rows that are due.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from dandi_archive.db.models import OutgoingMail, User, UserStatus
from dandi_archive.db.upsert import dialect_insert
from dandi_archive.mail import texts, transport

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.config import Settings
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)

SIGNUP_DIGEST = "signup_digest"
# Kinds whose text holds a secret (a sign-in link): not kept once sent.
SECRET_KINDS = frozenset({"password_reset"})
SCRUBBED = "(Sent. Not kept: it held a one-time link.)"


def is_address(value: str) -> bool:
    """A bare address a server will take: one @, no spaces or line breaks."""
    if not re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+", value):
        return False
    try:
        Address(addr_spec=value)
    except (HeaderParseError, ValueError, IndexError):
        return False
    return True


def enqueue(
    archive: Archive,
    session: Session,
    kind: str,
    recipients: Iterable[str],
    subject: str,
    body: str,
) -> OutgoingMail | None:
    """Write a mail to send once ``session`` commits; None when no recipient is usable."""
    addresses = [a for a in dict.fromkeys(r.strip() for r in recipients) if is_address(a)]
    if not addresses:
        log.warning("%s mail not queued: no usable address", kind)
        return None
    mail = OutgoingMail(kind=kind, recipients=addresses, subject=_one_line(subject), body=body)
    session.add(mail)
    session.flush()
    archive.defer(session, "send_mail", mail_id=mail.id)
    return mail


def _one_line(subject: str) -> str:
    # Names of Dandisets may hold line breaks, which a header must not.
    return " ".join(subject.split())[:255]


# -- the digest of sign-ups -------------------------------------------------------------


def schedule_signup_digest(archive: Archive, session: Session) -> None:
    """Make sure a digest of accounts awaiting approval is coming: at once if none went
    out within the last window, else when the window ends. Accounts that wait by then
    are all in that one mail, which is composed when it is sent."""
    # One not yet composed lists this account too. Locked: a job composing it now
    # either waits for this transaction (and lists the account) or has composed it
    # already (and it no longer matches, so a next digest is queued below).
    coming = select(OutgoingMail.id).where(
        OutgoingMail.kind == SIGNUP_DIGEST, OutgoingMail.sent.is_(None), OutgoingMail.body == ""
    )
    if session.scalar(coming.limit(1).with_for_update()) is not None:
        return
    latest = session.execute(
        select(OutgoingMail.id, OutgoingMail.sent)
        .where(OutgoingMail.kind == SIGNUP_DIGEST)
        .order_by(OutgoingMail.id.desc())
        .limit(1)
    ).first()
    now = datetime.now(UTC)
    window = timedelta(minutes=archive.settings.signup_digest_minutes)
    # After a digest still being sent (or retried), the next waits a whole window.
    due = now if latest is None else max(now, (latest.sent or now) + window)
    # Two sign-ups at once may both find none coming: the key lets only one in.
    key = f"{SIGNUP_DIGEST}:after:{latest.id if latest is not None else 0}"
    inserted = session.scalar(
        dialect_insert(session, OutgoingMail)
        .values(kind=SIGNUP_DIGEST, recipients=[], subject="", body="", dedupe_key=key, due=due)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutgoingMail.id)
    )
    if inserted is not None and due <= now:
        archive.defer(session, "send_mail", mail_id=inserted)


def admin_addresses(settings: Settings, session: Session) -> list[str]:
    """Who hears of sign-ups: the configured addresses, else every admin account."""
    if settings.admin_addresses:
        return list(settings.admin_addresses)
    return list(
        session.scalars(
            select(User.email)
            .where(User.is_admin.is_(True), User.status != UserStatus.REJECTED)
            .order_by(User.id)
        )
    )


# -- sending ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    id: int
    kind: str
    recipients: list[str]
    subject: str
    body: str
    attempts: int


def send(archive: Archive, mail_id: int) -> None:
    """The ``send_mail`` job: send the row if it is due and no other job has it."""
    claimed = _claim(archive, mail_id)
    if claimed is None:
        return
    settings = archive.settings
    message = transport.build_message(
        settings, claimed.id, claimed.recipients, claimed.subject, claimed.body
    )
    try:
        where = transport.deliver(settings, message, claimed.id)
    except transport.DeliveryFailed as exc:
        _failed(archive, claimed, str(exc))
        return
    _done(archive, claimed.id, secret=claimed.kind in SECRET_KINDS)
    log.info("mail %d (%s) sent to %s via %s", claimed.id, claimed.kind, claimed.recipients, where)


def _claim(archive: Archive, mail_id: int) -> _Claimed | None:
    """Take the row for one try: its ``due`` moves past the try's longest time, so
    another job (the sweep's, a duplicate) leaves it alone, and a try that died with
    its process is made again once that time is over."""
    settings = archive.settings
    now = datetime.now(UTC)
    lease = timedelta(seconds=4 * settings.smtp_timeout_seconds + 60)
    with archive.db.session(write=True) as session:
        taken = session.execute(
            update(OutgoingMail)
            .where(
                OutgoingMail.id == mail_id,
                OutgoingMail.sent.is_(None),
                OutgoingMail.due <= now,
            )
            .values(due=now + lease, attempts=OutgoingMail.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            return None
        mail = session.get(OutgoingMail, mail_id, populate_existing=True)
        assert mail is not None
        if mail.kind == SIGNUP_DIGEST and not mail.body:
            composed = texts.signup_digest(settings, session, admin_addresses(settings, session))
            if composed is None:  # everyone was decided on meanwhile: no mail, no window
                session.delete(mail)
                return None
            mail.recipients, mail.subject, mail.body = composed
        if not mail.recipients:
            mail.sent, mail.last_error = now, "nothing to send: no recipient"
            log.warning("mail %d (%s) has no recipient; dropped", mail.id, mail.kind)
            return None
        return _Claimed(
            mail.id, mail.kind, list(mail.recipients), mail.subject, mail.body, mail.attempts
        )


def _done(archive: Archive, mail_id: int, *, secret: bool) -> None:
    values: dict[str, object] = {"sent": datetime.now(UTC), "last_error": None}
    if secret:
        values["body"] = SCRUBBED
    with archive.db.session(write=True) as session:
        session.execute(update(OutgoingMail).where(OutgoingMail.id == mail_id).values(**values))


def _failed(archive: Archive, claimed: _Claimed, error: str) -> None:
    settings = archive.settings
    pause = min(
        settings.mail_retry_seconds * 2 ** (claimed.attempts - 1), settings.mail_retry_max_seconds
    )
    due = datetime.now(UTC) + timedelta(seconds=pause)
    with archive.db.session(write=True) as session:
        session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == claimed.id)
            .values(due=due, last_error=error[:2000])
        )
    log.warning(
        "mail %d (%s) not sent (try %d): %s; next try after %s",
        claimed.id,
        claimed.kind,
        claimed.attempts,
        error,
        due.isoformat(timespec="seconds"),
    )


def requeue_due(archive: Archive, session: Session, limit: int = 1000) -> None:
    """For the sweep: queue every unsent mail whose time has come (first sends lost
    with a crash, tries after a failure, digests at the end of their window). A row a
    job already holds is not due, so nothing is sent twice."""
    now = datetime.now(UTC)
    for mail_id in session.scalars(
        select(OutgoingMail.id)
        .where(OutgoingMail.sent.is_(None), OutgoingMail.due <= now)
        .order_by(OutgoingMail.due)
        .limit(limit)
    ):
        archive.defer(session, "send_mail", mail_id=mail_id)
