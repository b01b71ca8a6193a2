"""The metadata formats a record is disseminated in: Dublin Core and DataCite XML.

Both are written from the version's own metadata: ``oai_dc`` directly, ``oai_datacite``
from the DataCite attributes dandischema derives (the same ones sent to DataCite), so
what harvesters read matches what the DOI says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from dandi_archive.harvest.records import Record

log = logging.getLogger(__name__)

XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
DATACITE = "http://datacite.org/schema/kernel-4"


@dataclass(frozen=True)
class Format:
    prefix: str
    schema: str
    namespace: str
    # The record's metadata element, or None when this record has none in this format.
    write: Callable[[Record, str, str], Element | None]


def _text(parent: Element, tag: str, text: Any, **attrs: str) -> Element | None:
    if text in (None, ""):
        return None
    child = SubElement(parent, tag, attrs)
    child.text = str(text)
    return child


def _authors(metadata: dict[str, Any]) -> list[str]:
    people = metadata.get("contributor") or []
    authors = [c["name"] for c in people if "dcite:Author" in (c.get("roleName") or [])]
    return authors or [c["name"] for c in people if c.get("includeInCitation") and c.get("name")]


def oai_dc(record: Record, landing_url: str, publisher: str) -> Element:
    meta = record.metadata
    root = Element(
        f"{{{OAI_DC}}}dc",
        {f"{{{XSI}}}schemaLocation": f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"},
    )
    _text(root, f"{{{DC}}}title", meta.get("name"))
    for author in _authors(meta):
        _text(root, f"{{{DC}}}creator", author)
    for keyword in meta.get("keywords") or []:
        _text(root, f"{{{DC}}}subject", keyword)
    _text(root, f"{{{DC}}}description", meta.get("description"))
    _text(root, f"{{{DC}}}publisher", publisher)
    _text(root, f"{{{DC}}}date", (meta.get("datePublished") or "")[:10])
    _text(root, f"{{{DC}}}type", "Dataset")
    if record.doi:
        _text(root, f"{{{DC}}}identifier", f"https://doi.org/{record.doi}")
    _text(root, f"{{{DC}}}identifier", landing_url)
    for licence in meta.get("license") or []:
        _text(root, f"{{{DC}}}rights", licence)
    return root


def datacite_attributes(metadata: dict[str, Any]) -> dict[str, Any] | None:
    from dandischema.datacite import to_datacite

    try:
        return to_datacite(metadata)["data"]["attributes"]
    except Exception as exc:
        log.info("no DataCite record for %s: %s", metadata.get("id"), exc)
        return None


def oai_datacite(record: Record, landing_url: str, publisher: str) -> Element | None:
    if not record.doi:
        return None  # a DataCite record is about a DOI
    attrs = datacite_attributes(record.metadata)
    if attrs is None:
        return None
    root = Element(
        f"{{{DATACITE}}}resource",
        {f"{{{XSI}}}schemaLocation": f"{DATACITE} {DATACITE}/metadata.xsd"},
    )
    ns = f"{{{DATACITE}}}"
    _text(root, ns + "identifier", record.doi, identifierType="DOI")
    _people(root, ns, "creator", attrs.get("creators") or [])
    titles = SubElement(root, ns + "titles")
    for title in attrs.get("titles") or []:
        _text(titles, ns + "title", title.get("title"))
    _text(root, ns + "publisher", (attrs.get("publisher") or {}).get("name") or publisher)
    _text(root, ns + "publicationYear", attrs.get("publicationYear"))
    types = attrs.get("types") or {}
    _text(
        root,
        ns + "resourceType",
        types.get("resourceType"),
        resourceTypeGeneral=types.get("resourceTypeGeneral", "Dataset"),
    )
    if attrs.get("subjects"):
        subjects = SubElement(root, ns + "subjects")
        for subject in attrs["subjects"]:
            _text(subjects, ns + "subject", subject.get("subject"))
    if attrs.get("contributors"):
        _people(root, ns, "contributor", attrs["contributors"])
    alternates = SubElement(root, ns + "alternateIdentifiers")
    for alt in attrs.get("alternateIdentifiers") or []:
        _text(
            alternates,
            ns + "alternateIdentifier",
            alt.get("alternateIdentifier"),
            alternateIdentifierType=alt.get("alternateIdentifierType", "URL"),
        )
    if attrs.get("relatedIdentifiers"):
        related = SubElement(root, ns + "relatedIdentifiers")
        for rel in attrs["relatedIdentifiers"]:
            _text(
                related,
                ns + "relatedIdentifier",
                rel.get("relatedIdentifier"),
                relatedIdentifierType=rel.get("relatedIdentifierType", "URL"),
                relationType=rel.get("relationType", "References"),
            )
    _text(root, ns + "version", attrs.get("version"))
    rights = SubElement(root, ns + "rightsList")
    for right in attrs.get("rightsList") or []:
        extra = {k: v for k, v in right.items() if k in ("rightsUri", "rightsIdentifier") and v}
        _text(rights, ns + "rights", right.get("rights"), **extra)
    descriptions = SubElement(root, ns + "descriptions")
    for description in attrs.get("descriptions") or []:
        _text(
            descriptions,
            ns + "description",
            description.get("description"),
            descriptionType=description.get("descriptionType", "Abstract"),
        )
    return root


def _people(root: Element, ns: str, kind: str, people: list[dict[str, Any]]) -> None:
    group = SubElement(root, f"{ns}{kind}s")
    for person in people:
        attrs = {"contributorType": person["contributorType"]} if kind == "contributor" else {}
        element = SubElement(group, f"{ns}{kind}", attrs)
        name_type = {"nameType": person["nameType"]} if person.get("nameType") else {}
        _text(element, f"{ns}{kind}Name", person.get("name"), **name_type)
        _text(element, ns + "givenName", person.get("givenName"))
        _text(element, ns + "familyName", person.get("familyName"))
        for ident in person.get("nameIdentifiers") or []:
            _text(
                element,
                ns + "nameIdentifier",
                ident.get("nameIdentifier"),
                nameIdentifierScheme=ident.get("nameIdentifierScheme", "ORCID"),
                schemeURI=ident.get("schemeUri", "https://orcid.org/"),
            )
        for affiliation in person.get("affiliation") or []:
            _text(element, ns + "affiliation", affiliation.get("name"))


FORMATS = {
    f.prefix: f
    for f in (
        Format("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC, oai_dc),
        Format("oai_datacite", f"{DATACITE}/metadata.xsd", DATACITE, oai_datacite),
    )
}
