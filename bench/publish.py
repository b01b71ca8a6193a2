"""Publishing a Dandiset with 100,000 assets, on PostgreSQL.

What it measures, against a ``dandi-archive serve`` process on PostgreSQL (folder store,
jobs in the server process) started on a free port:

* time from ``POST …/versions/draft/publish/`` to the draft reading ``Published`` (the
  moment the new version and its 100,000 asset links exist), polled every 50 ms;
  target < 10 s;
* time until the version's five manifests are in the bucket, and the server's peak
  resident memory while they are written (they are streamed, so it should stay near
  the idle figure, not grow with the number of assets).

The Dandiset is set up exactly as in ``bench/list_assets.py`` (a sample of assets
through the services, the rest bulk-inserted as those services would write them; all
Valid, the draft validated), in a database of its own (``--database``), recreated on
every run because publishing changes it.

Run (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/publish.py                  # 100,000 assets
    .venv/bin/python bench/publish.py --assets 10000   # quicker
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _common import RssSampler, Server, clean_env, http_json, human_bytes
from list_assets import recreate_database, setup
from sqlalchemy import select

from dandi_archive.accounts import users
from dandi_archive.archive import build_archive
from dandi_archive.config import Settings
from dandi_archive.db.models import User

MANIFESTS = (
    "dandiset.jsonld",
    "dandiset.yaml",
    "assets.jsonld",
    "assets.yaml",
    "collection.jsonld",
)


def admin_key(url: str, data_dir: Path) -> str:
    archive = build_archive(Settings(data_dir=data_dir, database_url=url), run_jobs_in_process=True)
    try:
        with archive.db.session(write=True) as session:
            admin = session.scalars(select(User).where(User.is_admin)).one()
            return users.get_or_create_api_key(session, admin)
    finally:
        archive.close()


def wait_for(predicate, timeout: float, interval: float = 0.05) -> float:
    """Seconds until ``predicate()`` is true (SystemExit after ``timeout``)."""
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"gave up after {timeout} s")
        time.sleep(interval)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=100_000, help="default 100000")
    parser.add_argument("--database", default="dandi_bench_publish")
    parser.add_argument("--sample", type=int, default=50, help="assets added via the service")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dandi-bench-publish-") as tmp:
        data_dir = Path(tmp) / "archive"
        print(f"setting up database {args.database} with {args.assets} assets")
        url = recreate_database(args.database)
        archive = build_archive(
            Settings(data_dir=data_dir, database_url=url), run_jobs_in_process=True
        )
        try:
            identifier = setup(archive, args.assets, min(args.sample, args.assets))
        finally:
            archive.close()
        key = admin_key(url, data_dir)

        with Server(
            data_dir, clean_env(DANDI_ARCHIVE_DATABASE_URL=url), Path(tmp) / "server.log"
        ) as server:
            api = f"{server.url}/api/dandisets/{identifier}"
            info = http_json("GET", f"{api}/versions/draft/info/")
            assert info["status"] == "Valid" and not info["asset_validation_errors"], info
            load = os.getloadavg()[0]
            print(f"server {server.url}; load average {load:.1f} on {os.cpu_count()} CPUs")

            def draft_status() -> str:
                return http_json("GET", f"{api}/versions/draft/info/")["status"]

            with RssSampler(server.pid) as memory:
                started = time.perf_counter()
                http_json("POST", f"{api}/versions/draft/publish/", token=key)
                accepted = time.perf_counter() - started
                published = accepted + wait_for(lambda: draft_status() == "Published", 600)
                versions = http_json("GET", f"{api}/versions/?order=-created")["results"]
                version = versions[0]["version"]
                assert versions[0]["asset_count"] == args.assets, versions[0]
                folder = data_dir / "bucket" / "dandisets" / identifier / version
                written = published + wait_for(
                    lambda: all((folder / name).exists() for name in MANIFESTS), 3600, 0.2
                )
            sizes = {name: (folder / name).stat().st_size for name in MANIFESTS}

        print()
        print(f"publish of {args.assets} assets -> {version}")
        print(f"  request answered (202):           {accepted * 1000:8.0f} ms")
        print(f"  request to Published:             {published:8.2f} s   (target < 10 s)")
        print(f"  request to all manifests written: {written:8.2f} s")
        print("  manifests: " + ", ".join(f"{n} {human_bytes(s)}" for n, s in sizes.items()))
        print(
            f"  server memory: {human_bytes(memory.start_rss)} before, "
            f"peak {human_bytes(memory.peak_rss)} while publishing and writing manifests"
        )


if __name__ == "__main__":
    main()
