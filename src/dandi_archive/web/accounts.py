"""Sign-up, sign-in and out, the account page with the API key, and approving users."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api.deps import ArchiveDep, SessionDep
from ..archive import Archive
from ..db.models import UserStatus
from ..services import accounts, external_sign_in, users
from ..services.errors import NotAuthenticated, PermissionDenied
from .session import PostedForm, WebUser, flash, safe_next, sign_in, sign_out
from .templating import render

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
    sign_in(request, user)
    flash(request, "Welcome! An administrator will approve your account soon.")
    return redirect("/account")


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
    try:
        user = accounts.authenticate(session, email, form.get("password"))
    except (NotAuthenticated, PermissionDenied) as exc:
        return render(
            request,
            "login.html",
            400,
            form={"email": email},
            error=exc.message,
            next=target,
            providers=_providers(archive),
        )
    sign_in(request, user)
    return redirect(target)


@router.post("/logout")
def logout(request: Request, form: PostedForm) -> Response:
    sign_out(request)
    return redirect("/")


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        raise NotAuthenticated()
    key = users.get_or_create_api_key(session, user) if user.is_approved else None
    return render(request, "account.html", account=user, api_key=key)


@router.post("/account/api-key")
def regenerate_key(
    request: Request, session: SessionDep, user: WebUser, form: PostedForm
) -> Response:
    from ..services.permissions import require_approved

    users.regenerate_api_key(session, require_approved(user))
    flash(request, "A new API key replaces the old one; update it where you used it.")
    return redirect("/account")


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, session: SessionDep, user: WebUser) -> Response:
    listed = accounts.list_users(session, user)
    return render(request, "admin_users.html", accounts=listed)


@router.post("/admin/users/{user_id}")
def admin_set_status(
    request: Request, session: SessionDep, user: WebUser, user_id: int, form: PostedForm
) -> Response:
    action = form.get("action")
    status = {"approve": UserStatus.APPROVED, "reject": UserStatus.REJECTED}.get(action)
    if status is None:
        flash(request, "Choose approve or reject.", "error")
        return redirect("/admin/users")
    changed = accounts.set_status(session, user, user_id, status)
    flash(request, f"{changed.email} is now {status.value.lower()}.")
    return redirect("/admin/users")
