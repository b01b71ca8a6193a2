"""The handbook's pages at /handbook/: a page, its section's contents, and search."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dandi_archive.api.deps import ArchiveDep
from dandi_archive.handbook import pages, search
from dandi_archive.handbook.values import InstanceValues, instance_values
from dandi_archive.instance import Archive
from dandi_archive.web.templating import render

router = APIRouter(include_in_schema=False)


def values_of(archive: Archive) -> InstanceValues:
    return instance_values(archive.settings, archive.store.public_url(""))


def contents() -> list[tuple[str, list[pages.Page]]]:
    grouped: dict[str, list[pages.Page]] = {}
    for page in pages.all_pages():
        grouped.setdefault(page.section, []).append(page)
    return list(grouped.items())


@router.get("/handbook", response_class=RedirectResponse)
def handbook_root() -> RedirectResponse:
    return RedirectResponse("/handbook/", status_code=308)


@router.get("/handbook/", response_class=HTMLResponse)
def handbook_index(request: Request, archive: ArchiveDep) -> HTMLResponse:
    return _page(request, archive, "index")


@router.get("/handbook/search", response_class=HTMLResponse)
def handbook_search(request: Request, archive: ArchiveDep, q: str = "") -> HTMLResponse:
    text = q[:200]
    hits = search.search(text, values_of(archive)) if text.strip() else []
    return render(
        request,
        "handbook_search.html",
        contents=contents(),
        current=None,
        q=text,
        hits=hits,
        values=values_of(archive),
    )


@router.get("/handbook/{slug}", response_class=HTMLResponse)
def handbook_page(request: Request, archive: ArchiveDep, slug: str) -> HTMLResponse:
    if slug == "index":
        return RedirectResponse("/handbook/", status_code=301)  # type: ignore[return-value]
    return _page(request, archive, slug)


def _page(request: Request, archive: ArchiveDep, slug: str) -> HTMLResponse:
    values = values_of(archive)
    page = pages.render(slug, values)
    return render(
        request,
        "handbook.html",
        contents=contents(),
        current=slug,
        page=page,
        values=values,
    )
