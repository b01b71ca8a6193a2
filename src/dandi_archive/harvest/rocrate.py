"""A version as an RO-Crate 1.2 (https://w3id.org/ro/crate/1.2): the
``ro-crate-metadata.json`` that workflow systems, WorkflowHub, Galaxy and RO-Crate
tooling read a dataset's files and provenance from.

Built with the ``rocrate`` library (the RO-Crate community's own), so the document's
structure (metadata descriptor, root dataset, ``hasPart``, context entities) is the
library's, not hand-written. The crate is served at
``/api/dandisets/{id}/versions/{version}/ro-crate-metadata.json``, so its root dataset
``./`` is the version's own API address. Every file is a web-based data entity, its
``@id`` the file's download URL, with ``name`` (its path), ``contentSize``,
``encodingFormat`` and ``sha256`` once computed; a Zarr is a ``Dataset`` at its tree URL
(a folder of files). Authors are the contributors included in the citation, with their
ORCID (or ROR) as ``@id`` when known; licences are SPDX URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rocrate.model.contextentity import ContextEntity
from rocrate.model.dataset import Dataset
from rocrate.model.file import File
from rocrate.rocrate import ROCrate
from sqlalchemy import select
from sqlalchemy.orm import Session

from dandi_archive.db.models import Asset, AssetBlob, Version, VersionAsset, Zarr

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

RO_CRATE_VERSION = "1.2"
SPDX = "https://spdx.org/licenses/"
OCTET_STREAM = "application/octet-stream"
ZARR_FORMAT = "application/x-zarr"
_ORCID = re.compile(r"(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])")


def _files(
    session: Session, version: Version
) -> Iterator[tuple[Asset, AssetBlob | None, Zarr | None]]:
    query = (
        select(Asset, AssetBlob, Zarr)
        .join(VersionAsset, VersionAsset.asset_id == Asset.id)
        .outerjoin(AssetBlob, AssetBlob.id == Asset.blob_id)
        .outerjoin(Zarr, Zarr.id == Asset.zarr_id)
        .where(VersionAsset.version_id == version.id)
        .order_by(VersionAsset.path)
        .execution_options(yield_per=1000)
    )
    yield from session.execute(query)  # type: ignore[misc]


def _media_type(asset: Asset, default: str) -> str:
    encoding = asset.metadata_.get("encodingFormat")
    return encoding if isinstance(encoding, str) and encoding else default


def _data_entity(
    crate: ROCrate, archive: Archive, asset: Asset, blob: AssetBlob | None, zarr: Zarr | None
) -> File | Dataset | None:
    api = archive.settings.api_url
    if blob is not None:
        properties: dict[str, Any] = {
            "name": asset.path,
            "contentSize": str(blob.size),
            "encodingFormat": _media_type(asset, OCTET_STREAM),
            "identifier": f"dandiasset:{asset.id}",
        }
        if blob.sha256:
            properties["sha256"] = blob.sha256
        return File(crate, f"{api}/assets/{asset.id}/download/", properties=properties)
    if zarr is not None:
        return Dataset(
            crate,
            f"{api}/zarr/{zarr.id}/tree/",
            properties={
                "name": asset.path,
                "contentSize": str(zarr.size),
                "encodingFormat": _media_type(asset, ZARR_FORMAT),
                "identifier": f"dandiasset:{asset.id}",
            },
        )
    return None


def _agent(crate: ROCrate, contributor: dict[str, Any], n: int) -> ContextEntity | None:
    name = contributor.get("name")
    if not name:
        return None
    organization = contributor.get("schemaKey") == "Organization"
    identifier = str(contributor.get("identifier") or "")
    orcid = _ORCID.fullmatch(identifier)
    if orcid and not organization:
        entity_id = f"https://orcid.org/{orcid.group(1)}"
    elif identifier.startswith(("https://", "http://")):
        entity_id = identifier
    else:
        entity_id = f"#contributor-{n}"
    properties: dict[str, Any] = {
        "@type": "Organization" if organization else "Person",
        "name": str(name),
    }
    return ContextEntity(crate, entity_id, properties=properties)


def ro_crate(archive: Archive, session: Session, version: Version) -> dict[str, Any]:
    """The version's ``ro-crate-metadata.json`` document."""
    settings = archive.settings
    metadata = version.metadata_ or {}
    crate = ROCrate(version=RO_CRATE_VERSION)
    root = crate.root_dataset
    identifier = version.dandiset.identifier
    root["name"] = version.name
    root["description"] = str(metadata.get("description") or version.name)
    root["version"] = version.version
    root["url"] = f"{settings.webui_url}/dandiset/{identifier}/{version.version}"
    published = metadata.get("datePublished") or version.modified.isoformat()
    root["datePublished"] = str(published)
    if metadata.get("doi"):
        root["identifier"] = f"https://doi.org/{metadata['doi']}"
    else:
        root["identifier"] = f"DANDI:{identifier}/{version.version}"
    if metadata.get("citation"):
        root["creditText"] = str(metadata["citation"])
    if metadata.get("keywords"):
        root["keywords"] = [str(k) for k in metadata["keywords"]]

    licences = [
        crate.add(
            ContextEntity(
                crate,
                SPDX + str(lic).split(":", 1)[-1],
                properties={"@type": "CreativeWork", "name": str(lic).split(":", 1)[-1]},
            )
        )
        for lic in metadata.get("license") or []
    ]
    if licences:
        root["license"] = licences if len(licences) > 1 else licences[0]
    authors = []
    for n, contributor in enumerate(metadata.get("contributor") or []):
        if isinstance(contributor, dict) and contributor.get("includeInCitation", True):
            agent = _agent(crate, contributor, n)
            if agent is not None:
                authors.append(crate.add(agent))
    if authors:
        root["author"] = authors
    root["publisher"] = crate.add(
        ContextEntity(
            crate,
            settings.webui_url.rstrip("/") + "/",
            properties={"@type": "Organization", "name": _instance_name()},
        )
    )
    for asset, blob, zarr in _files(session, version):
        entity = _data_entity(crate, archive, asset, blob, zarr)
        if entity is not None:
            crate.add(entity)
    return crate.metadata.generate()


def _instance_name() -> str:
    from dandischema.conf import get_instance_config

    return get_instance_config().instance_name
