"""The helpdesk pages: write to the administrators (``/help/``), read one's own
questions and their answers (``/help/requests``), and the administrators' list where
they answer (``/admin/help``). Every change is a ``helpdesk.requests`` call with the
signed-in user; bad input gives the form back, with what was typed and why it failed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.db.models import User
from dandi_archive.errors import BadRequest, NotAuthenticated
from dandi_archive.helpdesk import requests as helpdesk
from dandi_archive.web.session import PostedForm, WebUser, flash
from dandi_archive.web.templating import render

router = APIRouter(include_in_schema=False)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _desk(
    request: Request, status_code: int = 200, error: str | None = None, **form: str
) -> Response:
    return render(
        request,
        "help.html",
        status_code,
        error=error,
        form=form,
        limits={"subject": helpdesk.MAX_SUBJECT, "message": helpdesk.MAX_MESSAGE},
    )


@router.get("/help/", response_class=HTMLResponse)
def help_page(request: Request, user: WebUser, dandiset: str = "") -> Response:
    """Whom to ask, and (signed in) the form; ``?dandiset=`` fills in what it is about."""
    return _desk(request, dandiset=dandiset[:40])


@router.post("/help/", response_class=HTMLResponse)
def submit(
    request: Request, archive: ArchiveDep, session: SessionDep, user: WebUser, form: PostedForm
) -> Response:
    values = {k: form.get(k) for k in ("subject", "message", "dandiset")}
    if user is None:
        raise NotAuthenticated("Sign in to write to the administrators.")
    try:
        helpdesk.submit(archive, session, user, **values)
    except BadRequest as exc:
        return _desk(request, 400, exc.message, **values)
    flash(request, "Your request was sent to the administrators; their answer comes by mail.")
    return redirect("/help/requests")


@router.get("/help/requests", response_class=HTMLResponse)
def my_requests(request: Request, session: SessionDep, user: WebUser) -> Response:
    mine = helpdesk.own_requests(session, user)
    return render(request, "help_requests.html", requests=mine)


def _admin_page(
    request: Request,
    session: Session,
    user: User | None,
    status: str | None,
    status_code: int = 200,
    error: str | None = None,
    answering: int | None = None,
    answer: str = "",
) -> Response:
    chosen = helpdesk.parse_status(status)
    listed = helpdesk.list_requests(session, user, chosen)
    return render(
        request,
        "admin_help.html",
        status_code,
        requests=listed,
        status=chosen.value,
        statuses=[s.value for s in helpdesk.Status],
        open_count=helpdesk.count_open(session),
        error=error,
        answering=answering,
        answer=answer,
        max_answer=helpdesk.MAX_ANSWER,
    )


@router.get("/admin/help", response_class=HTMLResponse)
def admin_help(
    request: Request, session: SessionDep, user: WebUser, status: str = "open"
) -> Response:
    return _admin_page(request, session, user, status)


@router.post("/admin/help/{help_id}", response_class=HTMLResponse)
def admin_answer(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    help_id: int,
    form: PostedForm,
) -> Response:
    text = form.get("answer")
    try:
        answered = helpdesk.answer(archive, session, user, help_id, text)
    except BadRequest as exc:
        return _admin_page(request, session, user, "open", 400, exc.message, help_id, text)
    flash(request, f"Answer sent to {answered.user.email}.")
    return redirect("/admin/help")
