"""Page-number pagination as api.dandiarchive.org does it: ``page`` (1-based) and
``page_size`` (a larger one is served as 1000, as upstream's paginator does) in,
``{count, next, previous, results}`` out, where ``next`` is this URL with ``page``
replaced, so clients can fetch pages in parallel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PAGE_SIZE = 1000
# Bounds OFFSET ((page - 1) * page_size) far below 64 bits: a larger page was a 500.
MAX_PAGE = 1_000_000
T = TypeVar("T")


@dataclass
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1")] = 1,
    page_size: Annotated[
        int, Query(ge=1, description="Results per page (a larger value is served as 1000)")
    ] = 100,
) -> PageParams:
    return PageParams(page, clamp_page_size(page_size, MAX_PAGE_SIZE))


def clamp_page_size(page_size: int, maximum: int) -> int:
    """Upstream (DRF's ``max_page_size``) serves an oversized page at the maximum rather
    than refusing it; clients such as backups ask for ``page_size=10000`` and page on."""
    return min(page_size, maximum)


class Page(BaseModel, Generic[T]):
    count: int | None
    next: str | None
    previous: str | None
    results: list[T]


def page_links(
    request: Request, params: PageParams, has_next: bool
) -> tuple[str | None, str | None]:
    def link(page: int) -> str:
        return str(request.url.include_query_params(page=page))

    following = link(params.page + 1) if has_next else None
    previous = link(params.page - 1) if params.page > 1 else None
    return following, previous


def paginated(
    request: Request, params: PageParams, count: int | None, results: list[Any], has_next: bool
) -> dict[str, Any]:
    following, previous = page_links(request, params, has_next)
    return {"count": count, "next": following, "previous": previous, "results": results}


def counted_page(session: Session, stmt: Select, params: PageParams) -> tuple[int, list[Any]]:
    """How many rows ``stmt`` selects, and this page of them, in one query: the count
    rides along each row as a window (the filters, a search's above all, are evaluated
    once, not again by a separate COUNT). Only a page past the end asks for the count.

    ``stmt`` selects one entity, without DISTINCT or GROUP BY (each row counts once)."""
    rows = session.execute(
        stmt.add_columns(func.count().over()).offset(params.offset).limit(params.page_size)
    ).all()
    if rows:
        return int(rows[0][1]), [row[0] for row in rows]
    if params.offset == 0:
        return 0, []
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return int(count or 0), []
