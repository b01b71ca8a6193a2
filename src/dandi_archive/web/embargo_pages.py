"""Embargo pages: the owners' access panel (readers, access requests, Unembargo) and
the "Request access" page that approved non-owners get instead of a refusal.

Every change is the service call the API makes, with the signed-in user, so these
pages refuse exactly what the API refuses.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import may_request_access, require_owner
from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.dandisets import dandisets as dandiset_service
from dandi_archive.db.models import Dandiset, User
from dandi_archive.embargo import lifting
from dandi_archive.embargo import readers as reader_service
from dandi_archive.embargo import requests as request_service
from dandi_archive.errors import ArchiveError, BadRequest
from dandi_archive.web.session import PostedForm, WebUser, edited_usernames, flash
from dandi_archive.web.templating import render

router = APIRouter(include_in_schema=False)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def request_page(
    request: Request, session: Session, user: User | None, dandiset: Dandiset
) -> Response | None:
    """The page an approved non-owner gets for an embargoed Dandiset they cannot read:
    what it is (no more than its identifier) and a form to ask for access. None when
    the caller may read it, or may not ask (the usual refusal follows)."""
    if not may_request_access(session, dandiset, user):
        return None
    return render(
        request,
        "request_access.html",
        403,
        dandiset=dandiset,
        own_request=request_service.own_request(session, dandiset, user),
        error=None,
        message="",
    )


@router.post("/dandiset/{dandiset_id}/request-access", response_class=HTMLResponse)
def request_access(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    form: PostedForm,
) -> Response:
    message = form.get("message").strip()
    try:
        request_service.request_access(archive, session, user, dandiset_id, message)
    except BadRequest as exc:
        dandiset = dandiset_service.get_dandiset(session, dandiset_id)
        return render(
            request,
            "request_access.html",
            400,
            dandiset=dandiset,
            own_request=request_service.own_request(session, dandiset, user),
            error=exc.message,
            message=message,
        )
    flash(request, "Your request was sent to the owners of this Dandiset.")
    return redirect(f"/dandiset/{dandiset_id}")


# -- the owners' panel ----------------------------------------------------------------------


def _panel(
    request: Request,
    session: Session,
    dandiset: Dandiset,
    status_code: int = 200,
    error: str | None = None,
    username: str = "",
) -> Response:
    return render(
        request,
        "access.html",
        status_code,
        dandiset=dandiset,
        readers=reader_service.readers(session, dandiset),
        requests=request_service.pending_requests(session, dandiset),
        error=error,
        username=username,
    )


@router.get("/dandiset/{dandiset_id}/access", response_class=HTMLResponse)
def access_page(request: Request, session: SessionDep, user: WebUser, dandiset_id: str) -> Response:
    dandiset = dandiset_service.get_dandiset(session, dandiset_id)
    require_owner(session, dandiset, user)
    return _panel(request, session, dandiset)


@router.post("/dandiset/{dandiset_id}/readers", response_class=HTMLResponse)
def change_readers(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    form: PostedForm,
) -> Response:
    dandiset = dandiset_service.get_dandiset(session, dandiset_id)
    require_owner(session, dandiset, user)
    current = [u.username for u in reader_service.readers(session, dandiset)]
    username = form.get("username").strip()
    wanted = edited_usernames(current, form)
    try:
        reader_service.set_readers(
            archive, session, user, dandiset_id, [{"username": u} for u in wanted]
        )
    except BadRequest as exc:
        return _panel(request, session, dandiset, 400, exc.message, username)
    flash(request, "Readers updated.")
    return redirect(f"/dandiset/{dandiset.identifier}/access")


@router.post("/dandiset/{dandiset_id}/access-requests/{request_id}", response_class=HTMLResponse)
def answer_request(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    request_id: int,
    form: PostedForm,
) -> Response:
    dandiset = dandiset_service.get_dandiset(session, dandiset_id)
    require_owner(session, dandiset, user)
    accept = form.get("action") == "accept"
    try:
        answered = request_service.decide(
            archive, session, user, dandiset_id, request_id, accept=accept
        )
    except BadRequest as exc:
        return _panel(request, session, dandiset, 400, exc.message)
    name = answered.user.name or answered.user.username
    flash(request, f"{name} can now read this Dandiset." if accept else "Request declined.")
    return redirect(f"/dandiset/{dandiset.identifier}/access")


@router.post("/dandiset/{dandiset_id}/unembargo", response_class=HTMLResponse)
def unembargo(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    form: PostedForm,
) -> Response:
    dandiset = dandiset_service.get_dandiset(session, dandiset_id)
    require_owner(session, dandiset, user)
    if form.get("confirm") != "yes":
        error = "Tick the box to confirm that the Dandiset becomes public, for good."
        return _panel(request, session, dandiset, 400, error)
    try:
        lifting.request_unembargo(archive, session, user, dandiset_id)
    except ArchiveError as exc:
        return _panel(request, session, dandiset, exc.status_code, exc.message)
    flash(request, "The embargo is being lifted; the Dandiset opens to everyone in a moment.")
    return redirect(f"/dandiset/{dandiset.identifier}")
