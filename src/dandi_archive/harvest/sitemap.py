"""``/sitemap.xml`` (https://www.sitemaps.org/protocol.html): the home page, every open
Dandiset's page and every published version's page, for search engines' crawlers."""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement, tostring

from sqlalchemy import select
from sqlalchemy.orm import Session

from dandi_archive.db.models import Dandiset, EmbargoStatus
from dandi_archive.harvest import records

NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# The protocol's limit per file; past it a sitemap index would be needed.
MAX_URLS = 50_000


def sitemap(session: Session, web_url: str) -> bytes:
    root = Element("urlset", xmlns=NS)
    count = 0

    def add(loc: str, lastmod: str | None = None) -> bool:
        nonlocal count
        if count == MAX_URLS:
            return False
        url = SubElement(root, "url")
        SubElement(url, "loc").text = loc
        if lastmod:
            SubElement(url, "lastmod").text = lastmod
        count += 1
        return True

    add(f"{web_url}/")
    dandisets = session.execute(
        select(Dandiset.id, Dandiset.modified)
        .where(Dandiset.embargo_status == EmbargoStatus.OPEN)
        .order_by(Dandiset.id)
    )
    for dandiset_id, modified in dandisets:
        if not add(f"{web_url}/dandiset/{dandiset_id:06d}", modified.date().isoformat()):
            break
    for record in records.records(session):
        if record.deleted:
            continue
        landing = f"{web_url}/dandiset/{record.dandiset_id:06d}/{record.version}"
        if not add(landing, record.datestamp.date().isoformat()):
            break
    return tostring(root, encoding="utf-8", xml_declaration=True)
