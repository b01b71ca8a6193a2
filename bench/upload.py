"""Upload of one large file through the real ``dandi upload`` client, compared with ``cp``.

What it measures (all on the same disk, everything on loopback), ``--runs`` times:

* ``cp``: wall time of ``cp FILE COPY`` with FILE in the page cache (the copy lands in
  the page cache too; the ``sync`` after it is timed separately and not counted).
* ``dandi upload`` of FILE to a ``dandi-archive serve`` on the embedded default
  (SQLite + folder store, jobs in-process) that this script starts on a free port with
  a fresh data dir, an admin account, its API key and a new Dandiset:

  - *full*: wall time of the whole ``dandi upload`` command (interpreter start-up,
    server discovery, validation, digest lookup, upload, asset creation);
  - *upload proper*: from the client's "initiating upload" status to its "producing
    asset" status, i.e. initialize + all part PUTs + complete + validate. The client's
    dandi-etag is computed beforehand with ``dandi digest`` (its cache is then warm), so
    the client hashing the whole file is not included; the server still hashes what it
    receives (each part's MD5 is its ETag), as S3 does.

* ratio ``cp_time / upload_time`` (target >= 0.5) of the medians, computed with the
  *upload proper*; the ratio with the full command is printed too.
* the server's peak RSS during the uploads (target < 300 MB): the largest VmRSS sum over
  the server's process tree, sampled every 20 ms, and the tree's VmHWM at the end
  (lifetime peak; catches spikes between samples).
* how long after each upload the server's background SHA-256 of the blob is ready.

Fairness: before each ``cp`` and each upload FILE is read once, so both read it from
the page cache; dirty pages are flushed and then the same ``--settle`` time passes
before each (see ``settle()`` for why that matters on a VM); each copy is deleted
before the upload, so neither pays for the other's write-back. Every run uploads new
content (the first bytes of FILE are rewritten): the same content twice would be
deduplicated by the server without any transfer.

Run (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/upload.py                      # 1 GiB, 3 runs
    .venv/bin/python bench/upload.py --size 256M --runs 1 --workdir /tmp/upload-bench
    .venv/bin/python bench/upload.py --profile /tmp/prof  # py-spy of server and client

The client's caches and logs go to the work directory, never to ~/.cache.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    GiB,
    MiB,
    RssSampler,
    Server,
    clean_env,
    http_json,
    human_bytes,
    parse_size,
    tree_cpu_seconds,
    venv_tool,
)

ADMIN = "bench-admin@example.org"
STATUS = re.compile(r"'status': '([^']*)'")


@dataclass
class Run:
    cp: float
    cp_sync: float
    digest: float
    full: float
    proper: float
    create: float
    sha256: float
    server_cpu: float
    client_cpu: float


def make_file(path: Path, size: int) -> None:
    """Random (incompressible) bytes, written in 64 MiB blocks."""
    block = 64 * MiB
    with open(path, "wb") as fh:
        remaining = size
        while remaining:
            n = min(block, remaining)
            fh.write(os.urandom(n))
            remaining -= n


def new_content(path: Path) -> None:
    """Give the file new content (so a new dandi-etag) by rewriting its first bytes."""
    with open(path, "r+b") as fh:
        fh.write(os.urandom(4096))


def warm(path: Path) -> None:
    """Read the file so it sits in the page cache."""
    with open(path, "rb") as fh:
        while fh.read(16 * MiB):
            pass


def sync() -> None:
    subprocess.run(["sync"], check=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)


def settle(seconds: float) -> None:
    """Flush dirty pages, then wait so that both timed steps start in the same state.

    On a VM whose balloon driver reports free pages to the host (virtio-balloon free
    page reporting), memory freed a few seconds ago is handed back to the host, and
    touching it again costs a host page fault: writing 1 GiB into the page cache then
    takes several times longer than right after a big free. Waiting the same time
    before ``cp`` and before the upload makes both pay the same.
    """
    sync()
    time.sleep(seconds)


def timed_cp(source: Path, target: Path, settle_seconds: float) -> tuple[float, float]:
    """Seconds of a warm ``cp``, and of the ``sync`` after it (the copy is then deleted)."""
    warm(source)
    settle(settle_seconds)
    start = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    copied = time.perf_counter()
    sync()
    synced = time.perf_counter()
    target.unlink()
    sync()
    return copied - start, synced - copied


def py_spy(output: Path, *target: str) -> list[str]:
    """A py-spy command sampling ``target`` (``--pid N`` or ``-- CMD...``) into ``output``."""
    return [venv_tool("py-spy"), "record", "--threads", "--idle", "--rate", "250",
            "--format", "raw", "--output", str(output), *target]  # fmt: skip


@contextlib.contextmanager
def profiler(pid: int, output: Path | None) -> Iterator[None]:
    """Sample process ``pid`` with py-spy (``pip install py-spy``) while the block runs."""
    if output is None:
        yield
        return
    spy = subprocess.Popen(py_spy(output, "--pid", str(pid)), stdout=subprocess.DEVNULL)
    time.sleep(1)  # let it attach
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait()


@dataclass
class Status:
    """When the client reported a status, and the server's CPU time used until then."""

    time: float
    server_cpu: float


