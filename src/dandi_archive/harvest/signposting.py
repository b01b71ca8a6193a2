"""FAIR Signposting (https://signposting.org/FAIR/): typed links in a landing page's
``Link`` header, so a machine that lands on the page finds the persistent identifier,
the metadata, the licence and the files without scraping HTML."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Files beyond this many are not linked one by one (Signposting's advice for large
# items: point at the metadata, which lists them all).
MAX_ITEMS = 50
SPDX = "https://spdx.org/licenses/"


@dataclass(frozen=True)
class Item:
    url: str
    media_type: str | None


def _link(url: str, rel: str, media_type: str | None = None, profile: str | None = None) -> str:
    typed = f'; type="{media_type}"' if media_type else ""
    typed += f'; profile="{profile}"' if profile else ""
    return f'<{url}>; rel="{rel}"{typed}'


def licence_url(licence: str) -> str:
    """``spdx:CC-BY-4.0`` -> the SPDX page of that licence."""
    return SPDX + licence.split(":", 1)[-1]


def link_header(
    *,
    landing_url: str,
    described_by: Iterable[tuple[str, str] | tuple[str, str, str]],
    doi: str | None,
    licences: Iterable[str],
    items: Iterable[Item],
) -> str:
    links = [
        _link(f"https://doi.org/{doi}" if doi else landing_url, "cite-as"),
        # (URL, media type[, profile]): an RO-Crate is JSON-LD of the RO-Crate profile.
        *(_link(link[0], "describedby", *link[1:]) for link in described_by),
        _link("https://schema.org/Dataset", "type"),
        _link("https://schema.org/AboutPage", "type"),
    ]
    links += [_link(licence_url(licence), "license") for licence in licences]
    for n, item in enumerate(items):
        if n == MAX_ITEMS:
            break
        links.append(_link(item.url, "item", item.media_type))
    return ", ".join(links)
