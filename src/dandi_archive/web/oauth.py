"""The provider's authorization endpoint, a page: who is asking for whom, and whether
they agree.

A request is first checked as a whole (client, exact redirect URI, PKCE, scopes);
one that cannot be sent back to its client is a page for the person. Then: not signed
in, to the sign-in page and back here; an account not approved, a page saying why; a
client an administrator trusts, straight back with a code; anyone else, the consent page,
whose form (CSRF-protected) carries the request again and is checked again.
"""

from __future__ import annotations

from urllib.parse import quote

from authlib.oauth2.rfc6749 import AccessDeniedError, OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dandi_archive.access.permissions import require_may_sign_in_elsewhere
from dandi_archive.accounts import web_sessions
from dandi_archive.api.deps import ArchiveDep
from dandi_archive.api.oauth import public_request, to_response
from dandi_archive.db.models import User, UserStatus
from dandi_archive.errors import NotAuthenticated, PermissionDenied
from dandi_archive.instance import Archive
from dandi_archive.oauth import claims, provider
from dandi_archive.oauth.provider import Consent, HttpRequest, Provider
from dandi_archive.web.session import PostedForm, current_session_token, web_user
from dandi_archive.web.templating import render

router = APIRouter(include_in_schema=False)

# Fields of the consent form that are the archive's, not the client's request.
OWN_FIELDS = frozenset({"csrf_token", "decision"})


@router.get(provider.AUTHORIZE_PATH, response_class=HTMLResponse)
def authorize(request: Request, archive: ArchiveDep) -> Response:
    http = public_request(request, archive.settings.webui_url, [])
    return _authorize(request, archive, http, decision=None)


@router.post(provider.AUTHORIZE_PATH, response_class=HTMLResponse)
def decide(request: Request, archive: ArchiveDep, form: PostedForm) -> Response:
    pairs = [(k, v) for k, values in form.values.items() if k not in OWN_FIELDS for v in values]
    http = public_request(request, archive.settings.webui_url, pairs)
    return _authorize(request, archive, http, decision=form.get("decision"))


def _authorize(
    request: Request, archive: Archive, http: HttpRequest, decision: str | None
) -> Response:
    # One transaction that may write, GET included: a trusted client gets its code at once.
    with archive.db.session(write=True) as session:
        user = web_user(request, session)
        if user is None and decision is not None:
            raise NotAuthenticated("Sign in to the archive, then start again from the application.")
        auth_time = web_sessions.started(session, current_session_token(request))
        server = Provider(archive, session, auth_time=auth_time)
        try:
            consent = provider.validate_authorization(server, http, user)
        except OAuth2Error as error:
            if error.redirect_uri:  # the client is known, and where it listens
                return to_response(provider.error_response(server, http, error))
            return _invalid_request_page(request, error)
        if user is None:
            return RedirectResponse(_sign_in_url(request), status_code=303)
        try:
            require_may_sign_in_elsewhere(user)
        except PermissionDenied as exc:
            if "none" in consent.prompt:  # no page may be shown: tell the client
                return to_response(provider.refuse(server, consent, AccessDeniedError()))
            return _waiting_page(request, consent, user, exc.message)
        if decision is not None:
            agreed = user if decision == "allow" else None
            return to_response(provider.answer(server, consent, agreed))
        if not consent.needs_consent:
            return to_response(provider.answer(server, consent, user))
        if "none" in consent.prompt:
            return to_response(provider.refuse(server, consent, ConsentRequiredError()))
        return _consent_page(request, consent, user, http)


def _sign_in_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(here, safe='')}"


def _consent_page(request: Request, consent: Consent, user: User, http: HttpRequest) -> Response:
    page = render(
        request,
        "oauth_consent.html",
        client_name=consent.client.name,
        username=user.username,
        seen=claims.descriptions(consent.scope),
        redirect_uri=consent.grant.redirect_uri,
        params=[(k, v) for k, v in [*http.query, *http.form] if k not in OWN_FIELDS],
    )
    # Never inside another site's frame: a hidden "Allow" button is a stolen consent.
    page.headers["X-Frame-Options"] = "DENY"
    page.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return page


def _waiting_page(request: Request, consent: Consent, user: User, message: str) -> Response:
    return render(
        request,
        "oauth_waiting.html",
        403,
        client_name=consent.client.name,
        message=message,
        incomplete=user.status == UserStatus.INCOMPLETE,
    )


def _invalid_request_page(request: Request, error: OAuth2Error) -> Response:
    reason = error.description or error.error or "it is malformed"
    message = (
        f"The application that sent you here asked for something this archive cannot "
        f"accept ({error.error}: {reason}). Nothing was shared with it. If this keeps "
        "happening, tell the application's maintainers."
    )
    return render(
        request, "error.html", 400, title="Invalid sign-in request", message=message, status=400
    )