def run_upload(
    cmd: list[str], env: dict[str, str], cwd: Path, log: Path, server_pid: int
) -> dict[str, Status]:
    """Run ``dandi upload --devel-debug`` and time each status it reports.

    With ``--devel-debug`` the client prints every status record of the file as a dict
    on stdout (flushed), so reading them as they come gives their times.
    """
    seen: dict[str, Status] = {}
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            now = time.perf_counter()
            match = STATUS.search(line)
            if match and match[1] not in seen:
                seen[match[1]] = Status(now, tree_cpu_seconds(server_pid))
        process.wait()
    wanted = ("initiating upload", "producing asset", "done")
    if process.returncode != 0 or any(s not in seen for s in wanted):
        raise SystemExit(f"dandi upload failed (statuses seen: {sorted(seen)}); see {log}")
    return seen


def wait_for_sha256(url: str, asset_id: str, timeout: float = 600) -> float:
    """Seconds until the asset's metadata carries the blob's SHA-256."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        meta = http_json("GET", f"{url}/api/assets/{asset_id}/")
        if "dandi:sha2-256" in meta.get("digest", {}):
            return time.perf_counter() - start
        time.sleep(0.05)
    raise SystemExit("the server did not compute the SHA-256 in time")


def create_account(data_dir: Path, env: dict[str, str]) -> str:
    """An admin account in the archive's database; returns its API key."""
    archive_cli = venv_tool("dandi-archive")
    data = ["--data-dir", str(data_dir)]
    run([archive_cli, "user", "create", ADMIN, "--admin", "--name", "Bench Admin", *data], env=env)
    return run([archive_cli, "user", "api-key", ADMIN, *data], env=env).stdout.strip()


@dataclass
class Target:
    """The server under test, with the Dandiset and client settings to upload there."""

    server: Server
    identifier: str
    dandiset_dir: Path
    client_env: dict[str, str]


def open_target(workdir: Path, stack: contextlib.ExitStack) -> Target:
    """Start a fresh embedded server with an admin, its API key and a new Dandiset."""
    data_dir = workdir / "archive"
    server_env = clean_env()
    key = create_account(data_dir, server_env)
    server = stack.enter_context(Server(data_dir, server_env, workdir / "server.log"))
    created = http_json(
        "POST",
        f"{server.url}/api/dandisets/",
        {"name": "Upload benchmark", "metadata": {"description": "bench/upload.py"}},
        token=key,
    )
    dandiset_dir = workdir / "dandiset"
    dandiset_dir.mkdir(exist_ok=True)
    (dandiset_dir / "dandiset.yaml").write_text(f"identifier: '{created['identifier']}'\n")
    client_env = clean_env(
        DANDI_NO_ET="1",
        DANDI_DEVEL="1",
        XDG_CACHE_HOME=str(workdir / "client-cache"),
        XDG_STATE_HOME=str(workdir / "client-state"),
        # For a URL it does not know, the client reads the key from "<host:port>_API_KEY".
        **{f"{server.url.removeprefix('http://')}_API_KEY": key},
    )
    return Target(server, created["identifier"], dandiset_dir, client_env)


