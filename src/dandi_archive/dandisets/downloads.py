"""Download counts without a row lock on the request path.

Upstream adds one to the Dandiset's row on every download, so all downloads of one
Dandiset queue on that row's lock. Here each process tallies downloads in memory and
adds them to the rows in one short transaction every few seconds
(``download_count_flush_seconds``): a download costs a dictionary update, and the
write is one statement per distinct count, whatever the traffic. A process that dies
loses at most its last interval's counts, which "most downloaded" can afford.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable

from sqlalchemy import update

from dandi_archive.db.models import Dandiset
from dandi_archive.db.session import Database

log = logging.getLogger(__name__)


class DownloadTally:
    def __init__(self, db: Database, interval_seconds: float) -> None:
        self._db = db
        self._interval = interval_seconds
        self._lock = threading.Lock()
        self._counts: Counter[int] = Counter()
        self._timer: threading.Timer | None = None
        self._closed = False

    def add(self, dandiset_ids: Iterable[int]) -> None:
        """One more download of each of these Dandisets (each counted once)."""
        self._merge(Counter(set(dandiset_ids)))

    def flush(self) -> None:
        """Write what was counted so far; on failure keep it for the next interval."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
            if self._timer is not None:
                self._timer.cancel()  # harmless when called by the timer itself
                self._timer = None
        if not counts:
            return
        try:
            self._write(counts)
        except Exception:  # a database away for a moment must not lose the counts
            log.warning("download counts not written; retrying later", exc_info=True)
            self._merge(counts)

    def close(self) -> None:
        """A last write when the process stops; nothing is scheduled after it."""
        self._closed = True
        self.flush()

    def _merge(self, counts: Counter[int]) -> None:
        if not counts:
            return
        with self._lock:
            self._counts.update(counts)
            if self._timer is None and not self._closed:
                self._timer = threading.Timer(self._interval, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def _write(self, counts: Counter[int]) -> None:
        by_count: dict[int, list[int]] = defaultdict(list)
        for dandiset_id, n in counts.items():
            by_count[n].append(dandiset_id)
        with self._db.session(write=True) as session:
            for n, ids in sorted(by_count.items()):
                session.execute(
                    update(Dandiset)
                    .where(Dandiset.id.in_(sorted(ids)))  # row locks in one order
                    # A download changes nothing in the Dandiset: keep its modified time.
                    .values(download_count=Dandiset.download_count + n, modified=Dandiset.modified)
                    .execution_options(synchronize_session=False)
                )
