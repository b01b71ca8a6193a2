"""Container images saved as tar archives, read member by member.

Two layouts exist, named as skopeo and podman name them:

- ``docker-archive``: what ``docker save`` writes, a ``manifest.json`` listing each
  image's configuration JSON and layer tars (Docker 25 and later also add an OCI
  layout beside it);
- ``oci-archive``: an OCI image layout (``oci-layout``, ``index.json`` and
  content-addressed ``blobs/sha256/...``) packed into a tar.

:mod:`tarfile` in its seeking mode reads only each member's header and skips its data,
so a multi-gigabyte archive costs one small read per member plus the JSON members.
"""

from __future__ import annotations

import tarfile
from typing import IO, Any

from dandi_archive.containers import oci
from dandi_archive.containers.oci import BadImage

DOCKER_ARCHIVE = "docker-archive"
OCI_ARCHIVE = "oci-archive"
# A tar of more members than this is no image layout (each layer is one member).
MAX_MEMBERS = 20_000


def read_tar(fh: IO[bytes]) -> tuple[str, dict[str, Any] | None]:
    """``(kind, facts)``: ``kind`` is ``docker-archive``, ``oci-archive`` or ``tar`` (a tar
    that holds no image, ``facts`` None). Raises :class:`BadImage` for a damaged image and
    :class:`tarfile.TarError` for a damaged tar."""
    with tarfile.open(fileobj=fh, mode="r:") as tar:
        members: dict[str, tarfile.TarInfo] = {}
        for count, member in enumerate(tar):
            if count >= MAX_MEMBERS:
                return "tar", None
            members[member.name.removeprefix("./")] = member
        archive = _Members(tar, members)
        if "manifest.json" in members:
            kind, describe = DOCKER_ARCHIVE, _docker_archive
        elif "oci-layout" in members and "index.json" in members:
            kind, describe = OCI_ARCHIVE, _oci_archive
        else:
            return "tar", None
        try:
            return kind, describe(archive)
        except BadImage as exc:
            exc.kind = kind
            raise


class _Members:
    def __init__(self, tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> None:
        self.tar, self.members = tar, members

    def read(self, name: str) -> bytes:
        member = self.members.get(name.removeprefix("./"))
        if member is None or not member.isfile():
            raise BadImage(f"{name} is missing")
        if member.size > oci.MAX_JSON:
            raise BadImage(f"{name} is too large for an image document ({member.size} bytes)")
        extracted = self.tar.extractfile(member)
        assert extracted is not None  # a regular file
        return extracted.read()

    def size(self, name: str) -> int:
        member = self.members.get(name.removeprefix("./"))
        if member is None:
            raise BadImage(f"the layer {name} is missing")
        return member.size


def _docker_archive(archive: _Members) -> dict[str, Any]:
    listing = oci.parse_json(archive.read("manifest.json"), "manifest.json")
    if not isinstance(listing, list) or not listing or not isinstance(listing[0], dict):
        raise BadImage("manifest.json lists no image")
    entry = listing[0]
    config_name, layers = entry.get("Config"), entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layers, list):
        raise BadImage("manifest.json names no configuration or layers")
    config = archive.read(config_name)
    facts = oci.config_facts(oci.parse_json(config, config_name))
    tags = [t for e in listing for t in (e.get("RepoTags") or []) if isinstance(t, str)]
    facts.update(
        imageId=oci.digest_of(config),  # what `docker images` shows as the image ID
        tags=tags[: oci.MAX_ARGS],
        images=len(listing),
        layers=len(layers),
        layersSize=sum(archive.size(str(name)) for name in layers),
    )
    if "index.json" in archive.members:  # Docker 25+: an OCI layout too
        index = oci.parse_json(archive.read("index.json"), "index.json")
        facts["manifestDigest"] = oci.pick_manifest(index).get("digest")
    return facts


def _oci_archive(archive: _Members) -> dict[str, Any]:
    index = oci.parse_json(archive.read("index.json"), "index.json")
    chosen = oci.pick_manifest(index)
    tag = oci.ref_name(chosen)
    if chosen.get("mediaType") in oci.INDEX_TYPES:  # a multi-platform image: its first
        nested = _document(archive, chosen.get("digest"), "the image index")
        chosen = oci.pick_manifest(nested)
    manifest_digest = chosen.get("digest")
    manifest = _document(archive, manifest_digest, "the manifest")
    config_ref = manifest.get("config") if isinstance(manifest, dict) else None
    if not isinstance(config_ref, dict):
        raise BadImage("the manifest names no configuration")
    config_digest = config_ref.get("digest")
    facts = oci.config_facts(_document(archive, config_digest, "the image configuration"))
    layers, layers_size = oci.layer_total(manifest)
    facts.update(
        imageId=config_digest,
        manifestDigest=manifest_digest,
        tags=[tag] if tag else [],
        images=len(index.get("manifests") or []),
        layers=layers,
        layersSize=layers_size,
    )
    return facts


def _document(archive: _Members, digest: Any, what: str) -> Any:
    return oci.checked_json(archive.read(oci.blob_path(digest)), digest, what)