def one_run(n: int, source: Path, target: Target, workdir: Path, args: argparse.Namespace) -> Run:
    """New content in ``source``; time a ``cp`` of it, then its upload."""
    server, dandi = target.server, venv_tool("dandi")
    # New content under a new name: no deduplication, no replacement of an asset.
    path = target.dandiset_dir / f"blob-{n}.dat"
    new_content(source)
    source.rename(path)
    try:
        start = time.perf_counter()
        run([dandi, "digest", "-d", "dandi-etag", str(path)], env=target.client_env)
        digest_time = time.perf_counter() - start
        cp_time, cp_sync = timed_cp(path, workdir / "copy.dat", args.settle)

        profile: Path | None = args.profile
        spy_client = py_spy(profile / f"client-{n}.txt", "--") if profile else []
        jobs = ["-J", args.jobs] if args.jobs else []
        cmd = [*spy_client, dandi, "upload", "-i", server.url, "--allow-any-path",
               "--devel-debug", *jobs, str(path)]  # fmt: skip
        warm(path)
        settle(args.settle)
        with profiler(server.pid, profile / f"server-{n}.txt" if profile else None):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            log = workdir / f"client-{n}.log"
            statuses = run_upload(cmd, target.client_env, target.dandiset_dir, log, server.pid)
            full_time = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)

        found = http_json(
            "GET",
            f"{server.url}/api/dandisets/{target.identifier}/versions/draft/assets/"
            f"?path={path.name}",
        )["results"]
        assert len(found) == 1 and found[0]["size"] == path.stat().st_size, found
        sha_time = wait_for_sha256(server.url, found[0]["asset_id"])
        sync()
    finally:
        path.rename(source)
    begin, blob, done = (statuses[s] for s in ("initiating upload", "producing asset", "done"))
    return Run(
        cp=cp_time,
        cp_sync=cp_sync,
        digest=digest_time,
        full=full_time,
        proper=blob.time - begin.time,
        create=done.time - blob.time,
        sha256=sha_time,
        server_cpu=blob.server_cpu - begin.server_cpu,
        client_cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="file size, e.g. 1G, 256M (default 1G)")
    parser.add_argument("--runs", type=int, default=3, help="uploads to time (default 3)")
    parser.add_argument("--workdir", type=Path, help="work directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        help="seconds to wait before each timed cp and upload (default 5; see settle())",
    )
    parser.add_argument("--jobs", help="dandi upload -J N[:M] (default: the client's, 5:5)")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample server and client with py-spy during each upload into "
        "DIR/server-N.txt and DIR/client-N.txt (collapsed stacks for flamegraph.pl or "
        "speedscope); slows everything down, so figures of such runs are not comparable",
    )
    args = parser.parse_args()
    size = parse_size(args.size)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dandi-bench-upload-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    try:
        print(f"work directory: {workdir}")
        print(f"file: {human_bytes(size)} of random bytes; {args.runs} run(s)")
        load_before = os.getloadavg()[0]
        source = workdir / "source.dat"
        make_file(source, size)
        with contextlib.ExitStack() as stack:
            target = open_target(workdir, stack)
            runs: list[Run] = []
            with RssSampler(target.server.pid) as rss:
                for n in range(1, args.runs + 1):
                    runs.append(one_run(n, source, target, workdir, args))
                    print(f"run {n}: cp {runs[-1].cp:.2f} s, upload proper {runs[-1].proper:.2f} s")
        report(runs, size, rss)
        print(f"load average (1 min) before / after: {load_before:.1f} / "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    finally:
        if args.keep or args.workdir:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report(runs: list[Run], size: int, rss: RssSampler) -> None:
    def med(field: str) -> float:
        return statistics.median(getattr(r, field) for r in runs)

    def line(label: str, field: str, rate: bool = False, note: str = "") -> None:
        values = " ".join(f"{getattr(r, field):6.2f}" for r in runs)
        speed = f"{size / 1e6 / med(field):6.0f} MB/s" if rate else " " * 11
        print(f"{label:<30} {med(field):6.2f} s {speed}   [{values}]{note}")

    print()
    print(f"{'':30} median        rate   [each run, s]")
    line("cp (warm source)", "cp", rate=True)
    line("  sync after cp (not counted)", "cp_sync")
    line("dandi digest (cache warm-up)", "digest")
    line("dandi upload, full command", "full", rate=True)
    line("  upload proper", "proper", rate=True, note="  initialize .. validate")
    line("  asset creation", "create")
    line("SHA-256 ready after upload", "sha256", note="  server background job")
    line("server CPU, upload proper", "server_cpu", note="  user+sys, all threads")
    line("client CPU, full command", "client_cpu", note="  user+sys")
    ratio = med("cp") / med("proper")
    print()
    verdict = "OK" if ratio >= 0.5 else "MISSED"
    print(f"ratio cp / upload proper       {ratio:6.2f}   (target >= 0.5)  {verdict}")
    print(f"ratio cp / full command        {med('cp') / med('full'):6.2f}")
    peak = max(rss.peak_rss, rss.peak_hwm)
    verdict = "OK" if peak < 300e6 else "MISSED"
    print(f"server RSS before uploads      {rss.start_rss / 1e6:6.0f} MB")
    print(f"server peak RSS (sampled)      {rss.peak_rss / 1e6:6.0f} MB")
    hwm = rss.peak_hwm / 1e6
    print(f"server VmHWM (lifetime)        {hwm:6.0f} MB   (target < 300 MB)  {verdict}")
    if size != GiB:
        print(f"(file size {human_bytes(size)}, not the default 1 GiB)")


if __name__ == "__main__":
    main()
