"""The SHA-256 of a stored object, streamed: the checksum job, fixity and manifest
verification all hash objects of any size without holding them in memory."""

from __future__ import annotations

import hashlib

from dandi_archive.storage.base import BlobStore


def sha256_of_object(store: BlobStore, key: str) -> str:
    """Hex SHA-256 of the object at ``key`` (OSError if it cannot be read)."""
    digest = hashlib.sha256()
    for chunk in store.iter_bytes(key):
        digest.update(chunk)
    return digest.hexdigest()
