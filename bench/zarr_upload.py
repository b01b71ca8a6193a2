"""Upload a Zarr of many chunks through the real ``dandi`` client; compare with ``cp -r``.

Starts ``dandi-archive serve`` (embedded default: SQLite and the folder store, in a work
directory on the same disk as the source tree, as ``bench/upload.py`` does), writes a
Zarr with ``--chunks`` chunks of ``--chunk-bytes`` random bytes, then times ``cp -r`` of
the tree on that disk and ``dandi upload`` of it (client digests, upload URLs, PUTs
with Content-MD5, finalize and waiting for the checksum), each after the same settle
time. Prints objects/s, MB/s and the ratio.

    python bench/zarr_upload.py [--chunks 10000] [--chunk-bytes 65536] [--jobs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr
from _common import http_json, tree_cpu_seconds, venv_tool
from upload import open_target, settle, sync


def write_zarr(path: Path, chunks: int, chunk_bytes: int) -> None:
    """One uint8 array whose chunks each hold ``chunk_bytes`` of incompressible data."""
    side = int(math.sqrt(chunk_bytes))
    rows = int(math.sqrt(chunks))
    cols = math.ceil(chunks / rows)
    array = zarr.create_array(
        zarr.storage.LocalStore(path),
        name="data",
        shape=(rows * side, cols * side),
        chunks=(side, side),
        dtype="uint8",
        compressors=None,
    )
    rng = np.random.default_rng(0)
    for r in range(rows):
        array[r * side : (r + 1) * side, :] = rng.integers(0, 256, (side, cols * side), "uint8")


def tree_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def timed_cp(source: Path, target: Path, settle_seconds: float) -> float:
    settle(settle_seconds)
    start = time.perf_counter()
    subprocess.run(["cp", "-r", str(source), str(target)], check=True)
    sync()
    seconds = time.perf_counter() - start
    shutil.rmtree(target)
    return seconds


def _children_cpu_seconds() -> float:
    """User + system CPU of this process's waited-for children (the client's run)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--chunk-bytes", type=int, default=65_536)
    parser.add_argument("--jobs", default="5", help="dandi upload -J (default 5)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before each step")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp dir")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zarr-bench-", dir=args.workdir))
    with contextlib.ExitStack() as stack:
        if args.workdir is None:
            stack.callback(shutil.rmtree, work, ignore_errors=True)
        target = open_target(work, stack)
        source = target.dandiset_dir / "bench.zarr"
        write_zarr(source, args.chunks, args.chunk_bytes)
        files, size = tree_size(source)
        print(f"Zarr: {files} objects, {size / 1e6:.1f} MB, work dir {work}")

        cp_seconds = timed_cp(source, work / "copy.zarr", args.settle)
        settle(args.settle)
        server_cpu = tree_cpu_seconds(target.server.pid)
        client_cpu = _children_cpu_seconds()
        start = time.perf_counter()
        upload = subprocess.run(
            [venv_tool("dandi"), "upload", "-i", target.server.url, "-J", args.jobs],
            cwd=target.dandiset_dir,
            env=target.client_env,
            capture_output=True,
            text=True,
        )
        upload_seconds = time.perf_counter() - start
        server_cpu = tree_cpu_seconds(target.server.pid) - server_cpu
        client_cpu = _children_cpu_seconds() - client_cpu
        if upload.returncode != 0:
            raise SystemExit(upload.stdout + upload.stderr)
        found = http_json(
            "GET",
            f"{target.server.url}/api/zarr/?dandiset={target.identifier}&name=bench.zarr",
        )
        zarr_row = found["results"][0]
        assert zarr_row["status"] == "Complete" and zarr_row["file_count"] == files

        for label, seconds in (("cp -r + sync", cp_seconds), ("dandi upload", upload_seconds)):
            print(
                f"{label:<14} {seconds:8.2f} s {files / seconds:9.0f} objects/s "
                f"{size / 1e6 / seconds:8.1f} MB/s"
            )
        print(
            f"CPU during the upload: server {server_cpu:.1f} s "
            f"({server_cpu / files * 1000:.2f} ms/object), "
            f"client {client_cpu:.1f} s ({client_cpu / files * 1000:.2f} ms/object)"
        )
        print(
            f"upload takes {upload_seconds / cp_seconds:.1f}x as long as cp -r "
            f"(checksum {zarr_row['checksum']})"
        )


if __name__ == "__main__":
    main()
