"""Owner tools: create a Dandiset, edit the draft's metadata, manage owners.

Every change goes through the same service call the API makes, with the signed-in
user, so the pages refuse exactly what the API refuses.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import require_approved, require_owner
from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.dandisets import dandisets as dandiset_service
from dandi_archive.dandisets import metadata as md
from dandi_archive.dandisets import versions as version_service
from dandi_archive.db.models import Dandiset, User
from dandi_archive.errors import ArchiveError, BadRequest
from dandi_archive.publishing import publish as publish_service
from dandi_archive.web import metadata_form, metadata_json
from dandi_archive.web.session import PostedForm, WebUser, edited_usernames, flash
from dandi_archive.web.templating import render

router = APIRouter(include_in_schema=False)
LICENSES = ("spdx:CC-BY-4.0", "spdx:CC0-1.0")
PUBLISHING_REFRESH_SECONDS = 2
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- create ----------------------------------------------------------------------------------


@router.get("/dandiset/new", response_class=HTMLResponse)
def new_page(request: Request, user: WebUser) -> Response:
    require_approved(user)
    return _new_page(request, {}, {})


def _new_page(
    request: Request, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Response:
    return render(
        request,
        "dandiset_new.html",
        status_code,
        form=values,
        errors=errors,
        licenses=LICENSES,
        default_embargo_end=dandiset_service.default_embargo_end().isoformat(),
    )


@router.post("/dandiset/new", response_class=HTMLResponse)
def create(
    request: Request, archive: ArchiveDep, session: SessionDep, user: WebUser, form: PostedForm
) -> Response:
    values = {k: form.get(k).strip() for k in ("name", "description", "license", "embargo_end")}
    values["embargo"] = form.get("embargo")
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Give the Dandiset a title."
    if values["license"] and values["license"] not in LICENSES:
        errors["license"] = "Choose one of the licenses offered."
    end_date = None
    if values["embargo"] and values["embargo_end"]:
        from datetime import date

        try:
            # Only the form the label names (fromisoformat also takes 20270630, 2027-W26).
            if not ISO_DATE.fullmatch(values["embargo_end"]):
                raise ValueError(values["embargo_end"])
            end_date = date.fromisoformat(values["embargo_end"])
        except ValueError:
            example = dandiset_service.default_embargo_end().isoformat()
            errors["embargo_end"] = f"Enter a date as YYYY-MM-DD, e.g. {example}."
    if errors:
        return _new_page(request, values, errors, 400)
    metadata: dict[str, Any] = {}
    if values["description"]:
        metadata["description"] = values["description"]
    if values["license"]:
        metadata["license"] = [values["license"]]
    try:
        dandiset = dandiset_service.create_dandiset(
            archive,
            session,
            user,
            values["name"],
            metadata,
            embargo=bool(values["embargo"]),
            embargo_end_date=end_date,
        ).dandiset
    except BadRequest as exc:
        key = "embargo_end" if "embargo" in exc.message else "name"
        return _new_page(request, values, {key: exc.message}, 400)
    flash(request, f"Dandiset {dandiset.identifier} created. Now describe it.")
    return redirect(f"/dandiset/{dandiset.identifier}/draft/edit")


# -- edit metadata --------------------------------------------------------------------------


def _owned_draft(session: Session, user: User | None, dandiset_id: str) -> tuple[Dandiset, Any]:
    dandiset = dandiset_service.get_dandiset(session, dandiset_id)
    require_owner(session, dandiset, user)
    return dandiset, dandiset_service.draft_of(session, dandiset)


def _edit_page(
    request: Request,
    dandiset: Dandiset,
    draft: Any,
    title: str,
    metadata: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
    unsaved: bool = False,
) -> Response:
    tree, unplaced = metadata_form.fields(title, metadata, errors)
    return render(
        request,
        "metadata_edit.html",
        status_code,
        dandiset=dandiset,
        version=draft,
        fields=tree,
        problems=metadata_form.problems(tree),
        unplaced=unplaced,
        error_count=len(errors),
        unsaved=unsaved,
    )


@router.get("/dandiset/{dandiset_id}/draft/edit", response_class=HTMLResponse)
def edit_page(request: Request, session: SessionDep, user: WebUser, dandiset_id: str) -> Response:
    dandiset, draft = _owned_draft(session, user, dandiset_id)
    # The same judgement as the validation job, now, so the form shows what blocks publishing.
    errors = metadata_form.precise_errors(
        draft.metadata_, md.validate_version_metadata(draft.metadata_)
    )
    return _edit_page(request, dandiset, draft, draft.name, draft.metadata_, errors)


@router.post("/dandiset/{dandiset_id}/draft/edit", response_class=HTMLResponse)
def edit(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    form: PostedForm,
) -> Response:
    dandiset, draft = _owned_draft(session, user, dandiset_id)
    if form.get("_add") or form.get("_remove") or form.get("_render"):
        # Add or remove a list entry, or show an earlier state again (Undo, in
        # metadata_undo.js): the form again, nothing is saved yet.
        if form.get("_remove"):
            form = metadata_form.remove_item(form, form.get("_remove"))
        title, metadata, field_errors = metadata_form.parse(form, draft.metadata_, keep_blank=True)
        if form.get("_add"):
            metadata_form.add_item(metadata, form.get("_add"))
        errors = [{"field": k, "message": v} for k, v in field_errors.items()]
        return _edit_page(request, dandiset, draft, title, metadata, errors, unsaved=True)
    title, metadata, field_errors = metadata_form.parse(form, draft.metadata_)
    if field_errors:
        errors = [{"field": k, "message": v} for k, v in field_errors.items()]
        return _edit_page(request, dandiset, draft, title, metadata, errors, 400, unsaved=True)
    try:
        version_service.update_draft_metadata(
            archive, session, user, dandiset_id, "draft", title, metadata
        )
    except BadRequest as exc:
        field = "name" if "name" in exc.message else ""
        errors = [{"field": field, "message": exc.message}]
        return _edit_page(request, dandiset, draft, title, metadata, errors, 400, unsaved=True)
    flash(request, "Saved.")
    return redirect(f"/dandiset/{dandiset.identifier}/draft/edit")


def _json_page(
    request: Request,
    dandiset: Dandiset,
    draft: Any,
    text: str,
    problems: list[tuple[str, str]],
    status_code: int = 200,
    unreadable: metadata_json.Unreadable | None = None,
) -> Response:
    return render(
        request,
        "metadata_json.html",
        status_code,
        dandiset=dandiset,
        version=draft,
        text=text,
        problems=problems,
        unsaved=status_code != 200,
        unreadable=unreadable,
    )


@router.get("/dandiset/{dandiset_id}/draft/edit/json", response_class=HTMLResponse)
def edit_json_page(
    request: Request, session: SessionDep, user: WebUser, dandiset_id: str
) -> Response:
    dandiset, draft = _owned_draft(session, user, dandiset_id)
    errors = metadata_form.precise_errors(
        draft.metadata_, md.validate_version_metadata(draft.metadata_)
    )
    text = metadata_json.dumps(draft.metadata_)
    return _json_page(request, dandiset, draft, text, metadata_json.problems(errors))


@router.post("/dandiset/{dandiset_id}/draft/edit/json", response_class=HTMLResponse)
def edit_json(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    form: PostedForm,
) -> Response:
    """Save the whole document typed as JSON; the same service call as the form's."""
    dandiset, draft = _owned_draft(session, user, dandiset_id)
    text = form.get("metadata")
    try:
        metadata = metadata_json.read(text)
    except metadata_json.Unreadable as exc:
        return _json_page(request, dandiset, draft, text, [], 400, unreadable=exc)
    kept = metadata_json.kept_as_set(metadata, draft.metadata_)
    try:
        version_service.update_draft_metadata(
            archive, session, user, dandiset_id, "draft", None, metadata
        )
    except version_service.WrongTypes as exc:
        errors = metadata_form.precise_errors(metadata, exc.errors)
        return _json_page(request, dandiset, draft, text, metadata_json.problems(errors), 400)
    except BadRequest as exc:
        field = "name" if "name" in exc.message else ""
        problems = metadata_json.problems([{"field": field, "message": exc.message}])
        return _json_page(request, dandiset, draft, text, problems, 400)
    flash(request, "Saved.")
    if kept:
        flash(
            request,
            f"Kept as the archive sets them (not edited by hand): {', '.join(kept)}.",
            "warning",
        )
    return redirect(f"/dandiset/{dandiset.identifier}/draft/edit/json")


