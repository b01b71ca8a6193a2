"""Manifests: the bucket describes itself under ``dandisets/{NNNNNN}/{version}/``.

For every published version (once) and for the draft (after each change), six files
with the same content and formats as dandiarchive.org:

* ``dandiset.jsonld``, ``dandiset.yaml`` — the version's metadata;
* ``assets.jsonld``, ``assets.yaml`` — every asset's full metadata (with its
  ``contentUrl`` in the bucket and its digests), ordered by path;
* ``collection.jsonld`` — the version as a ``prov:Collection`` of its assets;
* ``dandiset.ttl`` — the version's metadata as RDF (Turtle), the graph the API answers
  ``Accept: text/turtle`` with (``dandisets.linked``).

With them, anyone with read access to the bucket can fetch and verify a whole
Dandiset without the API. Asset lists are streamed into temporary files and stored
with one atomic replace per file, so memory stays flat and readers never see half a
file. Embargoed Dandisets get no manifests until their embargo ends.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from dandi_archive.assets.assets import documents
from dandi_archive.dandisets import linked
from dandi_archive.db.models import Asset, EmbargoStatus, Version, VersionAsset

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)

YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
JSON_TYPE = "application/ld+json"
YAML_TYPE = "application/x-yaml"
CONTENT_TYPES = {"jsonld": JSON_TYPE, "yaml": YAML_TYPE, "ttl": linked.TURTLE}


def manifest_prefix(identifier: str, version: str) -> str:
    return f"dandisets/{identifier}/{version}/"


def to_yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=YAML_DUMPER, allow_unicode=True)


def iter_asset_metadata(
    archive: Archive, session: Session, version: Version, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Full metadata of a version's assets, by path, a batch of rows at a time."""
    query = (
        select(Asset)
        .join(VersionAsset, VersionAsset.asset_id == Asset.id)
        .where(VersionAsset.version_id == version.id)
        .order_by(VersionAsset.path)
        .execution_options(yield_per=batch)
    )
    batch_rows: list[Asset] = []
    for asset in session.scalars(query):
        batch_rows.append(asset)
        if len(batch_rows) == batch:
            yield from documents(archive, session, batch_rows, embargoed=False)
            batch_rows = []
    yield from documents(archive, session, batch_rows, embargoed=False)


def write_manifests(archive: Archive, version_id: int) -> None:
    """Write (or rewrite) the manifests of one version (the ``write_manifests`` job)."""
    with archive.db.session() as session:
        version = session.get(Version, version_id)
        if version is None or version.dandiset.embargo_status != EmbargoStatus.OPEN:
            return
        revision = version.revision
        if version.manifests_revision == revision:
            return
        prefix = manifest_prefix(version.dandiset.identifier, version.version)
        tmp_dir = archive.settings.data_dir / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            files = {
                name: stack.enter_context(
                    tempfile.NamedTemporaryFile(
                        "w", encoding="utf-8", dir=tmp_dir, prefix="manifest-", delete=False
                    )
                )
                for name in (
                    "dandiset.jsonld",
                    "dandiset.yaml",
                    "assets.jsonld",
                    "assets.yaml",
                    "collection.jsonld",
                    "dandiset.ttl",
                )
            }
            try:
                _write_all(archive, session, version, files)
                for handle in files.values():
                    handle.close()
                for name, handle in files.items():
                    content_type = CONTENT_TYPES[name.rpartition(".")[2]]
                    archive.store.put_file(prefix + name, Path(handle.name), content_type)
            finally:
                for handle in files.values():
                    Path(handle.name).unlink(missing_ok=True)
    with archive.db.session(write=True) as session:
        version = session.get(Version, version_id, with_for_update=True)
        if version is not None and version.revision == revision:
            version.manifests_revision = revision
    log.info("wrote manifests of %s", prefix)


def _write_all(
    archive: Archive, session: Session, version: Version, files: dict[str, IO[str]]
) -> None:
    metadata = version.metadata_
    files["dandiset.jsonld"].write(json.dumps(metadata, ensure_ascii=False, separators=(",", ":")))
    files["dandiset.yaml"].write(to_yaml(metadata))
    files["dandiset.ttl"].write(turtle(archive, version))
    assets_json, assets_yaml, collection = (
        files["assets.jsonld"],
        files["assets.yaml"],
        files["collection.jsonld"],
    )
    head = {
        "@context": metadata.get("@context"),
        "id": metadata.get("id"),
        "@type": "prov:Collection",
    }
    collection.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "hasMember": [')
    assets_json.write("[")
    for n, asset in enumerate(iter_asset_metadata(archive, session, version)):
        separator = "," if n else ""
        assets_json.write(separator + json.dumps(asset, ensure_ascii=False, separators=(",", ":")))
        collection.write(separator + json.dumps(asset["id"]))
        assets_yaml.write(_yaml_list_item(asset))
    assets_json.write("]")
    collection.write("]}")
    if assets_yaml.tell() == 0:
        assets_yaml.write("[]\n")


def turtle(archive: Archive, version: Version) -> str:
    """The version's metadata as Turtle, with relative IRIs resolved as the API does."""
    settings = archive.settings
    base = f"{settings.public_url}/api/dandisets/{version.dandiset.identifier}/versions/"
    graph = linked.graph(archive, version.metadata_, f"{base}{version.version}/")
    return graph.serialize(format="turtle")


def _yaml_list_item(document: dict[str, Any]) -> str:
    """One entry of a YAML sequence, as ``yaml.dump`` of the whole list would write it."""
    lines = to_yaml(document).splitlines()
    return "".join(("- " if i == 0 else "  ") + line + "\n" for i, line in enumerate(lines))
