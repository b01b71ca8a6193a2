"""A version's citation in the formats reference managers import: BibTeX, RIS, CSL-JSON
and CITATION.cff, besides the APA-style text kept in the metadata (``citation``).

Every format is made from one :class:`Work`, read from the version's stored metadata,
so they all name the same authors (the contributors marked ``includeInCitation``, as
the APA text does), title, year, version, DOI (published versions) or URL. Writing is
left to the formats' own libraries where one exists (bibtexparser, rispy, PyYAML).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import bibtexparser
import rispy
import yaml
from bibtexparser import model
from pylatexenc.latexencode import unicode_to_latex

ORCID = re.compile(r"^(https://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[0-9X])$")
# CITATION.cff accepts SPDX identifiers from its list; the archive's two licences are.
CFF_LICENCES = {"CC0-1.0", "CC-BY-4.0", "CC-BY-NC-4.0", "CC-BY-SA-4.0"}


@dataclass(frozen=True)
class Author:
    name: str  # as the metadata says it: "Family, Given" for people
    family: str | None  # None for organisations
    given: str | None
    orcid: str | None  # 0000-0002-1825-0097


@dataclass(frozen=True)
class Work:
    identifier: str  # DANDI:000123
    title: str
    authors: list[Author]
    year: int
    version: str
    doi: str | None
    url: str  # the DOI's URL when there is one, else the version's landing page
    publisher: str
    date_released: str | None  # YYYY-MM-DD, published versions only
    keywords: list[str]
    licences: list[str]  # SPDX identifiers
    description: str


def _author(contributor: dict[str, Any]) -> Author:
    name = " ".join(str(contributor["name"]).split())
    match = ORCID.match(str(contributor.get("identifier") or ""))
    orcid = match[2] if match else None
    if contributor.get("schemaKey") == "Organization":
        return Author(name, None, None, orcid)
    family, comma, given = name.partition(",")
    if not comma:  # not "Family, Given": all of it is the family name, guessing nothing
        return Author(name, name, None, orcid)
    return Author(name, family.strip(), given.strip() or None, orcid)


def work(metadata: dict[str, Any], publisher: str) -> Work:
    """What a citation says, from a version's stored metadata."""
    doi = metadata.get("doi") or None
    created = str(metadata.get("dateCreated") or "")
    published = str(metadata.get("datePublished") or "")
    return Work(
        identifier=str(metadata.get("identifier", "")),
        title=" ".join(str(metadata.get("name", "")).split()),
        authors=[
            _author(c)
            for c in metadata.get("contributor") or []
            if isinstance(c, dict) and c.get("includeInCitation") and c.get("name")
        ],
        # The year the APA text names: the Dandiset's creation.
        year=int(created[:4]) if created[:4].isdigit() else 0,
        version=str(metadata.get("version", "")),
        doi=doi,
        url=f"https://doi.org/{doi}" if doi else str(metadata.get("url", "")),
        publisher=publisher,
        date_released=published[:10] or None,
        keywords=[str(k) for k in metadata.get("keywords") or [] if str(k).strip()],
        licences=[str(x).removeprefix("spdx:") for x in metadata.get("license") or []],
        description=str(metadata.get("description") or ""),
    )


def citation_key(w: Work) -> str:
    """``DANDI_000123_0.230101.0000``: letters, digits, ``_`` and ``.`` only."""
    return re.sub(r"[^A-Za-z0-9_.]+", "_", f"{w.identifier}_{w.version}")


def _tex(text: str) -> str:
    """Text for a BibTeX field: LaTeX specials (``& % _ { }`` …) and accents escaped."""
    return unicode_to_latex(text, unknown_char_policy="keep")


