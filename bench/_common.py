"""Helpers shared by the benchmark scripts: the server process, memory sampling.

Not a benchmark itself. Everything here uses only the standard library (memory is read
from ``/proc``) and the archive's own package (a free port, from dandi_archive.testing, as
the tests use), so the scripts run with the project's own virtualenv and nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dandi_archive.testing import free_port

MiB = 2**20
GiB = 2**30


def venv_tool(name: str) -> str:
    """A console script of the virtualenv running this benchmark (dandi, dandi-archive)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found; install the project with [test] extras")
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any DANDI_ARCHIVE_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANDI_ARCHIVE_")}
    env.update(extra)
    return env


def parse_size(text: str) -> int:
    """``1G``, ``256M``, ``64K`` or a plain number of bytes (binary units)."""
    units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


# -- HTTP ----------------------------------------------------------------------------------


def http_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    timeout: float = 120,
) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


# -- the server ------------------------------------------------------------------------------


class Server:
    """A ``dandi-archive serve`` process on a free loopback port, stopped on exit."""

    def __init__(
        self, data_dir: Path, env: Mapping[str, str], log_path: Path, workers: int = 1
    ) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.env = dict(env)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self._log = open(self.log_path, "wb")
        cmd = [
            venv_tool("dandi-archive"),
            "--log-level",
            "WARNING",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--workers",
            str(self.workers),
        ]
        self.process = subprocess.Popen(
            cmd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise SystemExit(f"server exited early; see {self.log_path}")
            try:
                http_json("GET", f"{self.url}/api/info/", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise SystemExit(f"server did not answer within {timeout} s; see {self.log_path}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


# -- memory ----------------------------------------------------------------------------------


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc/*/task/*/children)."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    queue.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return pids


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by ``pid`` and its descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


class RssSampler:
    """Samples the resident memory of a process tree in a background thread.

    ``peak_rss`` is the largest sum of VmRSS over the tree seen while running;
    ``peak_hwm`` the sum of each process's own high-water mark (VmHWM), which also
    catches spikes shorter than the sampling interval (but covers the process's whole
    life, not just the sampled window).
    """

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_rss = 0
        self.start_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def tree_rss(self) -> int:
        return sum(_status_kib(p, "VmRSS") for p in process_tree(self.pid)) * 1024

    def tree_hwm(self) -> int:
        return sum(_status_kib(p, "VmHWM") for p in process_tree(self.pid)) * 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self.tree_rss())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.start_rss = self.tree_rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_rss = max(self.peak_rss, self.tree_rss())
        self.peak_hwm = self.tree_hwm()


# -- statistics ------------------------------------------------------------------------------


def summarize_ms(samples: list[float]) -> str:
    """``median / p90 / max`` of durations in seconds, printed in milliseconds."""
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(ordered) * 1000:7.1f} ms  "
        f"p90 {p90 * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms"
    )