# -- owners -------------------------------------------------------------------------------


@router.get("/dandiset/{dandiset_id}/owners", response_class=HTMLResponse)
def owners_page(request: Request, session: SessionDep, user: WebUser, dandiset_id: str) -> Response:
    from dandi_archive.access.permissions import is_owner

    dandiset = dandiset_service.get_readable_dandiset(session, dandiset_id, user)
    return render(
        request,
        "owners.html",
        dandiset=dandiset,
        owners=dandiset_service.owners(session, dandiset),
        is_owner=is_owner(session, dandiset.id, user) and user is not None and user.is_approved,
        error=None,
        username="",
    )


@router.post("/dandiset/{dandiset_id}/owners", response_class=HTMLResponse)
def set_owners(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    form: PostedForm,
) -> Response:
    dandiset = dandiset_service.get_readable_dandiset(session, dandiset_id, user)
    current = [u.username for u in dandiset_service.owners(session, dandiset)]
    wanted = edited_usernames(current, form)
    try:
        dandiset_service.set_owners(
            archive, session, user, dandiset_id, [{"username": u} for u in wanted]
        )
    except BadRequest as exc:
        return render(
            request,
            "owners.html",
            400,
            dandiset=dandiset,
            owners=dandiset_service.owners(session, dandiset),
            is_owner=True,
            error=exc.message,
            username=form.get("username"),
        )
    flash(request, "Owners updated.")
    return redirect(f"/dandiset/{dandiset.identifier}/owners")


