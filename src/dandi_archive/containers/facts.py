"""What a recognised container image adds to an asset's metadata, its page and its
Dandiset's metadata — all derived from ``asset_blobs.container``, never stored twice.

Where the facts go in dandischema's Asset model, and why:

- ``encodingFormat`` (a schema field) gets the image's media type: SIF's
  ``application/vnd.sylabs.sif.layer.v1.sif`` (the type Apptainer and ORAS give a SIF
  file), and ``application/x-tar`` for both tar layouts (the file *is* a tar; OCI's
  ``application/vnd.oci.image.index.v1+json`` names only the index inside it).
- The image facts go under ``containerImage``, a computed field like this archive's
  ``ngff``: dandischema has no field for them. Its candidates all mean something else
  and feed other things: ``variableMeasured`` and ``measurementTechnique`` are summed
  into the Dandiset's assetsSummary as data facets, ``wasGeneratedBy`` is the session
  or activity that recorded data, ``about`` names anatomy or disorders, ``digest``
  admits only the file's own checksums. dandischema's models ignore fields they do not
  know and its JSON Schema allows them, so the metadata stays valid as it was.
- The Dandiset links each image as a ``Resource`` in ``relatedResource`` with
  ``resourceType`` ``dcite:Software`` (its URL the asset's download URL, its
  identifier the asset's ``dandiasset:`` id, relation ``dcite:HasPart``).
"""

from __future__ import annotations

import posixpath
from typing import Any

from dandi_archive.containers.archives import DOCKER_ARCHIVE, OCI_ARCHIVE
from dandi_archive.containers.inspect import IMAGE_KINDS, SIF

SIF_MEDIA_TYPE = "application/vnd.sylabs.sif.layer.v1.sif"
TAR_MEDIA_TYPE = "application/x-tar"
MEDIA_TYPES = {SIF: SIF_MEDIA_TYPE, DOCKER_ARCHIVE: TAR_MEDIA_TYPE, OCI_ARCHIVE: TAR_MEDIA_TYPE}
KIND_NAMES = {
    SIF: "Apptainer/Singularity image (SIF)",
    DOCKER_ARCHIVE: "Docker image archive (docker save)",
    OCI_ARCHIVE: "OCI image layout (tar)",
}
FIELD = "containerImage"
ASSET_ID_PREFIX = "dandiasset:"


def image_of(container: dict[str, Any] | None) -> dict[str, Any] | None:
    """The facts of a readable container image, or None."""
    if not container or container.get("content") not in IMAGE_KINDS:
        return None
    image = container.get("image")
    return {"format": container["content"], **image} if isinstance(image, dict) else None


def asset_fields(container: dict[str, Any] | None) -> dict[str, Any]:
    """The computed fields an image adds to its asset's metadata (none for other files)."""
    image = image_of(container)
    if image is None:
        return {}
    return {"encodingFormat": MEDIA_TYPES[image["format"]], FIELD: image}


def asset_warnings(path: str, container: dict[str, Any] | None) -> list[dict[str, str]]:
    """Non-blocking validation warnings: a name that promises an image the content is
    not, or an image that could not be read. Nothing before the file was looked at."""
    if not container:
        return []
    content, problem = container.get("content"), container.get("problem")
    name = path.lower()
    if name.endswith((".sif", ".simg")) and content != SIF:
        why = f": {problem}" if problem else " (it does not start with the SIF header)"
        return [
            _warning(f"The name says an Apptainer/Singularity image (SIF), but it is not one{why}.")
        ]
    if name.endswith(".tar") and content not in ("tar", *IMAGE_KINDS):
        return [
            _warning(
                "The name says a tar archive (such as a `docker save` or OCI image), "
                "but the content is not a tar archive."
            )
        ]
    if problem:
        what = KIND_NAMES.get(content or "", "tar archive")
        return [_warning(f"This looks like a {what}, but it could not be read: {problem}.")]
    return []


def _warning(message: str) -> dict[str, str]:
    return {"field": "", "message": message}


def download_url(api_url: str, asset_id: Any) -> str:
    return f"{api_url}/assets/{asset_id}/download/"


def commands(image: dict[str, Any], path: str, url: str) -> list[str]:
    """How to fetch and run an image, as shell commands."""
    filename = posixpath.basename(path)
    fetch = f"dandi download {url}"
    if image["format"] == SIF:
        return [fetch, f"apptainer run {filename}"]
    tags = image.get("tags") or []
    ref = tags[0] if tags else image.get("imageId") or "<the image ID docker load prints>"
    return [fetch, f"docker load -i {filename}", f"docker run --rm {ref}"]


def software_resource(api_url: str, asset_id: Any, path: str, image: dict[str, Any]) -> dict:
    return {
        "schemaKey": "Resource",
        "identifier": f"{ASSET_ID_PREFIX}{asset_id}",
        "name": f"{path} ({KIND_NAMES[image['format']]})",
        "url": download_url(api_url, asset_id),
        "resourceType": "dcite:Software",
        "relation": "dcite:HasPart",
    }


def is_managed(resource: Any, api_url: str) -> bool:
    """Whether the archive added this resource (an owner's own entries never match: the
    archive only ever removes what carries its asset id and that asset's URL)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "dcite:Software":
        return False
    ident = resource.get("identifier")
    if not isinstance(ident, str) or not ident.startswith(ASSET_ID_PREFIX):
        return False
    return resource.get("url") == download_url(api_url, ident.removeprefix(ASSET_ID_PREFIX))


def merge_resources(existing: Any, wanted: list[dict], api_url: str) -> list | None:
    """``relatedResource`` with exactly the wanted software links: the archive's own
    links to images no longer in the draft dropped, missing ones appended, an entry
    already naming the same URL (the owner's or ours) left as it is. None: unchanged."""
    current = existing if isinstance(existing, list) else []
    wanted_urls = {r["url"] for r in wanted}
    kept = [r for r in current if not (is_managed(r, api_url) and r["url"] not in wanted_urls)]
    present = {r.get("url") for r in kept if isinstance(r, dict)}
    merged = kept + [r for r in wanted if r["url"] not in present]
    return None if merged == current else merged
