"""Home and search pages, and the instance's logo."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.config import LOGO_TYPES
from dandi_archive.dandisets.stats import archive_stats
from dandi_archive.errors import BadRequest, NotFound
from dandi_archive.search import query as search_service
from dandi_archive.search.index import FACETS
from dandi_archive.web.session import WebUser
from dandi_archive.web.templating import render

router = APIRouter(include_in_schema=False)

FACET_LABELS = {
    "species": "Species",
    "approach": "Approach",
    "technique": "Measurement technique",
    "standard": "Data standard",
    "datatype": "BIDS datatype",
    "license": "License",
    "embargo": "Access",
}
SORT_LABELS = {
    "": "Best match",
    "name": "Name",
    "modified": "Recently modified",
    "size": "Size",
    "downloads": "Most downloaded",
}
PAGE_SIZE = 20


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, user: WebUser) -> HTMLResponse:
    # Empty drafts (made and never filled) would otherwise crowd out real data.
    recent = search_service.search(
        session, user, search_service.SearchQuery(sort="modified", page_size=6, hide_empty=True)
    )
    popular = search_service.search(
        session,
        user,
        search_service.SearchQuery(
            sort="downloads", page_size=6, with_facets=False, hide_empty=True
        ),
    )
    return render(
        request,
        "home.html",
        stats=archive_stats(session),
        recent=recent.hits,
        # Sorted by downloads, so the ones never downloaded are the page's last ones.
        popular=[hit for hit in popular.hits if hit.downloads > 0],
        species=recent.facets.get("species", [])[:8],
    )


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, session: SessionDep, user: WebUser) -> HTMLResponse:
    params = request.query_params
    filters = {f: params.getlist(f) for f in (*FACETS, "embargo") if params.getlist(f)}
    text = params.get("q", "")[:500]
    chosen_sort = params.get("sort", "")
    # Empty Dandisets are left out unless asked for: the form's checkbox follows a hidden
    # "hide_empty=0", so only an unticked box (or a link saying so) leaves "0" alone.
    show_empty = params.getlist("hide_empty") == ["0"]
    # Without a choice: best match for words, else the most recently changed first.
    sort = chosen_sort or ("relevance" if text else "modified")
    try:
        page = min(max(1, int(params.get("page", "1"))), search_service.MAX_PAGE)
    except ValueError:
        page = 1
    query = search_service.SearchQuery(
        text=text,
        filters=filters,
        sort=sort,
        page=page,
        page_size=PAGE_SIZE,
        hide_empty=not show_empty,
    )
    error = None
    try:
        result = search_service.search(session, user, query)
    except BadRequest as exc:
        error = exc.message
        query = search_service.SearchQuery(
            text=text, page_size=PAGE_SIZE, hide_empty=not show_empty
        )
        result = search_service.search(session, user, query)
    state = {"q": text, "sort": chosen_sort, "hide_empty": "0" if show_empty else "", **filters}
    pages = max(1, -(-result.count // PAGE_SIZE))
    return render(
        request,
        "search.html",
        result=result,
        state=state,
        error=error,
        page=query.page,
        pages=pages,
        facet_labels=FACET_LABELS,
        sort_labels=SORT_LABELS,
    )


@router.get("/logo")
def logo(archive: ArchiveDep) -> Response:
    """The logo file the settings name (``DANDI_ARCHIVE_LOGO``), for the page header."""
    configured = archive.settings.logo
    if not configured or configured.startswith(("https://", "http://")):
        raise NotFound("This archive has no logo file; its name is its logo.")
    path = Path(configured)
    if not path.is_file():  # moved away since the archive started
        raise NotFound("The logo file is missing on the server.")
    return FileResponse(
        path,
        media_type=LOGO_TYPES[path.suffix.lower()],
        # An SVG opened on its own must not run scripts in the archive's origin.
        headers={"Content-Security-Policy": "script-src 'none'", "Cache-Control": "max-age=3600"},
    )
