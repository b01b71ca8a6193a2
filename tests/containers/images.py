"""Tiny but real container images, built the way their formats lay them out: a
``docker save`` archive, an OCI image layout packed in a tar, and a SIF file."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tarfile
import uuid

CONFIG = {
    "architecture": "amd64",
    "os": "linux",
    "created": "2024-05-01T12:00:00Z",
    "config": {
        "Labels": {"org.opencontainers.image.title": "spike-sorter", "version": "1.0"},
        "Entrypoint": ["/usr/bin/sort-spikes"],
        "Cmd": ["--help"],
        "WorkingDir": "/data",
    },
    "rootfs": {"type": "layers", "diff_ids": []},
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def layer(payload: bytes = b"#!/bin/sh\necho sorted\n") -> bytes:
    return tar_of({"usr/bin/sort-spikes": payload})


def docker_archive(layer_bytes: bytes | None = None, tag: str = "example/sorter:1.0") -> bytes:
    """``docker save``'s classic layout: manifest.json, <config digest>.json, <id>/layer.tar."""
    layer_bytes = layer() if layer_bytes is None else layer_bytes
    config = json.dumps(CONFIG).encode()
    layer_dir = sha256(layer_bytes)
    manifest = [
        {
            "Config": f"{sha256(config)}.json",
            "RepoTags": [tag],
            "Layers": [f"{layer_dir}/layer.tar"],
        }
    ]
    return tar_of(
        {
            f"{layer_dir}/layer.tar": layer_bytes,
            f"{sha256(config)}.json": config,
            "manifest.json": json.dumps(manifest).encode(),
        }
    )


def oci_archive(ref: str = "1.0") -> tuple[bytes, dict[str, str]]:
    """An OCI image layout in a tar; returns it with the digests it holds."""
    layer_bytes = layer()
    config = json.dumps(CONFIG).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": f"sha256:{sha256(config)}",
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": f"sha256:{sha256(layer_bytes)}",
                    "size": len(layer_bytes),
                }
            ],
        }
    ).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": f"sha256:{sha256(manifest)}",
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": ref},
            }
        ],
    }
    data = tar_of(
        {
            "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
            "index.json": json.dumps(index).encode(),
            f"blobs/sha256/{sha256(manifest)}": manifest,
            f"blobs/sha256/{sha256(config)}": config,
            f"blobs/sha256/{sha256(layer_bytes)}": layer_bytes,
        }
    )
    return data, {"manifest": f"sha256:{sha256(manifest)}", "config": f"sha256:{sha256(config)}"}


DEFFILE = b"""Bootstrap: docker
From: python:3.12-slim

%labels
    Author jane@example.org
    Version 2.1

%runscript
    exec python -m sorter "$@"
"""
SIF_ID = uuid.UUID("b2659d4e-bd50-4ea5-bd17-eec5e54f918e")
CREATED = 1714564800  # 2024-05-01T12:00:00Z


def sif_image(labels: dict | None = None) -> bytes:
    """A SIF file as the format lays one out: the 128-byte global header, the descriptor
    table at 4096 and the data objects (definition file, JSON labels, a primary
    system partition) from 8192."""
    labels_json = json.dumps(labels or {"org.label-schema.schema-version": "1.0"}).encode()
    partition = b"hsqs" + bytes(4092)  # a squashfs magic and nothing worth mounting
    objects = [
        (0x4001, DEFFILE, b""),
        (0x4003, labels_json, b""),
        (0x4004, partition, struct.pack("<ii3s", 1, 2, b"02\0")),  # squashfs, primary, amd64
    ]
    total = 4  # one descriptor slot left unused, as images keep spare ones
    table = b""
    data = b""
    data_at = 8192
    for number, (kind, body, extra) in enumerate(objects, start=1):
        table += struct.pack(
            "<i?3I7q128s384s",
            kind,
            True,
            number,
            0xF0000001,
            0,
            data_at + len(data),
            len(body),
            len(body),
            CREATED,
            CREATED,
            0,
            0,
            b"object",
            extra,
        )
        data += body
    table += bytes(585)  # the unused slot
    header = struct.pack(
        "<32s10s3s3s16s8q",
        b"#!/usr/bin/env run-singularity\n",
        b"SIF_MAGIC\0",
        b"01\0",
        b"02\0",
        SIF_ID.bytes,
        CREATED,
        CREATED,
        total - len(objects),
        total,
        4096,
        len(table),
        data_at,
        len(data),
    )
    return header.ljust(4096, b"\0") + table.ljust(data_at - 4096, b"\0") + data
