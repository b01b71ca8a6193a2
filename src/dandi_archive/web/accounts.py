"""Sign-up, sign-in and out, the account page with the API key, and approving users."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dandi_archive.accounts import external_sign_in, throttle, users
from dandi_archive.accounts import registration as accounts
from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.dandisets import dandisets as dandiset_service
from dandi_archive.dandisets import stars
from dandi_archive.db.models import UserStatus
from dandi_archive.errors import (
    ArchiveError,
    NotAuthenticated,
    PermissionDenied,
    TooManyRequests,
)
from dandi_archive.instance import Archive
from dandi_archive.web.questionnaire import QUESTIONNAIRE_URL
from dandi_archive.web.session import (
    PostedForm,
    WebUser,
    current_session_token,
    flash,
    safe_next,
    sign_in,
    sign_out,
)
from dandi_archive.web.templating import render

router = APIRouter(include_in_schema=False)


def _providers(archive: Archive) -> list[external_sign_in.Provider]:
    return external_sign_in.configured(archive.settings)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, archive: ArchiveDep, user: WebUser) -> Response:
    if user is not None:
        return redirect("/account")
    return render(request, "signup.html", form={}, errors={}, providers=_providers(archive))


@router.post("/signup", response_class=HTMLResponse)
def signup(
    request: Request, archive: ArchiveDep, session: SessionDep, form: PostedForm
) -> Response:
    values = {k: form.get(k) for k in ("email", "name")}
    try:
        user = accounts.sign_up(
            session, values["email"], values["name"], form.get("password"), form.get("password2")
        )
    except accounts.InvalidFields as exc:
        return render(
            request,
            "signup.html",
            400,
            form=values,
            errors=exc.fields,
            providers=_providers(archive),
        )
    sign_in(request, session, user)
    return redirect(QUESTIONNAIRE_URL)  # the account is INCOMPLETE until answered


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, archive: ArchiveDep, user: WebUser, next: str = "/") -> Response:
    if user is not None:
        return redirect(safe_next(next))
    return render(
        request,
        "login.html",
        form={},
        error=None,
        next=safe_next(next),
        providers=_providers(archive),
    )


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, archive: ArchiveDep, session: SessionDep, form: PostedForm) -> Response:
    email, target = form.get("email"), safe_next(form.get("next"))
    limiter = throttle.of(request)
    try:
        limiter.check_sign_in(request, email)
        user = accounts.authenticate(session, email, form.get("password"))
    except TooManyRequests as exc:
        page = _login_failed(request, archive, exc, email, target)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except NotAuthenticated as exc:
        limiter.sign_in_failed(request, email)
        return _login_failed(request, archive, exc, email, target)
    except PermissionDenied as exc:
        return _login_failed(request, archive, exc, email, target)
    sign_in(request, session, user)
    return redirect(target)


def _login_failed(
    request: Request, archive: Archive, exc: ArchiveError, email: str, target: str
) -> Response:
    return render(
        request,
        "login.html",
        exc.status_code if isinstance(exc, TooManyRequests) else 400,
        form={"email": email},
        error=exc.message,
        next=target,
        providers=_providers(archive),
    )


@router.post("/logout")
def logout(request: Request, session: SessionDep, form: PostedForm) -> Response:
    sign_out(request, session)
    return redirect("/")


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        raise NotAuthenticated()
    key = users.get_or_create_api_key(session, user) if user.is_approved else None
    owned = dandiset_service.owned_dandisets(session, user)
    return render(request, "account.html", account=user, api_key=key, owned=owned)


@router.get("/my-dandisets", response_class=HTMLResponse)
def my_dandisets(request: Request, session: SessionDep, user: WebUser) -> Response:
    owned = dandiset_service.owned_dandisets(session, user)
    starred = stars.starred_dandisets(session, user)
    return render(request, "my_dandisets.html", owned=owned, starred=starred)


@router.post("/account/api-key")
def regenerate_key(
    request: Request, session: SessionDep, user: WebUser, form: PostedForm
) -> Response:
    from dandi_archive.access.permissions import require_approved

    users.regenerate_api_key(
        session, require_approved(user), keep_session=current_session_token(request)
    )
    flash(request, "A new API key replaces the old one; update it where you used it.")
    return redirect("/account")


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, session: SessionDep, user: WebUser) -> Response:
    listed = accounts.list_users(session, user)
    return render(request, "admin_users.html", accounts=listed)


@router.post("/admin/users/{user_id}")
def admin_set_status(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    user_id: int,
    form: PostedForm,
) -> Response:
    action = form.get("action")
    status = {"approve": UserStatus.APPROVED, "reject": UserStatus.REJECTED}.get(action)
    if status is None:
        flash(request, "Choose approve or reject.", "error")
        return redirect("/admin/users")
    reason = accounts.check_reason(form.get("reason")) if status == UserStatus.REJECTED else ""
    if status == UserStatus.REJECTED and form.get("confirm") != "yes":
        target = accounts.get_user(session, user, user_id)
        if target.status == UserStatus.APPROVED:
            # Rejecting someone already at work signs them out and stops their key: a
            # second, deliberate step rather than one click next to "Approve".
            return render(request, "admin_reject_confirm.html", account=target, reason=reason)
    changed = accounts.set_status(archive, session, user, user_id, status, reason)
    flash(request, f"{changed.email} is now {status.value.lower()}; they are told by mail.")
    return redirect("/admin/users")
