"""Audit history: ``/api/dandisets/{id}/audit/`` (everyone who may read the Dandiset)
and ``/api/audit/events/asset`` (administrators, upstream's feed of asset events)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from dandi_archive.api.deps import SessionDep, UserDep
from dandi_archive.api.pagination import MAX_PAGE_SIZE, PageParams, page_params, paginated
from dandi_archive.audit import history
from dandi_archive.audit.events import KINDS
from dandi_archive.dandisets.dandisets import parse_identifier

router = APIRouter(tags=["audit"])


@router.get("/api/dandisets/{dandiset_id}/audit/", summary="History of a Dandiset, newest first")
def dandiset_audit(
    request: Request,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    params: Annotated[PageParams, Depends(page_params)],
    kind: Annotated[
        str | None, Query(description="Only events of this kind: " + ", ".join(KINDS))
    ] = None,
) -> dict[str, Any]:
    stmt = history.dandiset_history(session, user, parse_identifier(dandiset_id), kind)
    total = history.count(session, stmt)
    events = list(session.scalars(stmt.offset(params.offset).limit(params.page_size)))
    results = [history.public_record(e) for e in events]
    return paginated(request, params, total, results, params.offset + len(events) < total)


@router.get("/api/audit/events/asset", summary="Asset events of every Dandiset (administrators)")
def asset_audit_events(
    request: Request,
    session: SessionDep,
    user: UserDep,
    before: datetime | None = None,
    after: datetime | None = None,
    reverse_order: bool = False,
    cursor: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
) -> dict[str, Any]:
    page = history.asset_feed(
        session,
        user,
        before=before,
        after=after,
        reverse_order=reverse_order,
        cursor=cursor,
        page_size=page_size,
    )

    def link(position: history.Cursor | None) -> str | None:
        if position is None:
            return None
        return str(request.url.include_query_params(cursor=position.encode()))

    return {
        "next": link(page.next),
        "previous": link(page.previous),
        "results": [history.feed_record(e) for e in page.events],
    }
