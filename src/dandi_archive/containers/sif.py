"""Apptainer/Singularity images (SIF), described from the global header and the
descriptor table, as the SIF format lays them out (https://github.com/apptainer/sif):

- a 128-byte little-endian global header at offset 0: a 32-byte launch script, the
  magic ``SIF_MAGIC\\0``, the format version ("01"), the primary architecture code, the
  image UUID, creation and modification times (Unix seconds), then the descriptor
  counts, the table's offset and size and the data section's offset and size;
- a table of 585-byte descriptors, one per data object: its type, whether it is in
  use, its id, group and link, its offset and size in the file, times, a name and 384
  bytes of type-specific extra data (a partition's file system, kind and architecture;
  an OCI blob's digest).

Small data objects are read too: the definition file (``Bootstrap``, ``From``,
``%labels``, ``%runscript``), a JSON labels object and, in an OCI-SIF, the OCI index,
manifest and image configuration.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dandi_archive.containers import oci
from dandi_archive.containers.oci import BadImage

MAGIC = b"SIF_MAGIC\x00"
MAGIC_OFFSET = 32
HEADER = struct.Struct("<32s10s3s3s16s8q")
DESCRIPTOR = struct.Struct("<i?3I7q128s384s")
PARTITION = struct.Struct("<ii3s")
MAX_DESCRIPTORS = 4096
MAX_OBJECT = 256 * 2**10  # a definition file or labels object is text, read whole

DATA_DEFFILE, DATA_ENVVAR, DATA_LABELS, DATA_PARTITION, DATA_SIGNATURE = range(0x4001, 0x4006)
DATA_OCI_ROOT_INDEX, DATA_OCI_BLOB = 0x400A, 0x400B
PART_PRIMARY_SYSTEM = 2
ARCHITECTURES = {
    b"01": "386",
    b"02": "amd64",
    b"03": "arm",
    b"04": "arm64",
    b"05": "ppc64",
    b"06": "ppc64le",
    b"07": "mips",
    b"08": "mipsle",
    b"09": "mips64",
    b"10": "mips64le",
    b"11": "s390x",
}
FILESYSTEMS = {1: "squashfs", 2: "ext3", 3: "immutable objects", 4: "raw", 5: "encrypted squashfs"}

Reader = Callable[[int, int], bytes]  # (offset, length) -> bytes


def is_sif(head: bytes) -> bool:
    return head[MAGIC_OFFSET : MAGIC_OFFSET + len(MAGIC)] == MAGIC


def read_sif(read: Reader, size: int) -> dict[str, Any]:
    """The facts of a SIF image whose bytes ``read`` returns; :class:`BadImage` if its
    header or descriptors do not hold together."""
    head = read(0, HEADER.size)
    if len(head) < HEADER.size or not is_sif(head):
        raise BadImage("it does not start with a SIF global header")
    _, _, version, arch, ident, created, modified, _free, total, table_at, _, _, _ = HEADER.unpack(
        head
    )
    if not 0 < total <= MAX_DESCRIPTORS or not 0 < table_at < size:
        raise BadImage(f"its header lists an impossible descriptor table ({total} at {table_at})")
    table = read(table_at, total * DESCRIPTOR.size)
    if len(table) < total * DESCRIPTOR.size:
        raise BadImage("its descriptor table runs past the end of the file")
    objects = [_descriptor(table, i * DESCRIPTOR.size, size) for i in range(total)]
    objects = [o for o in objects if o is not None]
    facts: dict[str, Any] = {
        "sifVersion": _cstring(version),
        "imageId": str(uuid.UUID(bytes=ident)),
        "architecture": ARCHITECTURES.get(_cstring(arch).encode()),
        "created": _when(created),
        "modified": _when(modified),
        "objects": len(objects),
        "signed": any(o["type"] == DATA_SIGNATURE for o in objects),
        "labels": {},
    }
    for o in objects:
        if o["type"] == DATA_PARTITION:
            fstype, parttype, part_arch = PARTITION.unpack_from(o["extra"])
            if parttype == PART_PRIMARY_SYSTEM:
                facts["filesystem"] = FILESYSTEMS.get(fstype, str(fstype))
                facts["partitionSize"] = o["size"]
                facts["architecture"] = (
                    ARCHITECTURES.get(part_arch.rstrip(b"\0")) or facts["architecture"]
                )
    for o in objects:
        if o["type"] == DATA_DEFFILE:
            facts.update(definition(_text_object(read, o)))
    for o in objects:
        if o["type"] == DATA_LABELS:
            found = oci.parse_json(_object(read, o), "the labels object")
            facts["labels"] = {**facts["labels"], **oci.labels(found)}
    root = next((o for o in objects if o["type"] == DATA_OCI_ROOT_INDEX), None)
    if root is not None:
        facts.update(_oci_sif(read, objects, root))
    return facts


def _descriptor(table: bytes, at: int, size: int) -> dict[str, Any] | None:
    kind, used, ident, _group, _link, offset, length, *_, name, extra = DESCRIPTOR.unpack_from(
        table, at
    )
    if not used:
        return None
    if offset < 0 or length < 0 or offset + length > size:
        raise BadImage(f"data object {ident} lies outside the file")
    return {
        "type": kind,
        "id": ident,
        "offset": offset,
        "size": length,
        "name": _cstring(name),
        "extra": extra,
    }


def _object(read: Reader, o: dict[str, Any]) -> bytes:
    if o["size"] > MAX_OBJECT:
        raise BadImage(f"data object {o['id']} is too large for metadata ({o['size']} bytes)")
    return read(o["offset"], o["size"])


def _text_object(read: Reader, o: dict[str, Any]) -> str:
    return _object(read, o).decode("utf-8", errors="replace")


def definition(text: str) -> dict[str, Any]:
    """``Bootstrap``, ``From``, ``%labels`` and ``%runscript`` of a definition file."""
    facts: dict[str, Any] = {}
    labels: dict[str, str] = {}
    runscript: list[str] = []
    section = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("%"):
            section = stripped.split()[0].lower()
            continue
        if not section and ":" in stripped:
            key, _, value = stripped.partition(":")
            if key.lower() in ("bootstrap", "from"):
                facts[key.lower()] = value.strip()[: oci.MAX_TEXT]
        elif section == "%labels" and stripped and not stripped.startswith("#"):
            key, _, value = stripped.partition(" ")
            labels[key] = value.strip()
        elif section == "%runscript":
            runscript.append(line)
    if labels:
        facts["labels"] = oci.labels(labels)
    if any(line.strip() for line in runscript):
        facts["runscript"] = "\n".join(runscript).strip()[: oci.MAX_TEXT]
    return facts


def _oci_sif(read: Reader, objects: list[dict[str, Any]], root: dict[str, Any]) -> dict[str, Any]:
    """An OCI-SIF (``singularity build --oci``): the index, manifest and configuration
    are OCI blobs stored as data objects, each naming its digest in its extra data."""
    blobs = {
        o["extra"].split(b"\0", 1)[0].decode("ascii", errors="replace"): o
        for o in objects
        if o["type"] == DATA_OCI_BLOB
    }

    def document(digest: Any, what: str) -> Any:
        if not isinstance(digest, str) or digest not in blobs:
            raise BadImage(f"{what} ({digest}) is not in the image")
        return oci.checked_json(_object(read, blobs[digest]), digest, what)

    index = oci.parse_json(_object(read, root), "the OCI index")
    manifest_digest = oci.pick_manifest(index).get("digest")
    manifest = document(manifest_digest, "the manifest")
    config_ref = manifest.get("config") if isinstance(manifest, dict) else None
    config_digest = config_ref.get("digest") if isinstance(config_ref, dict) else None
    facts = oci.config_facts(document(config_digest, "the image configuration"))
    layers, layers_size = oci.layer_total(manifest)
    return {
        **{k: v for k, v in facts.items() if v},
        "manifestDigest": manifest_digest,
        "layers": layers,
        "layersSize": layers_size,
    }


def _cstring(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")


def _when(seconds: int) -> str | None:
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return None
