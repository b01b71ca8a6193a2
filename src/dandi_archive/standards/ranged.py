"""A stored object as a read-only, seekable file that fetches only the blocks read.

HDF5 (h5py's file-object driver) reads a file's metadata and the slices a reader asks
for, scattered over the file. This file-like object serves those reads from blocks of
``block_size`` bytes fetched on demand -- with ``os.pread`` from a local file (the folder
store) or with HTTP range requests over one kept-alive connection (a presigned URL of
the bucket) -- and keeps the most recently used blocks, so a 50 GB recording is
inspected by reading the few MiB that matter. ``bytes_fetched`` says how much was read.

Standard library only: it runs in the inspection's child process (``nwb_child``) and
in the job itself (the HDF5 signature sniff), neither of which may load more.
"""

from __future__ import annotations

import http.client
import io
import os
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

# An HDF5 file starts with this signature, at 0 or (after a user block) at 512, 1024, ...
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# Where the sniff stops looking: user blocks larger than this are not met in NWB files.
MAX_USER_BLOCK = 2**24


class RangeError(OSError):
    """The store did not answer a range request as asked."""


class _LocalSource:
    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDONLY)

    def fetch(self, start: int, length: int) -> bytes:
        return os.pread(self._fd, length, start)

    def close(self) -> None:
        os.close(self._fd)


class _HttpSource:
    """Range GETs of one URL over a kept-alive connection (re-opened when dropped)."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._target = parts.path + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._netloc, timeout=self._timeout)
        return self._conn

    def fetch(self, start: int, length: int) -> bytes:
        headers = {"Range": f"bytes={start}-{start + length - 1}"}
        for attempt in (1, 2):  # a kept-alive connection the server closed is re-opened once
            conn = self._connection()
            try:
                conn.request("GET", self._target, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.status == 206:
                return body
            if response.status == 200 and start == 0:
                return body[:length]  # a store that ignores ranges on a small object
            raise RangeError(f"range request answered {response.status}: {body[:200]!r}")
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class RangedFile(io.RawIOBase):
    """``size`` bytes at ``location`` (a local path or an http(s) URL), read block-wise."""

    def __init__(
        self,
        location: str,
        size: int,
        *,
        block_size: int = 2**20,
        cached_blocks: int = 64,
        timeout: float = 60.0,
    ) -> None:
        super().__init__()
        self._source: Any = (
            _HttpSource(location, timeout)
            if location.startswith(("http://", "https://"))
            else _LocalSource(location)
        )
        self.size = size
        self.block_size = block_size
        self._cached_blocks = cached_blocks
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._position = 0
        self.bytes_fetched = 0
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def _block(self, index: int) -> bytes:
        block = self._blocks.get(index)
        if block is not None:
            self._blocks.move_to_end(index)
            return block
        start = index * self.block_size
        block = self._source.fetch(start, min(self.block_size, self.size - start))
        self.bytes_fetched += len(block)
        self.requests += 1
        self._blocks[index] = block
        if len(self._blocks) > self._cached_blocks:
            self._blocks.popitem(last=False)
        return block

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), max(0, self.size - self._position))
        done = 0
        while done < wanted:
            position = self._position + done
            index, offset = divmod(position, self.block_size)
            block = self._block(index)
            if offset >= len(block):
                break  # the object is shorter than announced
            n = min(wanted - done, len(block) - offset)
            view[done : done + n] = block[offset : offset + n]
            done += n
        self._position += done
        return done

    def close(self) -> None:
        if not self.closed:
            self._source.close()
            self._blocks.clear()
        super().close()


def looks_like_hdf5(f: RangedFile) -> bool:
    """Whether the HDF5 signature is where the format puts it (0, 512, 1024, ...)."""
    offset = 0
    while offset + len(HDF5_SIGNATURE) <= min(f.size, MAX_USER_BLOCK):
        f.seek(offset)
        if f.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
            return True
        offset = 512 if offset == 0 else offset * 2
    return False
