"""What a signed-in visitor does on a landing page: star or unstar the Dandiset, and
write to its owners. Each is the service the API calls, with the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from dandi_archive.access.permissions import require_approved
from dandi_archive.accounts import throttle
from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.dandisets import contact, stars
from dandi_archive.errors import BadRequest
from dandi_archive.web.session import PostedForm, WebUser, flash, safe_next

router = APIRouter(include_in_schema=False)


def _back(dandiset_id: str, form_next: str, anchor: str) -> RedirectResponse:
    """Back to the Dandiset's page (the version the form was on), or to "My Dandisets"
    when unstarring there; never anywhere else."""
    target = safe_next(form_next, f"/dandiset/{dandiset_id}").partition("#")[0]
    if target == "/my-dandisets":
        anchor = "starred"
    elif not target.startswith(f"/dandiset/{dandiset_id}"):
        target = f"/dandiset/{dandiset_id}"
    return RedirectResponse(f"{target}#{anchor}", status_code=303)


@router.post("/dandiset/{dandiset_id}/star")
def star(
    request: Request, session: SessionDep, user: WebUser, dandiset_id: str, form: PostedForm
) -> Response:
    action = form.get("action")
    if action not in ("star", "unstar"):
        raise BadRequest("Choose star or unstar.")
    change = stars.star if action == "star" else stars.unstar
    count = change(session, user, dandiset_id)
    done = "Starred" if action == "star" else "Star removed"
    flash(request, f"{done}: this Dandiset has {count} star{'s' if count != 1 else ''}.")
    return _back(dandiset_id, form.get("next"), "star")


@router.post("/dandiset/{dandiset_id}/contact")
def contact_owners(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    form: PostedForm,
) -> Response:
    sender = require_approved(user)
    limits = throttle.of(request)
    limits.check_contact_owners(sender.id)
    try:
        count = contact.contact_owners(archive, session, sender, dandiset_id, form.get("message"))
    except BadRequest as exc:
        if exc.status_code != 400:
            raise
        flash(request, exc.message, "error")
        return _back(dandiset_id, form.get("next"), "contact")
    limits.contacted_owners(sender.id)
    owners = "owner" if count == 1 else f"{count} owners"
    flash(request, f"Your message is on its way to the {owners}; they answer you by mail.")
    return _back(dandiset_id, form.get("next"), "contact")
