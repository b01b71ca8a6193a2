"""Who is signed in, flash messages and CSRF tokens, all kept in the session cookie."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from dandi_archive.accounts import web_sessions
from dandi_archive.api.deps import SessionDep, session_user
from dandi_archive.db.models import User, UserStatus
from dandi_archive.errors import PermissionDenied


def _data(request: Request) -> dict:
    return request.session if "session" in request.scope else {}


@dataclass(frozen=True)
class Viewer:
    """What templates show of the signed-in user; a copy, so error pages can still show
    it after the request's transaction was rolled back."""

    id: int
    email: str
    name: str
    is_admin: bool
    is_approved: bool
    status: UserStatus


def web_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user (or None); a copy is kept on the request for the templates."""
    user = session_user(request, session)
    if user is None and _data(request).get("sid"):
        _data(request).pop("sid", None)  # ended: signed out elsewhere, new password, ...
    request.state.web_user = (
        Viewer(user.id, user.email, user.name, user.is_admin, user.is_approved, user.status)
        if user is not None
        else None
    )
    return user


WebUser = Annotated[User | None, Depends(web_user)]


def sign_in(request: Request, session: Session, user: User) -> None:
    """Start a server-side session and put its token in the cookie."""
    token = web_sessions.start(session, user)
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in
    request.session["sid"] = token


def current_session_token(request: Request) -> str | None:
    sid = _data(request).get("sid")
    return sid if isinstance(sid, str) else None


def sign_out(request: Request, session: Session) -> None:
    """End the session on the server too: a copy of the cookie is worthless after."""
    web_sessions.end(session, _data(request).get("sid"))
    request.session.clear()


def csrf_token(request: Request) -> str:
    data = _data(request)
    if "csrf" not in data and "session" in request.scope:
        data["csrf"] = secrets.token_urlsafe(32)
    return data.get("csrf", "")


def check_csrf(request: Request, token: str | None) -> None:
    expected = _data(request).get("csrf")
    if not expected or not token or not secrets.compare_digest(expected, token):
        raise PermissionDenied(
            "This form has expired or did not come from this site. Reload the page and retry."
        )


class Form:
    """A posted form: ``get`` gives one value (stripped of nothing), ``getlist`` all."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self.values = values

    def get(self, key: str, default: str = "") -> str:
        found = self.values.get(key)
        return found[0] if found else default

    def getlist(self, key: str) -> list[str]:
        return list(self.values.get(key, []))

    def keys(self) -> list[str]:
        return list(self.values)


async def posted_form(request: Request) -> Form:
    """The form of a POST, after checking its CSRF token."""
    form = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value)
    check_csrf(request, (values.get("csrf_token") or [None])[0])
    return Form(values)


PostedForm = Annotated[Form, Depends(posted_form)]


def flash(request: Request, message: str, kind: str = "info") -> None:
    request.session.setdefault("messages", []).append([kind, message])


def pop_messages(request: Request) -> list[list[str]]:
    return _data(request).pop("messages", []) if "session" in request.scope else []


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths, so a sign-in link cannot send people to another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def edited_usernames(current: list[str], form: Form) -> list[str]:
    """A list of usernames (owners, readers) after a form's "add" or "remove" of one."""
    username = form.get("username").strip()
    if form.get("action") == "remove":
        return [u for u in current if u != username]
    return [*current, username] if username and username not in current else current
