"""The handbook's pages: the table of contents, and each page's Markdown, rendered.

Markdown is rendered by markdown-it-py with raw HTML off (a page cannot carry a script
or a tag of its own), tables on, and an ``id`` on every heading so the page's own
contents can link to its sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import pairwise

from markdown_it import MarkdownIt
from markdown_it.token import Token

from dandi_archive.errors import NotFound
from dandi_archive.handbook.values import InstanceValues

# Sections and their pages, in reading order (each page is pages/<slug>.md).
CONTENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Start here", ("index", "help")),
    ("Using data", ("find", "download", "stream", "hub", "bucket", "cite")),
    ("Sharing data", ("account", "create", "upload", "metadata", "embargo", "publish")),
    (
        "Running an archive",
        ("install", "production", "backups", "dois", "integrity", "monitoring", "settings"),
    ),
)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class Page:
    slug: str
    section: str
    title: str
    source: str  # Markdown, placeholders not yet substituted


@dataclass(frozen=True)
class RenderedPage:
    page: Page
    html: str
    headings: tuple[Heading, ...]


@dataclass(frozen=True)
class CodeBlock:
    page: str
    language: str
    tested: bool
    text: str
    # Further words of the info string: ``postgres`` marks a block run against a
    # PostgreSQL archive (tests/backup), not the embedded one the other blocks use.
    options: tuple[str, ...] = ()


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


@cache
def all_pages() -> tuple[Page, ...]:
    folder = resources.files(__package__) / "pages"
    pages = []
    for section, slugs in CONTENTS:
        for slug in slugs:
            source = (folder / f"{slug}.md").read_text(encoding="utf-8")
            pages.append(Page(slug, section, _title(source, slug), source))
    return tuple(pages)


def get_page(slug: str) -> Page:
    for page in all_pages():
        if page.slug == slug:
            return page
    raise NotFound(f"The handbook has no page {slug!r}.")


def _title(source: str, slug: str) -> str:
    first = source.lstrip().splitlines()[0] if source.strip() else ""
    if not first.startswith("# "):
        raise ValueError(f"handbook page {slug}.md must start with a '# Title' line")
    if "{{" in first:  # titles appear in the contents, where nothing is substituted
        raise ValueError(f"handbook page {slug}.md: no placeholder in the title")
    return first[2:].strip()


@lru_cache(maxsize=256)
def render(slug: str, values: InstanceValues) -> RenderedPage:
    """The page as HTML, with this instance's values in place."""
    page = get_page(slug)
    md = _markdown()
    tokens = md.parse(values.substitute(page.source))
    headings = _anchor_headings(tokens)
    html = md.renderer.render(tokens, md.options, {})
    return RenderedPage(page, html, tuple(headings))


def _anchor_headings(tokens: list[Token]) -> list[Heading]:
    """Give each heading an id (unique on the page); the h2/h3 ones are listed."""
    seen: set[str] = set()
    headings = []
    for opening, inline in pairwise(tokens):
        if opening.type != "heading_open":
            continue
        text = inline.content
        anchor = base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
        number = 1
        while anchor in seen:
            number += 1
            anchor = f"{base}-{number}"
        seen.add(anchor)
        opening.attrSet("id", anchor)
        level = int(opening.tag[1])
        if level in (2, 3):
            headings.append(Heading(level, _plain(text), anchor))
    return headings


def _plain(text: str) -> str:
    """Inline Markdown as plain text (code spans, emphasis and links unwrapped)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[`*_]", "", text)


def code_blocks(values: InstanceValues) -> list[CodeBlock]:
    """Every fenced block of every page, in reading order, with values substituted.
    A block is *tested* when its info string says so (```console tested)."""
    blocks = []
    md = _markdown()
    for page in all_pages():
        for token in md.parse(values.substitute(page.source)):
            if token.type != "fence":
                continue
            words = token.info.split()
            language = words[0] if words else ""
            options = tuple(words[1:])
            blocks.append(
                CodeBlock(page.slug, language, "tested" in options, token.content, options)
            )
    return blocks
