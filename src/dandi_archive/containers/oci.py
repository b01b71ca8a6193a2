"""What an OCI/Docker image's JSON documents say, trimmed to what is worth showing.

Shared by the two tar layouts and by OCI-SIF images, which all carry the same image
configuration (https://github.com/opencontainers/image-spec/blob/main/config.md) and,
except ``docker save``'s older layout, the same manifests and indexes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Labels and commands are the image author's text: kept, but within bounds.
MAX_LABELS = 100
MAX_TEXT = 1000
MAX_ARGS = 50
MAX_JSON = 4 * 2**20  # a config or manifest is kilobytes; more is not an image document

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
# The image names ``docker load``, containerd and skopeo record in an index.
REF_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


class BadImage(Exception):
    """The content is a container image of a known kind, but damaged or incomplete."""

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadImage(f"{what} is not JSON ({exc})") from None


def checked_json(data: bytes, digest: str, what: str) -> Any:
    """A content-addressed document, whose bytes must hash to its digest."""
    if digest_of(data) != digest:
        raise BadImage(f"{what} does not match its digest {digest}")
    return parse_json(data, what)


def blob_path(digest: Any) -> str:
    """``blobs/<algorithm>/<hex>``, the place of a digest in an OCI image layout."""
    if not isinstance(digest, str) or ":" not in digest:
        raise BadImage(f"{digest!r} is not a digest")
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != "sha256" or len(hexpart) != 64:
        raise BadImage(f"{digest} is not a sha256 digest")
    return f"blobs/sha256/{hexpart}"


def _text(value: Any) -> str:
    return str(value)[:MAX_TEXT]


def _args(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    return [_text(v) for v in value[:MAX_ARGS]]


def labels(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {_text(k): _text(v) for k, v in list(value.items())[:MAX_LABELS]}


def config_facts(config: Any) -> dict[str, Any]:
    """Architecture, OS, creation time, labels and commands of an image configuration."""
    if not isinstance(config, dict):
        raise BadImage("the image configuration is not a JSON object")
    run = config.get("config") if isinstance(config.get("config"), dict) else {}
    architecture = _word(config.get("architecture"))
    if architecture and _word(config.get("variant")):
        architecture = f"{architecture}/{_word(config['variant'])}"
    return {
        "architecture": architecture,
        "os": _word(config.get("os")),
        "created": _word(config.get("created")),
        "labels": labels(run.get("Labels")),
        "entrypoint": _args(run.get("Entrypoint")),
        "cmd": _args(run.get("Cmd")),
        "workingDir": _word(run.get("WorkingDir")),
    }


def _word(value: Any) -> str | None:
    return _text(value) if isinstance(value, str) and value else None


def pick_manifest(index: Any) -> dict[str, Any]:
    """The manifest descriptor an index points to first (the one ``docker load`` and
    ``skopeo`` take when an index holds one image)."""
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list) or not manifests or not isinstance(manifests[0], dict):
        raise BadImage("index.json lists no manifest")
    return manifests[0]


def ref_name(descriptor: dict[str, Any]) -> str | None:
    notes = descriptor.get("annotations")
    if isinstance(notes, dict):
        for key in REF_ANNOTATIONS:
            if isinstance(notes.get(key), str):
                return _text(notes[key])
    return None


def layer_total(manifest: Any) -> tuple[int, int]:
    """How many layers a manifest lists, and their stored (compressed) size in bytes."""
    layers = manifest.get("layers") if isinstance(manifest, dict) else None
    if not isinstance(layers, list):
        raise BadImage("the manifest lists no layers")
    sizes = [d.get("size") for d in layers if isinstance(d, dict)]
    return len(layers), sum(s for s in sizes if isinstance(s, int) and s > 0)
