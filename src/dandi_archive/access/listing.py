"""A listing of the folder store's bucket as an anonymous S3 client sees it
(ListObjects / ListObjectsV2): the keys an unsigned read would serve, in key order,
grouped by a delimiter into common prefixes, one page at a time.

What is listed follows the read rule (``access.bucket``): embargoed objects, blobs that
failed fixity, unfinished uploads and anything the archive did not write are left out,
and a common prefix is shown only when something below it is listed, so a listing
names no embargoed Zarr or blob.

The bucket is walked in key order and judged in batches (a few queries per batch, not
per key). Once a common prefix is listed, or a Zarr or Dandiset folder turns out to be
refused as a whole, the walk jumps past it instead of judging every key inside.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy.orm import Session

from dandi_archive.access.bucket import Owner, anonymously_readable, key_problem, owner_of
from dandi_archive.storage.base import BlobStore, ObjectInfo

MAX_KEYS = 1000  # S3's largest page; larger max-keys are served as this
# Sorts after every key that starts with a given prefix (the largest code point; code
# point order is S3's UTF-8 byte order).
PAST = "\U0010ffff"
FIRST_BATCH, LARGEST_BATCH = 8, 256


@dataclass
class Listing:
    contents: list[ObjectInfo] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None  # the last key or common prefix listed: the next page's start


def list_objects(
    store: BlobStore,
    session: Session,
    *,
    prefix: str = "",
    delimiter: str = "",
    after: str = "",
    max_keys: int = MAX_KEYS,
) -> Listing:
    """One page: at most ``max_keys`` keys and common prefixes (together) that sort
    after ``after``. A common prefix equal to ``after`` was the previous page's last
    entry, so nothing below it is listed again."""
    listing = Listing()
    if prefix and key_problem(prefix + "x") is not None:
        return listing  # no stored key starts like this ("../", "a//"): nothing to walk
    keys = _ReadableKeys(store, session, prefix, after)
    while (info := keys.next()) is not None:
        common = _common_prefix(info.key, prefix, delimiter)
        if common is not None and common == after:
            keys.skip_past(common)
            continue
        if len(listing.contents) + len(listing.prefixes) >= max_keys:
            listing.truncated = True
            break
        if common is None:
            listing.contents.append(info)
            listing.last = info.key
        else:
            listing.prefixes.append(common)
            listing.last = common
            keys.skip_past(common)
    return listing


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    index = key.find(delimiter, len(prefix))
    return None if index < 0 else key[: index + len(delimiter)]


class _ReadableKeys:
    """The readable keys below ``prefix`` after ``after``, in order, judged in batches
    that grow while the walk goes on and start small again after a jump (a listing by
    folder reads a few keys of each folder, not hundreds)."""

    def __init__(self, store: BlobStore, session: Session, prefix: str, after: str) -> None:
        self.store = store
        self.session = session
        self.prefix = prefix
        self._restart(after)

    def _restart(self, after: str) -> None:
        self.source: Iterator[ObjectInfo] = self.store.list_keys(self.prefix, after)
        self.pending: deque[ObjectInfo] = deque()
        self.batch = FIRST_BATCH

    def skip_past(self, subtree: str) -> None:
        """Go on after every key that starts with ``subtree``."""
        self._restart(subtree + PAST)

    def next(self) -> ObjectInfo | None:
        while not self.pending:
            batch = list(islice(self.source, self.batch))
            if not batch:
                return None
            self.batch = min(self.batch * 2, LARGEST_BATCH)
            readable = anonymously_readable(self.session, [info.key for info in batch])
            kept, jump = [], None
            for info, ok in zip(batch, readable, strict=True):
                if ok:
                    kept.append(info)
                    continue
                owner = owner_of(info.key)
                if isinstance(owner, Owner) and owner.subtree is not None:
                    # The owner refuses every key of its folder: jump past all of them
                    # (what this batch held after it is read again from there).
                    jump = owner.subtree
                    break
            if jump is not None:
                self.skip_past(jump)
            self.pending.extend(kept)
        return self.pending.popleft()
