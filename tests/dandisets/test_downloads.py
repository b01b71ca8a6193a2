"""Download counts: exact under concurrent downloads, written in batches, never a
write on the download request itself (so downloads of one Dandiset never queue on
its row lock)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import event, select

from dandi_archive.db.models import Dandiset


def downloads_of(api, dandiset: str) -> int:
    with api.archive.db.session() as session:
        return session.scalar(select(Dandiset.download_count).where(Dandiset.id == int(dandiset)))


class Writes:
    """Counts the statements that change the ``dandiset`` table while active."""

    def __init__(self, api) -> None:
        self.engines = {api.archive.db.engine, api.archive.db.write_engine}
        self.count = 0

    def _seen(self, conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("UPDATE DANDISET"):
            self.count += 1

    def __enter__(self) -> Writes:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._seen)


def test_concurrent_downloads_are_counted_exactly_without_a_write_each(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    asset = api.add_asset(key, dandiset, "data.bin", b"x" * 1000)["asset_id"]
    api.wait_for_jobs()
    url = f"/api/assets/{asset}/download/"

    def download(_: int) -> int:
        return api.get(url, follow_redirects=False).status_code

    with Writes(api) as writes:
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(download, range(40))) == {302}
        assert writes.count == 0  # the requests themselves wrote nothing
        api.archive.downloads.flush()
        assert writes.count == 1  # one statement for the whole batch
    assert downloads_of(api, dandiset) == 40


def test_counts_reach_the_database_on_their_own(make_api):
    api = make_api(download_count_flush_seconds=0.2)
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    asset = api.add_asset(key, dandiset, "data.bin", b"y" * 100)["asset_id"]
    for _ in range(3):
        r = api.get(f"/api/assets/{asset}/download/", follow_redirects=False)
        assert r.status_code == 302
    deadline = time.monotonic() + 10
    while downloads_of(api, dandiset) != 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert downloads_of(api, dandiset) == 3


def test_counts_survive_a_failed_write(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    api.archive.downloads.add([int(dandiset)])
    real = api.archive.downloads._write  # type: ignore[attr-defined]

    def unavailable(counts):
        raise OSError("database unavailable")

    api.archive.downloads._write = unavailable  # type: ignore[attr-defined]
    api.archive.downloads.flush()
    assert downloads_of(api, dandiset) == 0
    api.archive.downloads._write = real  # type: ignore[attr-defined]
    api.archive.downloads.add([int(dandiset)])
    api.archive.downloads.flush()
    assert downloads_of(api, dandiset) == 2
