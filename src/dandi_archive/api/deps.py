"""Dependencies shared by the routers: the archive, a database session, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ..archive import Archive
from ..db.models import User
from ..db.session import run_after_commit_hooks
from ..services import accounts, users
from ..services.errors import ArchiveError, NotAuthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_archive(request: Request) -> Archive:
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
    """The caller, from ``Authorization: token KEY`` (or the web session), else None."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "token" or not key.strip():
            raise NotAuthenticated("Use the header 'Authorization: token <your API key>'.")
        user = users.user_for_api_key(session, key.strip())
        if user is None:
            raise NotAuthenticated("Invalid API key.")
        return user
    # A browser's sign-in cookie counts for reading only: changes through the API need
    # the key, so a page elsewhere cannot make a signed-in browser change anything.
    if request.method not in SAFE_METHODS:
        return None
    return session_user(request, session)


def session_user(request: Request, session: Session) -> User | None:
    """The user signed in to the web pages (cookie session), if still valid."""
    data = request.scope.get("session") if "session" in request.scope else None
    if not data or not data.get("user_id"):
        return None
    user = session.get(User, data["user_id"])
    if user is None or data.get("tag") != accounts.session_tag(user):
        return None
    return user


ArchiveDep = Annotated[Archive, Depends(get_archive)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
UserDep = Annotated[User | None, Depends(get_user)]
