"""Recognising a stored file as a container image by its first bytes, and describing it.

Every new blob is looked at once (one ranged read of its first 512 bytes): a SIF
image has ``SIF_MAGIC`` at offset 32, a tar ``ustar`` at offset 257. Only those are
read further. The result is what ``asset_blobs.container`` keeps::

    {"content": "sif" | "docker-archive" | "oci-archive" | "tar" | "other",
     "image": {...facts...},   # a readable image
     "problem": "..."}         # an image (or tar) that could not be read, in words
"""

from __future__ import annotations

import io
import logging
import struct
import tarfile
from typing import Any

from dandi_archive.containers import archives, sif
from dandi_archive.containers.oci import BadImage
from dandi_archive.containers.reader import Budget, GaveUp, StoreFile
from dandi_archive.storage.base import BlobStore

log = logging.getLogger(__name__)

SIF = "sif"
IMAGE_KINDS = (SIF, archives.DOCKER_ARCHIVE, archives.OCI_ARCHIVE)
TAR_MAGIC_OFFSET = 257
# Headers, descriptor tables and JSON documents: a few hundred kilobytes for the
# largest images; a budget far above that still bounds a hostile file.
MAX_READ_BYTES = 64 * 2**20
TAR_BUFFER = 16 * 2**10  # one ranged read covers a member's header (and small JSON)


def inspect_object(
    store: BlobStore, key: str, size: int, seconds: float, max_bytes: int = MAX_READ_BYTES
) -> dict[str, Any]:
    """What the object at ``key`` is; never raises for what its bytes are, only when the
    store cannot be read (:class:`~.reader.StoreUnreadable`)."""
    raw = StoreFile(store, key, size, Budget(seconds, max_bytes))
    content = "unknown"
    try:
        head = raw.pread(0, 512)
        if sif.is_sif(head):
            content = SIF
            return {"content": SIF, "image": sif.read_sif(raw.pread, size)}
        if head[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] != b"ustar":
            return {"content": "other"}
        content = "tar"
        raw.seek(0)  # tarfile starts where the file stands
        kind, facts = archives.read_tar(io.BufferedReader(raw, TAR_BUFFER))
    except BadImage as exc:
        return {"content": exc.kind or content, "problem": str(exc)}
    except GaveUp as exc:
        return {"content": content, "problem": f"gave up: {exc}"}
    except (tarfile.TarError, EOFError) as exc:
        return {"content": content, "problem": f"the tar archive is damaged ({exc})"}
    except (struct.error, ValueError, UnicodeError) as exc:
        log.info("container %s unreadable: %r", key, exc)
        return {"content": content, "problem": f"it could not be read ({exc})"}
    return {"content": kind, "image": facts} if facts is not None else {"content": "tar"}
