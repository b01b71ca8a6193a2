"""Pages of a forgotten password: ask for a link by mail, then set a new password.

The link's page is sent with ``Referrer-Policy: no-referrer`` and ``no-store``: its
address holds the token, which must reach no other site and no cache.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dandi_archive.accounts import password_reset, throttle
from dandi_archive.accounts.registration import InvalidFields
from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.errors import TooManyRequests
from dandi_archive.instance import Archive
from dandi_archive.web.session import PostedForm, flash
from dandi_archive.web.templating import render

FORGOT_PATH = "/password/forgot"
router = APIRouter(include_in_schema=False)


@router.get(FORGOT_PATH, response_class=HTMLResponse)
def forgot_page(request: Request, archive: ArchiveDep) -> Response:
    return _forgot(request, archive, 200)


@router.post(FORGOT_PATH, response_class=HTMLResponse)
def forgot(
    request: Request, archive: ArchiveDep, session: SessionDep, form: PostedForm
) -> Response:
    email = form.get("email").strip()
    if "@" not in email or len(email) > 254:
        return _forgot(request, archive, 400, email=email, error="Enter your email address.")
    try:
        throttle.of(request).password_reset(request, email)
    except TooManyRequests as exc:
        page = _forgot(request, archive, 429, email=email, error=exc.message)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    password_reset.request_reset(archive, session, email)
    # The same answer whether or not an account uses this address.
    return _forgot(request, archive, 200, email=email, sent=True)


def _forgot(
    request: Request,
    archive: Archive,
    status: int,
    *,
    email: str = "",
    error: str | None = None,
    sent: bool = False,
) -> Response:
    hours = archive.settings.password_reset_hours
    return render(
        request, "password_forgot.html", status, email=email, error=error, sent=sent, hours=hours
    )


@router.get(password_reset.RESET_PATH, response_class=HTMLResponse)
def reset_page(
    request: Request, archive: ArchiveDep, session: SessionDep, token: str = ""
) -> Response:
    try:
        account = password_reset.user_for_token(archive.settings, session, token)
    except password_reset.InvalidResetLink as exc:
        return _reset(request, 400, token="", error=exc.message)
    return _reset(request, 200, token=token, email=account.email)


@router.post(password_reset.RESET_PATH, response_class=HTMLResponse)
def reset(request: Request, archive: ArchiveDep, session: SessionDep, form: PostedForm) -> Response:
    token = form.get("token")
    try:
        password_reset.reset_password(
            archive, session, token, form.get("password"), form.get("password2")
        )
    except password_reset.InvalidResetLink as exc:
        return _reset(request, 400, token="", error=exc.message)
    except InvalidFields as exc:
        account = password_reset.user_for_token(archive.settings, session, token)
        return _reset(request, 400, token=token, email=account.email, errors=exc.fields)
    flash(request, "Your new password is set; sign in with it.")
    return RedirectResponse("/login", status_code=303)


def _reset(
    request: Request,
    status: int,
    *,
    token: str,
    email: str = "",
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    page = render(
        request,
        "password_reset.html",
        status,
        token=token,
        email=email,
        error=error,
        errors=errors or {},
        forgot_url=FORGOT_PATH,
    )
    page.headers["Referrer-Policy"] = "no-referrer"
    page.headers["Cache-Control"] = "no-store"
    return page
