"""Sign-in with GitHub or ORCID: send the person to the provider, take them back."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from dandi_archive.accounts import external_sign_in as external
from dandi_archive.api.deps import ArchiveDep
from dandi_archive.db.models import User
from dandi_archive.errors import ArchiveError, NotFound
from dandi_archive.instance import Archive
from dandi_archive.web.session import WebUser, flash, safe_next, sign_in
from dandi_archive.web.templating import render

router = APIRouter(include_in_schema=False)


def _provider(archive: Archive, name: str) -> external.Provider:
    found = external.providers(archive.settings).get(name)
    if found is None:
        raise NotFound(f"Sign-in with {name!r} is not set up on this archive.")
    return found


def _callback_url(archive: Archive, name: str) -> str:
    return f"{archive.settings.webui_url}/login/{name}/callback"


@router.get("/login/{name}")
def start(request: Request, archive: ArchiveDep, name: str, next: str = "/") -> Response:
    provider = _provider(archive, name)
    state = secrets.token_urlsafe(24)
    # Kept in the signed session cookie: only this browser can finish this sign-in.
    request.session["oauth"] = {"provider": name, "state": state, "next": safe_next(next)}
    url = provider.authorization_url(_callback_url(archive, name), state)
    return RedirectResponse(url, status_code=303)


@router.get("/login/{name}/callback")
def finish(
    request: Request,
    archive: ArchiveDep,
    user: WebUser,
    name: str,
    code: str = "",
    state: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    provider = _provider(archive, name)
    started = request.session.pop("oauth", None) or {}
    target = started.get("next", "/")
    # Compared as bytes: compare_digest refuses str with non-ASCII characters.
    expected = str(started.get("state", "")).encode()
    if started.get("provider") != name or not secrets.compare_digest(expected, state.encode()):
        return _failed(
            request, archive, "This sign-in was not started here or has expired; try again."
        )
    if error or not code:
        reason = error_description or error or "no authorization code"
        return _failed(request, archive, f"{provider.label} did not sign you in: {reason}.")
    try:
        identity = provider.identity(code, _callback_url(archive, name))
    except external.SignInFailed as exc:
        return _failed(request, archive, str(exc))
    with archive.db.session(write=True) as session:
        signed_in = session.get(User, user.id) if user is not None else None
        try:
            account = external.account_for(session, identity, signed_in)
        except ArchiveError as exc:
            session.rollback()  # nothing connected, no account made
            return _failed(request, archive, exc.message)
        sign_in(request, session, account)
        approved = account.is_approved
    if not approved:
        flash(request, "Welcome! An administrator will approve your account soon.")
    return RedirectResponse(target if approved else "/account", status_code=303)


def _failed(request: Request, archive: Archive, message: str) -> Response:
    return render(
        request,
        "login.html",
        400,
        form={},
        error=message,
        next="/",
        providers=external.configured(archive.settings),
    )
