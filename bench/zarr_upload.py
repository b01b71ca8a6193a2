"""Upload a Zarr of many chunks through the real ``dandi`` client; compare with ``cp -r``.

Starts ``dandi-archive serve`` on a free loopback port (embedded default: SQLite and
the folder store, in a work directory on the same disk as the source tree), writes a
Zarr with ``--chunks`` chunks of ``--chunk-bytes`` random bytes, copies it with
``cp -r`` on that disk, then times ``dandi upload`` (digesting, upload URLs, PUTs,
finalize and waiting for the checksum). Prints objects/s, MB/s and the ratio.

    python bench/zarr_upload.py [--chunks 10000] [--chunk-bytes 65536] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import zarr

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_zarr(path: Path, chunks: int, chunk_bytes: int) -> None:
    """One uint8 array whose chunks are each ``chunk_bytes`` of incompressible data."""
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


def cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([str(BIN / "dandi-archive"), *args], env=env, capture_output=True)
    out.check_returncode()
    return out.stdout.decode().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--chunk-bytes", type=int, default=65_536)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp dir")
    parser.add_argument("--jobs", default="5", help="dandi upload -J (default 5)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zarr-bench-", dir=args.workdir))
    port = free_port()
    env = {
        **os.environ,
        "DANDI_ARCHIVE_DATA_DIR": str(work / "archive-data"),
        "DANDI_ARCHIVE_HOST": "127.0.0.1",
        "DANDI_ARCHIVE_PORT": str(port),
    }
    url = f"http://127.0.0.1:{port}"
    log = open(work / "server.log", "w")  # noqa: SIM115 - closed at the end
    server = None
    try:
        cli(env, "migrate")
        cli(env, "user", "create", "bench@example.org", "--name", "Bench Mark")
        key = cli(env, "user", "api-key", "bench@example.org")
        server = subprocess.Popen(
            [str(BIN / "dandi-archive"), "serve"], env=env, stdout=log, stderr=log
        )
        for _ in range(200):
            try:
                httpx.get(f"{url}/api/info/")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        r = httpx.post(
            f"{url}/api/dandisets/",
            headers={"Authorization": f"token {key}"},
            json={
                "name": "Bench",
                "metadata": {"description": "bench", "license": ["spdx:CC0-1.0"]},
            },
        )
        identifier = r.json()["identifier"]
        local = work / "local"
        local.mkdir()
        (local / "dandiset.yaml").write_text(f"identifier: '{identifier}'\n")
        write_zarr(local / "bench.zarr", args.chunks, args.chunk_bytes)
        files, size = tree_size(local / "bench.zarr")
        print(f"Zarr: {files} objects, {size / 1e6:.1f} MB, work dir {work}")

        subprocess.run(["sync"], check=True)
        start = time.perf_counter()
        subprocess.run(["cp", "-r", str(local / "bench.zarr"), str(work / "copy.zarr")], check=True)
        subprocess.run(["sync"], check=True)
        cp_seconds = time.perf_counter() - start

        client_env = {
            **os.environ,
            "DANDI_NO_ET": "1",
            "DANDI_CACHE": "ignore",
            f"127.0.0.1:{port}_API_KEY": key,
        }
        start = time.perf_counter()
        upload = subprocess.run(
            [str(BIN / "dandi"), "-l", "DEBUG", "upload", "-i", url, "-J", args.jobs],
            cwd=local,
            env=client_env,
            capture_output=True,
            text=True,
        )
        upload_seconds = time.perf_counter() - start
        (work / "dandi-upload.log").write_text(upload.stdout + upload.stderr)
        if upload.returncode != 0:
            raise SystemExit(upload.stdout + upload.stderr)
        zarr_row = httpx.get(
            f"{url}/api/zarr/", params={"dandiset": identifier, "name": "bench.zarr"}
        ).json()["results"][0]
        assert zarr_row["status"] == "Complete" and zarr_row["file_count"] == files

        print(
            f"cp -r:        {cp_seconds:8.2f} s  {files / cp_seconds:9.0f} objects/s "
            f"{size / 1e6 / cp_seconds:8.1f} MB/s"
        )
        print(
            f"dandi upload: {upload_seconds:8.2f} s  {files / upload_seconds:9.0f} objects/s "
            f"{size / 1e6 / upload_seconds:8.1f} MB/s"
        )
        print(
            f"upload takes {upload_seconds / cp_seconds:.1f}x as long as cp -r "
            f"(includes client digests, finalize and the checksum: {zarr_row['checksum']})"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        log.close()
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