def bibtex(w: Work) -> str:
    authors = [
        f"{_tex(a.family)}, {_tex(a.given)}"
        if a.family and a.given
        else "{" + _tex(a.family or a.name) + "}"  # braced: one name, not split at spaces
        for a in w.authors
    ]
    fields = [
        ("author", " and ".join(authors)),
        ("title", "{" + _tex(w.title) + "}"),  # braced again: styles keep its capitals
        ("year", str(w.year)),
        ("version", _tex(w.version)),
        ("publisher", _tex(w.publisher)),
        ("howpublished", _tex(w.url)),
        ("url", w.url),
    ]
    if w.doi:
        fields.append(("doi", w.doi))
    if w.keywords:
        fields.append(("keywords", _tex(", ".join(w.keywords))))
    entry = model.Entry("misc", citation_key(w), [model.Field(k, v) for k, v in fields if v])
    library = bibtexparser.Library([entry])
    return bibtexparser.write_string(library)


def ris(w: Work) -> str:
    record: dict[str, Any] = {
        "type_of_reference": "DATA",
        "title": w.title,
        "authors": [a.name for a in w.authors],
        "year": str(w.year),
        "edition": w.version,  # RIS has no version tag; reference managers read ET so
        "publisher": w.publisher,
        "urls": [w.url],
        "id": citation_key(w),
    }
    if w.doi:
        record["doi"] = w.doi
    if w.date_released:
        record["date"] = w.date_released.replace("-", "/")
    if w.keywords:
        record["keywords"] = w.keywords
    return rispy.dumps([record], implementation=_RisWriter)


class _RisWriter(rispy.RisWriter):
    """RIS without rispy's numbered line ("1.") before the record, which the format
    does not have and some importers stumble over."""

    def set_header(self, count: int) -> str:
        return ""


def csl_json(w: Work) -> str:
    """A CSL-JSON list of one item (what citeproc and Zotero read)."""
    item: dict[str, Any] = {
        "id": citation_key(w),
        "type": "dataset",
        "title": w.title,
        "author": [
            {"family": a.family, "given": a.given}
            if a.family and a.given
            else {"literal": a.family or a.name}
            for a in w.authors
        ],
        "issued": {"date-parts": [[w.year]]},
        "version": w.version,
        "publisher": w.publisher,
        "URL": w.url,
    }
    if w.doi:
        item["DOI"] = w.doi
    if w.keywords:
        item["keyword"] = ", ".join(w.keywords)
    return json.dumps([item], indent=2, ensure_ascii=False) + "\n"


def cff(w: Work) -> str:
    """CITATION.cff (Citation File Format 1.2.0), YAML."""
    authors: list[dict[str, str]] = []
    for a in w.authors:
        person: dict[str, str] = (
            {"family-names": a.family, **({"given-names": a.given} if a.given else {})}
            if a.family
            else {"name": a.name}
        )
        if a.orcid:
            person["orcid"] = f"https://orcid.org/{a.orcid}"
        authors.append(person)
    doc: dict[str, Any] = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": w.title,
        # The format asks for at least one author; a version naming none is the archive's.
        "authors": authors or [{"name": w.publisher}],
        "version": w.version,
        "url": w.url,
    }
    if w.doi:
        doc["doi"] = w.doi
    if w.date_released:
        doc["date-released"] = w.date_released
    if w.keywords:
        doc["keywords"] = w.keywords
    licences = [x for x in w.licences if x in CFF_LICENCES]
    if licences:
        doc["license"] = licences[0] if len(licences) == 1 else licences
    if w.description.strip():
        doc["abstract"] = w.description.strip()
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


@dataclass(frozen=True)
class Format:
    name: str  # shown on the page
    filename: str  # the last segment of its URL
    media_type: str
    write: Any  # Work -> str


FORMATS: tuple[Format, ...] = (
    Format("BibTeX", "cite.bib", "application/x-bibtex; charset=utf-8", bibtex),
    Format("RIS", "cite.ris", "application/x-research-info-systems; charset=utf-8", ris),
    Format("CSL-JSON", "cite.csl.json", "application/vnd.citationstyles.csl+json", csl_json),
    Format("CITATION.cff", "CITATION.cff", "application/yaml; charset=utf-8", cff),
)
