"""Downloads of one Dandiset under 32 concurrent clients: requests per second, latency
percentiles, and whether every download was counted.

Every download answers 302 to a signed URL and counts one more download of its
Dandiset. Counted with one ``UPDATE`` of the Dandiset's row per request, concurrent
downloads of one Dandiset queue on that row's lock; counted in memory and written in
batches (``dandisets/downloads.py``), they do not. This starts ``dandi-archive serve``
(PostgreSQL, ``--workers 2``, a Redis broker as production has) for this checkout and,
with ``--against SRC``, for another checkout's ``src`` (e.g. a worktree of an older
commit), runs the same load against each in turn, and prints both and their ratio.

    .venv/bin/python bench/downloads.py [--clients 32] [--seconds 15] [--against ../old/src]
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from _common import Server, clean_env, http_json, venv_tool
from list_assets import PG_SERVER
from sqlalchemy import create_engine, text
from validation_catchup import DANDISET, upload


def load(host: str, port: int, path: str, clients: int, seconds: float) -> tuple[list[float], int]:
    """``clients`` keep-alive connections asking for ``path`` until time is up."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(host, port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop:
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 302
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                ok = False
            if ok:
                mine.append(time.perf_counter() - start)
            else:
                bad += 1
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def empty_database(name: str) -> str:
    """A new empty database: each checkout's server migrates it to its own schema."""
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_SERVER}/{name}"


def api_key(env: dict[str, str], work: Path, email: str) -> str:
    """An admin's key, made by the checkout's own command (which also migrates)."""
    tool = venv_tool("dandi-archive")
    common = {"env": env, "check": True, "capture_output": True, "text": True}
    subprocess.run([tool, "user", "create", email, "--admin", "--data-dir", str(work)], **common)
    made = subprocess.run([tool, "user", "api-key", email, "--data-dir", str(work)], **common)
    return made.stdout.strip().split()[-1]


def count(database: str, dandiset: str) -> int:
    engine = create_engine(database)
    with engine.connect() as conn:
        query = text("SELECT download_count FROM dandisets WHERE id = :id")
        value = conn.execute(query, {"id": int(dandiset)}).scalar_one()
    engine.dispose()
    return int(value)


def run_one(label: str, env: dict[str, str], work: Path, args, database: str) -> dict:
    key = api_key(env, work, f"{label}@example.org")
    with Server(work, env, work / f"server-{label}.log", workers=2) as server:
        api = f"{server.url}/api"
        dandiset = http_json(
            "POST", f"{api}/dandisets/", {"name": label, "metadata": DANDISET}, token=key
        )["identifier"]
        blob = upload(api, key, dandiset, f"{label} downloads\n".encode())
        asset = http_json(
            "POST",
            f"{api}/dandisets/{dandiset}/versions/draft/assets/",
            {"metadata": {"path": "data.txt"}, "blob_id": blob},
            token=key,
        )["asset_id"]
        path = f"/api/assets/{asset}/download/"
        before = count(database, dandiset)
        warm, _ = load("127.0.0.1", server.port, path, 4, 2)
        latencies, errors = load("127.0.0.1", server.port, path, args.clients, args.seconds)
    # Stopping the server writes what its processes still held.
    counted = count(database, dandiset) - before
    ordered = sorted(latencies)
    return {
        "label": label,
        "rps": len(latencies) / args.seconds,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[int(0.99 * (len(ordered) - 1))] * 1000,
        "errors": errors,
        "downloads": len(warm) + len(latencies),
        "counted": counted,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--against", help="another checkout's src directory to compare with")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/11")
    args = parser.parse_args()
    runs = [("this", None)] + ([("against", args.against)] if args.against else [])
    results = []
    for label, src in runs:
        database = empty_database(f"bench_downloads_{label}")
        env = clean_env(DANDI_ARCHIVE_DATABASE_URL=database, DANDI_ARCHIVE_BROKER_URL=args.broker)
        if src:
            env["PYTHONPATH"] = str(Path(src).resolve())
        else:
            env.pop("PYTHONPATH", None)
        with tempfile.TemporaryDirectory(prefix="bench-downloads-") as tmp:
            results.append(run_one(label, env, Path(tmp), args, database))
    print(f"{args.clients} clients, {args.seconds:.0f} s, serve --workers 2, PostgreSQL")
    for r in results:
        print(
            f"  {r['label']:8} {r['rps']:7.0f} req/s  p50 {r['p50']:6.1f} ms  "
            f"p99 {r['p99']:6.1f} ms  errors {r['errors']}  "
            f"counted {r['counted']}/{r['downloads']}"
        )
    if len(results) == 2:
        print(f"  ratio this/against: {results[0]['rps'] / results[1]['rps']:.2f}x req/s")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
