"""Full-text search over the handbook's pages, with a snippet around the first match.

Every word of the query must begin a word of the page (as the Dandiset search does);
pages rank by where the words are (title, headings, text) and how often. The pages are
few and small, so each search reads them all: no index to keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dandi_archive.handbook.pages import all_pages
from dandi_archive.handbook.values import InstanceValues

WORD = re.compile(r"[^\W_]+")
SNIPPET_CHARS = 220
MAX_WORDS = 10


@dataclass(frozen=True)
class Hit:
    slug: str
    title: str
    section: str
    score: int
    snippet: tuple[tuple[str, bool], ...]  # text pieces; True: a matched word


def query_words(query: str) -> list[str]:
    return [w.lower() for w in WORD.findall(query)][:MAX_WORDS]


def search(query: str, values: InstanceValues) -> list[Hit]:
    words = query_words(query)
    if not words:
        return []
    hits = []
    for page in all_pages():
        text = plain_text(values.substitute(page.source))
        page_words = [w.lower() for w in WORD.findall(text)]
        counts = [sum(1 for pw in page_words if pw.startswith(w)) for w in words]
        if not all(counts):
            continue
        title_words = [w.lower() for w in WORD.findall(page.title)]
        in_title = sum(1 for w in words if any(t.startswith(w) for t in title_words))
        score = 20 * in_title + sum(min(c, 10) for c in counts)
        hits.append(Hit(page.slug, page.title, page.section, score, snippet(text, words)))
    return sorted(hits, key=lambda hit: -hit.score)


def plain_text(markdown: str) -> str:
    """What a reader sees of a page, near enough for matching and snippets."""
    text = re.sub(r"^```.*$", "", markdown, flags=re.MULTILINE)  # fence lines
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links, images
    text = re.sub(r"^\s{0,3}(#{1,6}|[-*+]|\d+\.|>|\|?-{3,}.*)\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"[`*_|]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def snippet(text: str, words: list[str]) -> tuple[tuple[str, bool], ...]:
    """About SNIPPET_CHARS characters around the first word that matches, each matching
    word marked (the template escapes the text and highlights the marked pieces)."""
    pattern = re.compile(
        r"\b(?:" + "|".join(re.escape(w) for w in words) + r")[^\W_]*", re.IGNORECASE
    )
    first = pattern.search(text)
    start = max(0, (first.start() if first else 0) - SNIPPET_CHARS // 3)
    if start:  # begin at a word
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = min(len(text), start + SNIPPET_CHARS)
    window = text[start:end]
    pieces: list[tuple[str, bool]] = [("… ", False)] if start else []
    position = 0
    for match in pattern.finditer(window):
        if match.start() > position:
            pieces.append((window[position : match.start()], False))
        pieces.append((match.group(), True))
        position = match.end()
    pieces.append((window[position:] + (" …" if end < len(text) else ""), False))
    return tuple(pieces)
