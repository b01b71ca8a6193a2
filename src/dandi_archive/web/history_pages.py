"""A Dandiset's History page: who changed what and when, newest first, from the audit
events (``audit.history``), with the same visibility as ``/api/dandisets/{id}/audit/``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from dandi_archive.api.deps import SessionDep
from dandi_archive.audit import history
from dandi_archive.audit.events import KINDS
from dandi_archive.dandisets import dandisets as dandiset_service
from dandi_archive.db.models import AuditEvent
from dandi_archive.web.session import WebUser
from dandi_archive.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50

# What each kind of event says, for people.
LABELS = {
    "create_dandiset": "created the Dandiset",
    "change_owners": "changed the owners",
    "update_metadata": "edited the metadata",
    "add_asset": "added a file",
    "update_asset": "updated a file",
    "remove_asset": "removed a file",
    "create_zarr": "created a Zarr",
    "upload_zarr_chunks": "uploaded Zarr files",
    "delete_zarr_chunks": "deleted Zarr files",
    "finalize_zarr": "finalized a Zarr",
    "unembargo_dandiset": "lifted the embargo",
    "publish_dandiset": "published a version",
    "delete_dandiset": "deleted the Dandiset",
    "withdraw_version": "withdrew a version",
    "grant_read_access": "gave read access",
    "revoke_read_access": "took back read access",
    "request_access": "asked for read access",
    "accept_access_request": "accepted an access request",
    "decline_access_request": "declined an access request",
}


def _people(entries: list[dict[str, str]]) -> str:
    return ", ".join(p.get("name") or p.get("username", "") for p in entries)


def summary(event: AuditEvent) -> str:
    """One line of what the event changed (the API has the whole record)."""
    d: dict[str, Any] = event.details or {}
    kind = event.kind
    if kind in ("add_asset", "update_asset", "remove_asset"):
        return d.get("path", "")
    if kind == "update_metadata":
        diff = d.get("diff") or {}
        fields = [*diff.get("added", {}), *diff.get("changed", {}), *diff.get("removed", {})]
        return "fields: " + ", ".join(sorted(fields)) if fields else ""
    if kind == "change_owners":
        parts = []
        if d.get("added_owners"):
            parts.append("added " + _people(d["added_owners"]))
        if d.get("removed_owners"):
            parts.append("removed " + _people(d["removed_owners"]))
        return "; ".join(parts)
    if kind in ("publish_dandiset", "withdraw_version"):
        return f"version {d.get('version', '')}"
    if kind in ("upload_zarr_chunks", "delete_zarr_chunks"):
        return f"{d.get('path_count', 0)} files"
    if kind == "create_zarr":
        return d.get("name", "")
    if kind in ("grant_read_access", "revoke_read_access"):
        return _people(d.get("readers", []))
    if kind in ("accept_access_request", "decline_access_request"):
        return _people([d["requester"]]) if d.get("requester") else ""
    if kind == "create_dandiset":
        return d.get("name", "") + (" (embargoed)" if d.get("embargoed") else "")
    return ""


@router.get("/dandiset/{dandiset_id}/history", response_class=HTMLResponse)
def history_page(
    request: Request,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    kind: str | None = Query(None),
    page: int = Query(1, ge=1, le=100_000),
) -> Response:
    dandiset = dandiset_service.get_readable_dandiset(session, dandiset_id, user)
    kind = kind or None
    stmt = history.dandiset_history(session, user, dandiset.id, kind)
    total = history.count(session, stmt)
    events = list(session.scalars(stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return render(
        request,
        "history.html",
        dandiset=dandiset,
        rows=[(e, LABELS.get(e.kind, e.kind), summary(e)) for e in events],
        kinds=[(k, LABELS[k]) for k in KINDS],
        kind=kind,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
    )
