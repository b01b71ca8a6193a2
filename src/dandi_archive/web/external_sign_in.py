"""Sign-in with GitHub or ORCID: send the person to the provider, take them back.

The OAuth 2 client is authlib's Starlette integration: it makes the one-time ``state``,
keeps it (with what the sign-in was for) in the signed session cookie, so only the
browser that started a sign-in can finish it, and exchanges the returned code for a
token. Which account the identity belongs to is accounts.external_sign_in's business.
"""

from __future__ import annotations

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError, StarletteOAuth2App
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dandi_archive.accounts import external_sign_in as external
from dandi_archive.api.deps import ArchiveDep
from dandi_archive.db.models import User, UserStatus
from dandi_archive.errors import ArchiveError, NotFound
from dandi_archive.instance import Archive
from dandi_archive.web.questionnaire import QUESTIONNAIRE_URL
from dandi_archive.web.session import WebUser, flash, safe_next, sign_in
from dandi_archive.web.templating import render

router = APIRouter(include_in_schema=False)

NOT_STARTED = "This sign-in was not started here or has expired; try again."


def _client(archive: Archive, name: str) -> tuple[external.Provider, StarletteOAuth2App]:
    provider = external.providers(archive.settings).get(name)
    if provider is None:
        raise NotFound(f"Sign-in with {name!r} is not set up on this archive.")
    # A registry per request, not per process: the settings are the archive's (and a
    # registration is a few dictionary entries; authlib opens a connection per call anyway).
    return provider, OAuth().register(**provider.registration())


def _callback_url(archive: Archive, name: str) -> str:
    return f"{archive.settings.webui_url}/login/{name}/callback"


@router.get("/login/{name}")
async def start(request: Request, archive: ArchiveDep, name: str, next: str = "/") -> Response:
    _, client = _client(archive, name)
    redirect_uri = _callback_url(archive, name)
    found = await client.create_authorization_url(redirect_uri)
    await client.save_authorize_data(
        request, redirect_uri=redirect_uri, next=safe_next(next), **found
    )
    return RedirectResponse(found["url"], status_code=303)


@router.get("/login/{name}/callback")
async def finish(
    request: Request, archive: ArchiveDep, user: WebUser, name: str, state: str = ""
) -> Response:
    provider, client = _client(archive, name)
    # The state is checked first, and used up whatever the provider said: one try each.
    started = await client.framework.get_state_data(request.session, state)
    if started is None:
        return _failed(request, archive, NOT_STARTED)
    try:
        identity = await _identity(request, provider, client)
    except external.SignInFailed as exc:
        return _failed(request, archive, str(exc))
    finally:
        await client.framework.clear_state_data(request.session, state)
    # The database is not async: connect the account on a worker thread.
    user_id = user.id if user is not None else None
    return await run_in_threadpool(
        _connect, request, archive, user_id, identity, safe_next(started.get("next"))
    )


async def _identity(
    request: Request, provider: external.Provider, client: StarletteOAuth2App
) -> external.Identity:
    """Exchange the code the person came back with for who they are."""
    query = request.query_params
    if not query.get("error") and not query.get("code"):
        raise external.SignInFailed(f"{provider.label} did not sign you in: no authorization code.")
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        reason = exc.description or exc.error or "no reason given"
        if query.get("error"):  # sent back with an error instead of a code
            raise external.SignInFailed(
                f"{provider.label} did not sign you in: {reason}."
            ) from None
        # GitHub reports a bad code with 200 and an "error" field, others with a 4xx.
        raise external.SignInFailed(f"{provider.label} refused the sign-in: {reason}.") from None
    except (httpx.HTTPError, ValueError) as exc:
        raise external.SignInFailed(f"{provider.label} could not be reached ({exc}).") from None
    return await provider.identity(client, token)


def _connect(
    request: Request,
    archive: Archive,
    user_id: int | None,
    identity: external.Identity,
    target: str,
) -> Response:
    with archive.db.session(write=True) as session:
        signed_in = session.get(User, user_id) if user_id is not None else None
        try:
            account = external.account_for(session, identity, signed_in)
        except ArchiveError as exc:
            session.rollback()  # nothing connected, no account made
            return _failed(request, archive, exc.message)
        sign_in(request, session, account)
        approved = account.is_approved
        incomplete = account.status == UserStatus.INCOMPLETE
    if incomplete:
        return RedirectResponse(QUESTIONNAIRE_URL, status_code=303)
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
