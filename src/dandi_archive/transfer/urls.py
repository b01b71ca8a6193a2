"""Object URLs of the old bucket rewritten to the new one.

The folder store's objects are addressed at the archive (``{base}/{bucket}/{key}``);
on S3 they are at the bucket's own address. Published metadata and the manifests in
the bucket hold such URLs, so the copy says where the objects are now. Only a string
that *starts* with one of the old prefixes is changed, the key after it kept as is
(both stores quote keys alike).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import IO, Any


class UrlRewrite:
    def __init__(self, old_prefixes: Sequence[str], new_prefix: str) -> None:
        self.old = tuple(p for p in old_prefixes if p != new_prefix)
        self.new = new_prefix
        # Longest first, so that no prefix wins over a longer one it begins.
        ordered = sorted(self.old, key=len, reverse=True)
        self._pattern = re.compile(b"|".join(re.escape(p.encode()) for p in ordered))
        self._longest = max((len(p.encode()) for p in ordered), default=0)

    def value(self, value: Any) -> Any:
        """A JSON value with every URL string of the old bucket pointing at the new one."""
        if isinstance(value, str):
            for prefix in self.old:
                if value.startswith(prefix):
                    return self.new + value[len(prefix) :]
            return value
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def stream(self, chunks: Iterable[bytes], out: IO[bytes]) -> None:
        """Copy the bytes of a text document (JSON, YAML) to ``out`` with the old URL
        prefixes replaced, holding back only as many bytes as a prefix is long (a prefix
        may be split between two chunks)."""
        if not self.old:
            for chunk in chunks:
                out.write(chunk)
            return
        new = self.new.encode()
        held = b""
        for chunk in chunks:
            buffer = held + chunk
            # A match starting before `safe` lies wholly inside the buffer.
            safe = len(buffer) - (self._longest - 1)
            position = 0
            for match in self._pattern.finditer(buffer):
                if match.start() >= safe:
                    break
                out.write(buffer[position : match.start()])
                out.write(new)
                position = match.end()
            cut = max(position, safe)
            out.write(buffer[position:cut])
            held = buffer[cut:]
        out.write(self._pattern.sub(lambda _m: new, held))