# -- publish ------------------------------------------------------------------------------


@router.get("/dandiset/{dandiset_id}/publish", response_class=HTMLResponse)
def publish_page(
    request: Request, session: SessionDep, user: WebUser, dandiset_id: str
) -> Response:
    dandiset, draft = _owned_draft(session, user, dandiset_id)
    return render(
        request,
        "publish.html",
        dandiset=dandiset,
        version=draft,
        errors=version_service.asset_validation_errors(session, draft),
        notes="",
        error=None,
        refusal=publish_service.publish_refusal(session, dandiset, draft),
    )


@router.get("/dandiset/{dandiset_id}/publishing", response_class=HTMLResponse)
def publishing_page(
    request: Request, session: SessionDep, user: WebUser, dandiset_id: str, version: str = ""
) -> Response:
    """Where "Publish now" leads: the new version once it exists, until then a page that
    says publishing is under way and looks again every few seconds."""
    dandiset = dandiset_service.get_readable_dandiset(session, dandiset_id, user)
    state = publish_service.publication_state(session, dandiset, version)
    if state == "published":
        flash(request, f"Published: this is version {version}, final and citable.")
        return redirect(f"/dandiset/{dandiset.identifier}/{version}")
    if state == "refused":
        flash(request, "The draft was not published: see what blocks publishing.", "error")
        return redirect(f"/dandiset/{dandiset.identifier}/draft")
    return render(
        request,
        "publishing.html",
        dandiset=dandiset,
        version=version,
        refresh_seconds=PUBLISHING_REFRESH_SECONDS,
    )


@router.post("/dandiset/{dandiset_id}/publish", response_class=HTMLResponse)
def publish(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    form: PostedForm,
) -> Response:
    dandiset, draft = _owned_draft(session, user, dandiset_id)
    notes = form.get("release_notes").strip()
    if form.get("confirm") != "yes":
        error = "Tick the box to confirm that this version is final."
    else:
        try:
            draft = publish_service.request_publish(
                archive, session, user, dandiset_id, notes or None
            )
        except ArchiveError as exc:
            error = exc.message
        else:
            version = draft.publish_request["version"]
            return redirect(f"/dandiset/{dandiset.identifier}/publishing?version={version}")
    return render(
        request,
        "publish.html",
        400,
        dandiset=dandiset,
        version=draft,
        errors=version_service.asset_validation_errors(session, draft),
        notes=notes,
        error=error,
        refusal=None,
    )
