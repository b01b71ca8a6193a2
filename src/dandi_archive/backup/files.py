"""Copying one file with its SHA-256, its modification time and its ``user.*``
extended attributes (the folder store keeps each object's ETag and Content-Type
there: a multipart ETag cannot be recomputed from the bytes alone)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

CHUNK = 8 * 2**20


@dataclass(frozen=True)
class Copied:
    size: int
    sha256: str
    mtime_ns: int
    xattrs: dict[str, str]


def read_xattrs(fd: int) -> dict[str, str]:
    found: dict[str, str] = {}
    with contextlib.suppress(OSError):  # a file system without extended attributes
        for name in os.listxattr(fd):
            if name.startswith("user."):
                found[name] = os.getxattr(fd, name).decode("utf-8", "surrogateescape")
    return found


def write_xattrs(path: Path, xattrs: dict[str, str]) -> None:
    for name, value in xattrs.items():
        os.setxattr(path, name, value.encode("utf-8", "surrogateescape"))


def copy_file(source: Path, target: Path) -> Copied:
    """Copy ``source`` to ``target`` (a new file), hashing the bytes as they pass. The
    attributes are read from the open file, so they belong to the bytes copied even if
    the name is given to a new file meanwhile (the store replaces, never rewrites)."""
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as src:
        stat = os.fstat(src.fileno())
        xattrs = read_xattrs(src.fileno())
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    os.utime(target, ns=(stat.st_mtime_ns, stat.st_mtime_ns))
    return Copied(size, digest.hexdigest(), stat.st_mtime_ns, xattrs)


def sha256_of(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
