"""Jinja2 environment, filters and the ``render`` helper every page uses."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from dandi_archive.dandisets.metadata import instance_name
from dandi_archive.web import session as web_session
from dandi_archive.web.validation_text import problems

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))


def filesize(size: int | None) -> str:
    """Bytes in SI units, as dandiarchive.org shows them (1 kB = 1000 B)."""
    value = float(size or 0)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if value < 1000 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} PB"


def date(moment: datetime | str | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):
        return moment[:10]
    return moment.strftime("%Y-%m-%d")


def number(value: int | None) -> str:
    return f"{value or 0:,}"


def query_url(path: str, params: dict[str, Any], **changes: Any) -> str:
    """``path`` with ``params`` updated by ``changes`` (None removes a parameter)."""
    merged = {**params, **changes}
    pairs = []
    for key, value in merged.items():
        if value is None or value == "" or value == []:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return f"{path}?{urlencode(pairs)}" if pairs else path


def breakable(path: str | None) -> Markup:
    """A path or file name that may wrap after each ``/`` and ``_`` (a ``<wbr>`` there),
    rather than in the middle of a word."""
    text = str(escape(path or ""))
    return Markup(re.sub(r"([/_])", r"\1<wbr>", text))  # the text is escaped above


# The file browser's icon of a file, by how its name ends (a Zarr is a folder of many
# objects, but one asset).
KIND_ENDINGS = (
    ("nwb", (".nwb",)),
    ("zarr", (".zarr", ".ngff")),
    ("video", (".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv")),
    ("image", (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".bmp", ".webp", ".svg")),
)
KIND_LABELS = {"nwb": "NWB file", "zarr": "Zarr", "video": "video", "image": "image"}


def file_kind(name: str) -> str:
    lowered = name.lower()
    for kind, endings in KIND_ENDINGS:
        if lowered.endswith(endings):
            return kind
    return "file"


def icon(kind: str) -> Markup:
    """An icon of static/icons.svg; decorative (the name beside it says what it is)."""
    return Markup(
        f'<svg class="icon icon-{escape(kind)}" aria-hidden="true" focusable="false">'
        f'<use href="/static/icons.svg#i-{escape(kind)}"></use></svg>'
    )


def id_prefix() -> str:
    """What precedes a Dandiset's number in its identifier (``DANDI:``, ``DANDI-ADHOC:``):
    dandischema's instance name, as the metadata's ``identifier`` says it."""
    return f"{instance_name()}:"


templates.env.filters.update(
    filesize=filesize,
    date=date,
    number=number,
    breakable=breakable,
    problems=problems,
    file_kind=file_kind,
)
templates.env.globals.update(query_url=query_url, id_prefix=id_prefix, icon=icon)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user", getattr(request.state, "web_user", None))
    context["support_email"] = request.app.state.archive.settings.support_email
    context["hub_url"] = request.app.state.archive.settings.hub_root
    context["logo_src"] = request.app.state.archive.settings.logo_src
    context["csrf_token"] = web_session.csrf_token(request)
    context["messages"] = web_session.pop_messages(request)
    return templates.TemplateResponse(request, template, context, status_code=status_code)
