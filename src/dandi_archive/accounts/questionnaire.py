"""The sign-up questionnaire (upstream's questions), and the approval it leads to.

A new account is INCOMPLETE until its owner answers; the first answers make it
APPROVED when a sign-in provider verified its address and the address ends with one of
the configured domains, else PENDING for an administrator. Answering again later only
updates the answers: it never changes a decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from dandi_archive.access.permissions import inactive_message, is_active
from dandi_archive.accounts.registration import InvalidFields
from dandi_archive.db.models import User, UserStatus
from dandi_archive.errors import NotAuthenticated, PermissionDenied
from dandi_archive.mail import notices

if TYPE_CHECKING:
    from dandi_archive.instance import Archive


@dataclass(frozen=True)
class Question:
    text: str  # upstream keys the stored answers by the question's text
    max_length: int


FIRST_NAME = Question("First Name", 100)
LAST_NAME = Question("Last Name", 100)
QUESTIONS: tuple[Question, ...] = (
    FIRST_NAME,
    LAST_NAME,
    Question("Affiliation(s)", 1000),
    Question("Lab/project website", 1000),
    Question("Please describe how your research project will utilize DANDI resources.", 1000),
)


def require_signed_in(user: User | None) -> User:
    if user is None:
        raise NotAuthenticated()
    if not is_active(user):
        raise PermissionDenied(inactive_message(user))
    return user


def current_answers(user: User) -> dict[str, str]:
    """What the form shows: the stored answers, else the name split into first and last."""
    if user.questionnaire:
        return {q.text: str(user.questionnaire.get(q.text) or "") for q in QUESTIONS}
    first, _, last = user.name.strip().partition(" ")
    return {FIRST_NAME.text: first, LAST_NAME.text: last.strip()}


def validate(form: Mapping[str, str]) -> dict[str, str]:
    """Every question answered, none too long (upstream's form requires all of them)."""
    answers = {q.text: (form.get(q.text) or "").strip() for q in QUESTIONS}
    problems: dict[str, str] = {}
    for q in QUESTIONS:
        if not answers[q.text]:
            problems[q.text] = "Please answer this question."
        elif len(answers[q.text]) > q.max_length:
            problems[q.text] = f"Use at most {q.max_length} characters."
    if problems:
        raise InvalidFields(problems)
    return answers


def auto_approves(user: User, suffixes: tuple[str, ...]) -> bool:
    """Whether the account's address approves it: only an address a provider verified,
    since anyone can type any address into the sign-up form."""
    return user.email_verified and user.email.strip().lower().endswith(suffixes)


def submit(archive: Archive, session: Session, user: User | None, form: Mapping[str, str]) -> User:
    """Store the answers; on the first answers, decide approval (see module docstring).
    An account left waiting is in the administrators' next digest of sign-ups."""
    user = require_signed_in(user)
    answers = validate(form)
    user.questionnaire = answers
    user.name = f"{answers[FIRST_NAME.text]} {answers[LAST_NAME.text]}"[:255]
    if user.status == UserStatus.INCOMPLETE:
        suffixes = archive.settings.auto_approve_suffixes
        user.status = UserStatus.APPROVED if auto_approves(user, suffixes) else UserStatus.PENDING
        if user.status == UserStatus.PENDING:
            notices.signup_awaits_approval(archive, session)
    session.flush()
    return user
