"""A seekable, read-only file over one stored object, read by byte ranges.

Container images are gigabytes, but what describes them (a SIF header and its
descriptor table, the headers of a tar's members and a few small JSON members) is a
few kilobytes at known offsets. Everything read goes through a :class:`Budget`, so a
slow store or a file built to make the reader wander is given up on cleanly.
"""

from __future__ import annotations

import io
import time

from dandi_archive.storage.base import BlobStore


class GaveUp(Exception):
    """The time or byte budget of one inspection ran out."""


class StoreUnreadable(Exception):
    """The store failed to answer a read (not the file's fault)."""


class Budget:
    """How long one inspection may take, and how many bytes it may read."""

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.left = max_bytes

    def spend(self, nbytes: int) -> None:
        if time.monotonic() > self.deadline:
            raise GaveUp(f"reading took longer than {self.seconds:g} s")
        self.left -= nbytes
        if self.left < 0:
            raise GaveUp("describing it needs more reads than a container image does")


class StoreFile(io.RawIOBase):
    """``store``'s object ``key`` (of ``size`` bytes) as a raw binary file: every read is
    one ranged read of the store. Wrap it in :class:`io.BufferedReader`."""

    def __init__(self, store: BlobStore, key: str, size: int, budget: Budget) -> None:
        self.store, self.key, self.size, self.budget = store, key, size, budget
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self.position = base + offset
        return self.position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self.size - self.position)
        if want <= 0:
            return 0
        self.budget.spend(want)
        try:
            data = self.store.read_range(self.key, self.position, want)
        except Exception as exc:
            raise StoreUnreadable(f"reading {self.key} failed: {exc!r}") from exc
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)

    def pread(self, offset: int, length: int) -> bytes:
        """Exactly the bytes at ``offset`` (fewer only at the end of the object)."""
        self.seek(offset)
        chunks = []
        while length > 0 and (chunk := self.read(length)):
            chunks.append(chunk)
            length -= len(chunk)
        return b"".join(chunks)
