"""Help requests: written by any signed-in account (a pending one may need help the
most), read by their author and by administrators, answered once by an administrator.

Each step writes its mail in the same transaction (``mail.notices``): the question to
the administrators, the answer to the requester.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from dandi_archive.access.permissions import is_active, may_read
from dandi_archive.accounts.registration import require_admin
from dandi_archive.dandisets.dandisets import draft_of, parse_identifier
from dandi_archive.db.models import Dandiset, HelpRequest, User
from dandi_archive.errors import BadRequest, NotAuthenticated, NotFound, PermissionDenied
from dandi_archive.mail import notices

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.instance import Archive

MAX_SUBJECT = 200
MAX_MESSAGE = 5000
MAX_ANSWER = 10000
LIST_LIMIT = 500


class Status(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    ALL = "all"


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"The {what} must be text.")
    value = value.strip()
    if not value:
        raise BadRequest(f"The {what} is empty; please write one.")
    if len(value) > limit:
        raise BadRequest(f"The {what} is {len(value)} characters long; at most {limit}.")
    return value


def _requester(user: User | None) -> User:
    if user is None:
        raise NotAuthenticated("Sign in to write to the administrators.")
    if not is_active(user):
        raise PermissionDenied("This account is not active.")
    return user


def visible_dandiset(session: Session, user: User, identifier: str) -> Dandiset:
    """The Dandiset a question is about. One answer for "no such Dandiset" and "one you
    may not read", so the form tells nobody which embargoed numbers exist."""
    unknown = BadRequest(f"There is no Dandiset {identifier} that you can see.")
    try:
        dandiset = session.get(Dandiset, parse_identifier(identifier.strip()))
    except NotFound:
        raise BadRequest(
            f"{identifier!r} is not a Dandiset identifier; write its six digits, e.g. 000123."
        ) from None
    if dandiset is None or not may_read(session, dandiset, user):
        raise unknown
    return dandiset


def submit(
    archive: Archive,
    session: Session,
    user: User | None,
    subject: object,
    message: object,
    dandiset: object = None,
) -> HelpRequest:
    """Store the question and mail it to the administrators, in one transaction."""
    requester = _requester(user)
    subject_text = " ".join(_text(subject, "subject", MAX_SUBJECT).split())
    message_text = _text(message, "message", MAX_MESSAGE)
    about = None
    if dandiset is not None and not isinstance(dandiset, str):
        raise BadRequest("The Dandiset must be written as its identifier, e.g. 000123.")
    if dandiset and dandiset.strip():
        about = visible_dandiset(session, requester, dandiset)
    request = HelpRequest(
        user_id=requester.id,
        dandiset_id=about.id if about is not None else None,
        subject=subject_text,
        message=message_text,
    )
    session.add(request)
    session.flush()
    name = draft_of(session, about).name if about is not None else None
    notices.help_requested(archive, session, request, requester, about, name)
    return request


def own_requests(session: Session, user: User | None) -> list[HelpRequest]:
    """The caller's requests, newest first."""
    requester = _requester(user)
    return list(
        session.scalars(
            select(HelpRequest)
            .where(HelpRequest.user_id == requester.id)
            .order_by(HelpRequest.created.desc(), HelpRequest.id.desc())
            .limit(LIST_LIMIT)
        )
    )


def parse_status(value: str | None) -> Status:
    try:
        return Status(value or Status.OPEN)
    except ValueError:
        choices = ", ".join(s.value for s in Status)
        raise BadRequest(f"Unknown status {value!r}; use one of: {choices}.") from None


def list_requests(session: Session, actor: User | None, status: Status) -> list[HelpRequest]:
    """For administrators: the requests of ``status``, newest first."""
    require_admin(actor)
    query = select(HelpRequest)
    if status == Status.OPEN:
        query = query.where(HelpRequest.answered.is_(None))
    elif status == Status.ANSWERED:
        query = query.where(HelpRequest.answered.is_not(None))
    order = (HelpRequest.created.desc(), HelpRequest.id.desc())
    return list(session.scalars(query.order_by(*order).limit(LIST_LIMIT)))


def count_open(session: Session) -> int:
    return (
        session.scalar(select(func.count(HelpRequest.id)).where(HelpRequest.answered.is_(None)))
        or 0
    )


def answer(
    archive: Archive, session: Session, actor: User | None, request_id: int, text: object
) -> HelpRequest:
    """An administrator answers an open request; the requester is mailed the answer."""
    admin = require_admin(actor)
    reply = _text(text, "answer", MAX_ANSWER)
    # Locked: two administrators answering at once send one answer, not two.
    request = session.get(HelpRequest, request_id, with_for_update={"of": HelpRequest})
    if request is None:
        raise NotFound(f"There is no help request {request_id}.")
    if not request.is_open:
        raise BadRequest(f"Help request {request_id} was already answered.")
    request.answer = reply
    request.answered = datetime.now(UTC)
    request.answered_by = admin.id
    session.flush()
    notices.help_answered(archive, session, request, request.user, admin)
    return request


def dandiset_identifier(request: HelpRequest) -> str | None:
    return f"{request.dandiset_id:06d}" if request.dandiset_id is not None else None
