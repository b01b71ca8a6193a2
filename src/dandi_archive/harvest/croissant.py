"""A version as a Croissant 1.0 dataset, the JSON-LD that machine-learning tools
(mlcroissant, TFDS, Hugging Face) load datasets from
(https://docs.mlcommons.org/croissant/docs/croissant-spec.html).

The dataset's name, description, licence, landing page, citation and version come from
the version's metadata; its ``distribution`` holds one ``cr:FileObject`` per file with
its download URL, media type, size and SHA-256. Croissant requires a checksum of every
file object, so files whose SHA-256 is still being computed, and Zarrs (folders, not
files), are left out; ``description`` says how many.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dandi_archive.db.models import Asset, AssetBlob, Version, VersionAsset

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

SPEC = "http://mlcommons.org/croissant/1.0"
SPDX = "https://spdx.org/licenses/"
# The context every Croissant 1.0 document carries (the spec's own, verbatim in meaning).
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/",
    "citeAs": "cr:citeAs",
    "equivalentProperty": "cr:equivalentProperty",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
OCTET_STREAM = "application/octet-stream"


def _files(session: Session, version: Version) -> Iterator[tuple[Asset, AssetBlob]]:
    query = (
        select(Asset, AssetBlob)
        .join(VersionAsset, VersionAsset.asset_id == Asset.id)
        .join(AssetBlob, AssetBlob.id == Asset.blob_id)
        .where(VersionAsset.version_id == version.id)
        .order_by(VersionAsset.path)
        .execution_options(yield_per=1000)
    )
    yield from ((asset, blob) for asset, blob in session.execute(query))


def _file_object(archive: Archive, asset: Asset, blob: AssetBlob) -> dict[str, Any]:
    encoding = asset.metadata_.get("encodingFormat")
    return {
        "@type": "cr:FileObject",
        "@id": asset.path,
        "name": asset.path,
        "contentUrl": f"{archive.settings.api_url}/assets/{asset.id}/download/",
        "encodingFormat": encoding if isinstance(encoding, str) and encoding else OCTET_STREAM,
        "contentSize": f"{blob.size} B",
        "sha256": blob.sha256,
    }


def _licence(metadata: dict[str, Any]) -> list[str]:
    return [SPDX + str(lic).split(":", 1)[-1] for lic in metadata.get("license") or []]


def _creators(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    creators = []
    for contributor in metadata.get("contributor") or []:
        if isinstance(contributor, dict) and contributor.get("includeInCitation", True):
            kind = "Organization" if contributor.get("schemaKey") == "Organization" else "Person"
            if contributor.get("name"):
                creators.append({"@type": f"sc:{kind}", "name": contributor["name"]})
    return creators


def croissant(archive: Archive, session: Session, version: Version) -> dict[str, Any]:
    """The version as a Croissant 1.0 JSON-LD document."""
    metadata = version.metadata_
    files = [_file_object(archive, a, b) for a, b in _files(session, version) if b.sha256]
    left_out = _count(session, version) - len(files)
    description = str(metadata.get("description") or version.name)
    if left_out:
        description += (
            f"\n\n({left_out} file(s) not listed here: Zarrs, and files whose SHA-256 is "
            "still being computed.)"
        )
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": SPEC,
        "name": version.name,
        "description": description,
        "license": _licence(metadata),
        "url": metadata.get("url") or archive.settings.webui_url,
        "citeAs": metadata.get("citation") or version.name,
        "version": version.version,
        "creator": _creators(metadata),
        "keywords": [str(k) for k in metadata.get("keywords") or []],
        "distribution": files,
    }
    if metadata.get("datePublished"):
        document["datePublished"] = metadata["datePublished"]
    if metadata.get("doi"):
        document["identifier"] = f"https://doi.org/{metadata['doi']}"
    return document


def _count(session: Session, version: Version) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(VersionAsset)
            .where(VersionAsset.version_id == version.id)
        )
        or 0
    )
