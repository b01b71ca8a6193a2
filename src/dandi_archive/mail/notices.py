"""What the domains call when something a person should hear of happened: each puts
its mail in the outbox of the change's own transaction (see :mod:`.outbox`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dandi_archive.mail import outbox, texts

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.db.models import Dandiset, HelpRequest, User
    from dandi_archive.instance import Archive


def signup_awaits_approval(archive: Archive, session: Session) -> None:
    """An account now waits for an administrator: it is in the next digest."""
    outbox.schedule_signup_digest(archive, session)


def account_approved(archive: Archive, session: Session, user: User) -> None:
    subject, body = texts.account_approved(archive.settings, user)
    outbox.enqueue(archive, session, "account_approved", [user.email], subject, body)


def account_rejected(archive: Archive, session: Session, user: User, reason: str) -> None:
    subject, body = texts.account_rejected(archive.settings, user, reason)
    outbox.enqueue(archive, session, "account_rejected", [user.email], subject, body)


def owners_changed(
    archive: Archive,
    session: Session,
    dandiset: Dandiset,
    name: str,
    *,
    added: Iterable[User],
    removed: Iterable[User],
    by: User | None,
) -> None:
    """Each owner added or removed hears it (but the one who made the change)."""
    settings = archive.settings
    actor = by.name or by.username if by is not None else "An administrator"
    for user in added:
        if by is None or user.id != by.id:
            subject, body = texts.owner_added(settings, user, dandiset, name, actor)
            outbox.enqueue(archive, session, "owner_added", [user.email], subject, body)
    for user in removed:
        if by is None or user.id != by.id:
            subject, body = texts.owner_removed(settings, user, dandiset, name, actor)
            outbox.enqueue(archive, session, "owner_removed", [user.email], subject, body)


def unembargo_finished(
    archive: Archive, session: Session, dandiset: Dandiset, name: str, owners: Iterable[User]
) -> None:
    for user in owners:
        subject, body = texts.unembargo_finished(archive.settings, user, dandiset, name)
        outbox.enqueue(archive, session, "unembargo_finished", [user.email], subject, body)


def access_requested(
    archive: Archive,
    session: Session,
    dandiset: Dandiset,
    name: str,
    owners: Iterable[User],
    requester: User,
    message: str,
) -> None:
    for owner in owners:
        subject, body = texts.access_requested(
            archive.settings, owner, dandiset, name, requester, message
        )
        outbox.enqueue(archive, session, "access_requested", [owner.email], subject, body)


def owners_contacted(
    archive: Archive,
    session: Session,
    dandiset: Dandiset,
    name: str,
    owners: Iterable[User],
    sender: User,
    message: str,
) -> None:
    """One mail per owner, so no owner's address is shown to the others either."""
    for owner in owners:
        subject, body = texts.owners_contacted(
            archive.settings, owner, dandiset, name, sender, message
        )
        outbox.enqueue(archive, session, "owners_contacted", [owner.email], subject, body)


def access_answered(
    archive: Archive,
    session: Session,
    dandiset: Dandiset,
    name: str,
    requester: User,
    accepted: bool,
) -> None:
    subject, body = texts.access_answered(archive.settings, requester, dandiset, name, accepted)
    kind = "access_accepted" if accepted else "access_declined"
    outbox.enqueue(archive, session, kind, [requester.email], subject, body)


def embargo_ends_soon(
    archive: Archive,
    session: Session,
    dandiset: Dandiset,
    name: str,
    owners: Iterable[User],
    ends: str,
) -> None:
    for owner in owners:
        subject, body = texts.embargo_ends_soon(archive.settings, owner, dandiset, name, ends)
        outbox.enqueue(archive, session, "embargo_ends_soon", [owner.email], subject, body)


def password_reset(archive: Archive, session: Session, user: User, link: str) -> None:
    subject, body = texts.password_reset(archive.settings, user, link)
    outbox.enqueue(archive, session, "password_reset", [user.email], subject, body)


def help_requested(
    archive: Archive,
    session: Session,
    request: HelpRequest,
    requester: User,
    dandiset: Dandiset | None,
    name: str | None,
) -> None:
    """A question for the administrators (the configured addresses, else every admin)."""
    subject, body = texts.help_requested(archive.settings, request, requester, dandiset, name)
    recipients = outbox.admin_addresses(archive.settings, session)
    outbox.enqueue(archive, session, "help_requested", recipients, subject, body)


def help_answered(
    archive: Archive, session: Session, request: HelpRequest, requester: User, by: User
) -> None:
    subject, body = texts.help_answered(archive.settings, request, requester, by)
    outbox.enqueue(archive, session, "help_answered", [requester.email], subject, body)
