"""Dependencies shared by the routers: the archive, a database session, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import inactive_message, is_active
from dandi_archive.accounts import throttle, users, web_sessions
from dandi_archive.db.models import User
from dandi_archive.db.session import run_after_commit_hooks
from dandi_archive.errors import ArchiveError, NotAuthenticated
from dandi_archive.instance import Archive
from dandi_archive.oauth.tokens import user_for_access_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_archive(request: Request) -> Archive:
    # async: FastAPI runs a plain ``def`` dependency on its thread pool, a hand-off per
    # request for what is an attribute read.
    return request.app.state.archive


def get_session(
    request: Request, archive: Annotated[Archive, Depends(get_archive)]
) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent.

    Reads use a plain transaction; everything else a write transaction (on SQLite that
    takes the write lock up front instead of failing half-way).
    """
    write = request.method not in SAFE_METHODS
    session = archive.db.new_session(write)
    try:
        yield session
        session.commit()
    except ArchiveError as exc:
        if exc.keep_changes:
            session.commit()
        else:
            session.rollback()
            session.info["rolled_back"] = True
        raise
    except BaseException:
        session.rollback()
        session.info["rolled_back"] = True
        raise
    finally:
        session.close()
        run_after_commit_hooks(session)


def get_user(
    request: Request, session: Annotated[Session, Depends(get_session, scope="function")]
) -> User | None:
    """The caller, from ``Authorization: token KEY``, ``Authorization: Bearer TOKEN`` (an
    access token the archive gave an application, see oauth/) or the web session."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, key = header.partition(" ")
        scheme = scheme.lower()
        if scheme not in ("token", "bearer") or not key.strip():
            raise NotAuthenticated(
                "Use the header 'Authorization: token <your API key>' "
                "(or 'Authorization: Bearer <access token>')."
            )
        if scheme == "bearer":
            return _bearer_user(request, session, key.strip())
        return _key_user(request, session, key.strip())
    # A browser's sign-in cookie counts for reading only: changes through the API need
    # the key, so a page elsewhere cannot make a signed-in browser change anything.
    if request.method not in SAFE_METHODS:
        return None
    return session_user(request, session)


def _key_user(request: Request, session: Session, key: str) -> User:
    """The owner of an API key. Unknown keys count against the caller's address (429
    once too many; a valid key still works, so one guesser behind a shared address locks
    nobody out: keys are 160 random bits, it is the load that is throttled). A key of a
    rejected account is refused, whatever it owns."""
    user = users.user_for_api_key(session, key)
    if user is None:
        limiter = throttle.of(request)
        limiter.check_api_key(request)
        limiter.api_key_failed(request)
        raise NotAuthenticated("Invalid API key.")
    if not is_active(user):
        raise NotAuthenticated(inactive_message(user))
    return user


def _bearer_user(request: Request, session: Session, token: str) -> User:
    """The person an application's access token acts for, with their own permissions
    (and the rules of ``_key_user``: unknown tokens are throttled, rejected accounts
    refused)."""
    user = user_for_access_token(session, token)
    if user is None:
        limiter = throttle.of(request)
        limiter.check_api_key(request)
        limiter.api_key_failed(request)
        raise NotAuthenticated("Invalid, expired or revoked access token.")
    return user


def session_user(request: Request, session: Session) -> User | None:
    """The user signed in to the web pages, while the server still holds the session
    (see accounts.web_sessions) and the account is active."""
    data = request.scope.get("session") if "session" in request.scope else None
    if not data or not data.get("sid"):
        return None
    return web_sessions.user_of(session, data["sid"])


ArchiveDep = Annotated[Archive, Depends(get_archive)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
UserDep = Annotated[User | None, Depends(get_user)]
