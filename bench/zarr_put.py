"""The server's side of a Zarr upload, without the ``dandi`` client's own per-file work.

``zarr_upload.py`` times the real client, whose per-file work (its progress table,
logging, ``requests``) costs about 5 ms of CPU per object on the development machine
and so bounds what any server can reach through it. This script asks the archive for
the same presigned URLs the client gets (``POST /api/zarr/{id}/files/``, 255 per
request) and PUTs ``--objects`` objects of ``--object-bytes`` with Content-MD5 over
``--connections`` keep-alive connections of one asyncio client (aiohttp), then
finalizes and waits for the checksum. It prints objects/s and the server's CPU per
object, which is what the server needs to keep up with many uploading clients.

    python bench/zarr_put.py [--objects 10000] [--object-bytes 65536] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import aiohttp
from _common import http_json, tree_cpu_seconds
from upload import open_target, settle

BATCH = 255  # URLs per request, as the dandi client asks for them


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def put_all(urls: list[str], bodies: list[bytes], md5s: list[str], connections: int) -> None:
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(len(urls)):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                headers = {"Content-MD5": md5s[i]}
                async with http.put(urls[i], data=bodies[i], headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise SystemExit(f"PUT {urls[i]}: {response.status}")

        await asyncio.gather(*(worker() for _ in range(connections)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--object-bytes", type=int, default=65_536)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before timing")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zarr-put-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        target = open_target(work, stack)
        url, key = (
            target.server.url,
            target.client_env[f"{target.server.url.removeprefix('http://')}_API_KEY"],
        )
        zarr_id = http_json(
            "POST",
            f"{url}/api/zarr/",
            {"name": "put.zarr", "dandiset": target.identifier},
            token=key,
        )["zarr_id"]
        bodies = [os.urandom(args.object_bytes) for _ in range(args.objects)]
        md5s = [base64.b64encode(hashlib.md5(b).digest()).decode() for b in bodies]
        paths = [f"data/c/{i // 100}/{i % 100}" for i in range(args.objects)]
        settle(args.settle)
        server_cpu, client_cpu = tree_cpu_seconds(target.server.pid), own_cpu_seconds()
        start = time.perf_counter()
        urls: list[str] = []
        for lo in range(0, args.objects, BATCH):
            batch = [
                {"path": p, "base64md5": m}
                for p, m in zip(paths[lo : lo + BATCH], md5s[lo : lo + BATCH], strict=True)
            ]
            urls += http_json("POST", f"{url}/api/zarr/{zarr_id}/files/", batch, token=key)
        asyncio.run(put_all(urls, bodies, md5s, args.connections))
        put_seconds = time.perf_counter() - start
        server_cpu = tree_cpu_seconds(target.server.pid) - server_cpu
        client_cpu = own_cpu_seconds() - client_cpu
        http_json("POST", f"{url}/api/zarr/{zarr_id}/finalize/", token=key)
        while http_json("GET", f"{url}/api/zarr/{zarr_id}/", token=key)["status"] != "Complete":
            time.sleep(0.2)
        total = time.perf_counter() - start
        n = args.objects
        print(f"{n} objects of {args.object_bytes} bytes over {args.connections} connections")
        print(f"URLs + PUTs      {put_seconds:7.2f} s  {n / put_seconds:7.0f} objects/s")
        print(f"+ finalize, Complete {total:5.2f} s  {n / total:7.0f} objects/s")
        print(
            f"CPU: server {server_cpu / n * 1000:.2f} ms/object, "
            f"this client {client_cpu / n * 1000:.2f} ms/object"
        )


if __name__ == "__main__":
    main()
