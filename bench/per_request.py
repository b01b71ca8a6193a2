"""Per-request cost of the side-by-side's endpoints, in process: queries, DB time, Python time.

Wall-clock latencies on a shared machine move with the load; what a request costs this
process does not. This builds the application from the environment (``DANDI_ARCHIVE_*``,
e.g. the side-by-side kit's ``ours_env``), sends each endpoint ``--rounds`` requests through
the ASGI interface (no sockets, no server), and prints per request: SQL statements, time
inside the database driver, and process CPU time. ``--profile NAME`` prints a cProfile of
one endpoint instead.

    source ../shared/anchors/genuine/env.sh; ours_env
    PYTHONPATH=src .venv/bin/python bench/per_request.py --key KEY --dandiset 000001 \\
        --asset ASSET_ID [--rounds 200] [--profile 'version info']
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import httpx
from sqlalchemy import event

from dandi_archive.app import create_app


class QueryClock:
    """Counts statements and the time spent executing them (driver + server + network)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self._started: list[float] = []
        self.by_statement: dict[str, list[float]] = {}

    def attach(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_args: Any) -> None:
        self.count += 1
        self._started.append(time.perf_counter())

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        took = time.perf_counter() - self._started.pop()
        self.seconds += took
        self.by_statement.setdefault(statement, []).append(took)


def endpoints(dandiset: str, asset: str) -> list[tuple[str, str, str, Callable[[], Any] | None]]:
    draft = f"/api/dandisets/{dandiset}/versions/draft"

    def init_body() -> dict[str, Any]:
        digest = {"algorithm": "dandi:dandi-etag", "value": uuid.uuid4().hex + "-1"}
        return {"contentSize": 1000, "dandiset": dandiset, "digest": digest}

    def create_body() -> dict[str, Any]:
        metadata = {"name": "bench", "description": "per_request", "license": ["spdx:CC-BY-4.0"]}
        return {"name": f"bench {uuid.uuid4().hex[:8]}", "metadata": metadata}

    return [
        ("info", "GET", "/api/info/", None),
        ("dandiset list ps=100", "GET", "/api/dandisets/?page_size=100", None),
        ("dandiset detail", "GET", f"/api/dandisets/{dandiset}/", None),
        ("version info", "GET", f"{draft}/info/", None),
        ("assets page 1 ps=100", "GET", f"{draft}/assets/?page_size=100", None),
        ("paths ?path_prefix=", "GET", f"{draft}/assets/paths/?path_prefix=", None),
        ("paths sub-05/", "GET", f"{draft}/assets/paths/?path_prefix=sub-05/", None),
        ("asset metadata", "GET", f"/api/assets/{asset}/", None),
        ("users/me", "GET", "/api/users/me/", None),
        ("download redirect", "GET", f"/api/assets/{asset}/download/", None),
        ("dandiset ?search=mouse", "GET", "/api/dandisets/?search=mouse", None),
        ("upload initialize", "POST", "/api/uploads/initialize/", init_body),
        ("create dandiset", "POST", "/api/dandisets/", create_body),
    ]


def run_threads_inline() -> None:
    """Run what FastAPI sends to its thread pool in the calling thread, so that cProfile
    (which sees one thread) sees the routes and dependencies."""

    async def run_sync(func: Callable[..., Any], *args: Any, **_kwargs: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]


async def run(args: argparse.Namespace) -> None:
    if args.profile or args.inline:
        run_threads_inline()
    app = create_app()
    archive = app.state.archive
    clock = QueryClock()
    clock.attach(archive.db.engine)
    if archive.db.write_engine is not archive.db.engine:
        clock.attach(archive.db.write_engine)
    headers = {"Authorization": f"token {args.key}"}
    transport = httpx.ASGITransport(app=app)
    chosen = [e for e in endpoints(args.dandiset, args.asset) if args.only in (None, e[0])]
    if args.profile:
        chosen = [e for e in chosen if e[0] == args.profile]
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:

        async def send(method: str, path: str, body: Callable[[], Any] | None) -> int:
            response = await c.request(method, path, json=body() if body else None)
            return response.status_code

        print(f"{'endpoint':24s} {'status':>6s} {'queries':>8s} {'db ms':>7s} {'cpu ms':>7s}")
        for name, method, path, body in chosen:
            for _ in range(5):
                await send(method, path, body)
            profiler = cProfile.Profile() if args.profile else None
            clock.count, clock.seconds, clock.by_statement = 0, 0.0, {}
            cpu = time.process_time()
            if profiler:
                profiler.enable()
            for _ in range(args.rounds):
                status = await send(method, path, body)
            if profiler:
                profiler.disable()
            cpu = (time.process_time() - cpu) * 1000 / args.rounds
            n = args.rounds
            print(
                f"{name:24s} {status:6d} {clock.count / n:8.1f} "
                f"{clock.seconds * 1000 / n:7.2f} {cpu:7.2f}"
            )
            if args.queries:
                for statement, times in clock.by_statement.items():
                    mean = sum(times) * 1000 / len(times)
                    flat = " ".join(statement.split())
                    print(f"    {len(times) / n:4.1f}x {mean:6.2f} ms  {flat[:150]}")
            if profiler:
                stats = pstats.Stats(profiler)
                stats.sort_stats(args.sort).print_stats(args.lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key", required=True, help="an API key of the archive")
    parser.add_argument("--dandiset", required=True, help="the big Dandiset's identifier")
    parser.add_argument("--asset", required=True, help="an asset id of it")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--only", help="one endpoint by name")
    parser.add_argument("--profile", help="cProfile this endpoint")
    parser.add_argument("--queries", action="store_true", help="each statement's mean time")
    parser.add_argument("--inline", action="store_true", help="no thread pool (as --profile)")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=45)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
