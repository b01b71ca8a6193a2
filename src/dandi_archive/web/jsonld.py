"""schema.org ``Dataset`` description of a Dandiset version, for dataset search engines."""

from __future__ import annotations

import json
from typing import Any

from dandi_archive.search.index import license_label


def _creator(contributor: dict[str, Any]) -> dict[str, Any]:
    person = contributor.get("schemaKey") != "Organization"
    creator: dict[str, Any] = {
        "@type": "Person" if person else "Organization",
        "name": contributor.get("name", ""),
    }
    if person and contributor.get("identifier"):
        creator["identifier"] = f"https://orcid.org/{contributor['identifier']}"
    affiliations = [a.get("name") for a in contributor.get("affiliation") or [] if a.get("name")]
    if affiliations:
        creator["affiliation"] = [{"@type": "Organization", "name": n} for n in affiliations]
    return creator


def dataset(
    metadata: dict[str, Any],
    *,
    url: str,
    catalog_name: str,
    catalog_url: str,
    open_access: bool,
    size: int,
    species: list[str],
    techniques: list[str],
) -> dict[str, Any]:
    contributors = [c for c in metadata.get("contributor") or [] if isinstance(c, dict)]
    creators = [c for c in contributors if c.get("includeInCitation")] or contributors
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": metadata.get("name", ""),
        "description": metadata.get("description", ""),
        "url": url,
        "identifier": [metadata.get("identifier", "")],
        "version": metadata.get("version", ""),
        "license": [
            f"https://spdx.org/licenses/{license_label(str(v))}.html"
            for v in metadata.get("license") or []
        ],
        "creator": [_creator(c) for c in creators],
        "isAccessibleForFree": open_access,
        "includedInDataCatalog": {"@type": "DataCatalog", "name": catalog_name, "url": catalog_url},
        "contentSize": f"{size} B",
    }
    if metadata.get("doi"):
        doc["identifier"].insert(0, f"https://doi.org/{metadata['doi']}")
    if metadata.get("keywords"):
        doc["keywords"] = list(metadata["keywords"])
    for key in ("dateCreated", "datePublished"):
        if metadata.get(key):
            doc[key] = metadata[key]
    if metadata.get("citation"):
        doc["creditText"] = metadata["citation"]
    if species:
        doc["about"] = [{"@type": "Taxon", "name": s} for s in species]
    if techniques:
        doc["measurementTechnique"] = techniques
    return doc


def script_json(doc: dict[str, Any]) -> str:
    """JSON that is safe inside <script>: no '<', '>' or '&' can end the element."""
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
