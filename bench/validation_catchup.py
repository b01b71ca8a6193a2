"""How soon a draft is Valid after its last asset arrives.

Starts ``dandi-archive serve`` (embedded default, or PostgreSQL with ``--postgres``, and with
``--broker`` a separate ``dandi-archive worker`` as in production, whose Celery queue
de-duplicates nothing), creates a Dandiset, uploads one small file and adds it at
``--assets`` paths (as a re-upload of shared content does: one asset row, one asset
validation and one draft change each), then measures

* the time to add them (requests, serial), and
* the seconds from the last add to the draft reading ``Valid`` with every asset
  counted in its ``assetsSummary`` -- the "publishable seconds after its last byte"
  figure. Every asset addition makes the draft Pending; what this shows is whether
  the whole-draft validations that follow are coalesced or queue up one per asset.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/validation_catchup.py --assets 2000
    .venv/bin/python bench/validation_catchup.py --assets 2000 \\
        --postgres bench_catchup \\
        --broker redis://127.0.0.1:6379/9

``PYTHONPATH=<a checkout>/src`` runs another checkout's server, to compare two commits
in one sitting.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import Server, clean_env, http_json, venv_tool
from list_assets import recreate_database

from dandi_archive.accounts import users
from dandi_archive.archive import build_archive
from dandi_archive.config import Settings

METADATA = {"schemaKey": "Asset", "encodingFormat": "text/plain"}
DANDISET = {
    "name": "Catch-up",
    "description": "bench/validation_catchup.py",
    "license": ["spdx:CC-BY-4.0"],
    "contributor": [
        {
            "schemaKey": "Person",
            "name": "User, Bench",
            "email": "bench@example.org",
            "roleName": ["dcite:ContactPerson", "dcite:Author"],
            "includeInCitation": True,
        }
    ],
}


def api_key(settings: Settings, email: str = "bench@example.org") -> str:
    archive = build_archive(settings, run_jobs_in_process=True)
    try:
        with archive.db.session(write=True) as session:
            user = users.create_user(session, email, name="Bench User", admin=True)
            return users.get_or_create_api_key(session, user)
    finally:
        archive.close()


def upload(api: str, key: str, dandiset: str, data: bytes) -> str:
    """One small file through the client's upload protocol; its blob id."""
    md5 = hashlib.md5(data).hexdigest()
    etag = f"{hashlib.md5(bytes.fromhex(md5)).hexdigest()}-1"
    init = http_json(
        "POST",
        f"{api}/uploads/initialize/",
        {
            "contentSize": len(data),
            "digest": {"algorithm": "dandi:dandi-etag", "value": etag},
            "dandiset": dandiset,
        },
        token=key,
    )
    part = init["parts"][0]
    put = urllib.request.Request(part["upload_url"], data=data, method="PUT")
    put.add_header("Content-MD5", base64.b64encode(bytes.fromhex(md5)).decode())
    with urllib.request.urlopen(put) as response:
        part_etag = response.headers["ETag"].strip('"')
    done = http_json(
        "POST",
        f"{api}/uploads/{init['upload_id']}/complete/",
        {"parts": [{"part_number": 1, "size": len(data), "etag": part_etag}]},
        token=key,
    )
    finish = urllib.request.Request(done["complete_url"], data=done["body"].encode(), method="POST")
    urllib.request.urlopen(finish).read()
    return http_json("POST", f"{api}/uploads/{init['upload_id']}/validate/", token=key)["blob_id"]


def draft_valid(api: str, dandiset: str, assets: int) -> bool:
    info = http_json("GET", f"{api}/dandisets/{dandiset}/versions/draft/info/")
    summary = info["metadata"].get("assetsSummary") or {}
    return info["status"] == "Valid" and summary.get("numberOfFiles") == assets


def run(args: argparse.Namespace, work: Path) -> None:
    env = {"DANDI_ARCHIVE_DATA_DIR": str(work)}
    database = recreate_database(args.postgres) if args.postgres else None
    if database:
        env["DANDI_ARCHIVE_DATABASE_URL"] = database
    if args.broker:
        env["DANDI_ARCHIVE_BROKER_URL"] = args.broker
    worker = None
    with (
        Server(work, clean_env(**env), work / "server.log") as server,
        open(work / "worker.log", "wb") as worker_log,
    ):
        if args.broker:
            worker = subprocess.Popen(
                [venv_tool("dandi-archive"), "worker", "--no-beat", "--concurrency", "2"],
                env=clean_env(**env),
                stdout=worker_log,
                stderr=subprocess.STDOUT,
            )
        try:
            api = f"{server.url}/api"
            key = api_key(Settings(data_dir=work, database_url=database))
            dandiset = http_json(
                "POST",
                f"{api}/dandisets/",
                {"name": "Catch-up", "metadata": DANDISET},
                token=key,
            )["identifier"]
            blob = upload(api, key, dandiset, b"shared content\n")
            start = time.monotonic()
            for n in range(args.assets):
                http_json(
                    "POST",
                    f"{api}/dandisets/{dandiset}/versions/draft/assets/",
                    {"metadata": {"path": f"sub-{n:05d}/file.txt", **METADATA}, "blob_id": blob},
                    token=key,
                )
            last = time.monotonic()
            while not draft_valid(api, dandiset, args.assets):
                if time.monotonic() - last > args.timeout:
                    raise SystemExit(f"not Valid {args.timeout:.0f} s after the last asset")
                time.sleep(0.1)
            valid = time.monotonic()
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(30)
    engine = "PostgreSQL" if database else "SQLite"
    jobs = "Celery worker" if args.broker else "in-process jobs"
    print(f"{args.assets} assets, {engine}, {jobs}")
    print(f"  adding them: {last - start:.1f} s ({args.assets / (last - start):.0f} assets/s)")
    print(f"  last asset -> draft Valid: {valid - last:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--postgres", help="a PostgreSQL database name (recreated); default SQLite")
    parser.add_argument("--broker", help="a Celery broker URL; default in-process jobs")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-catchup-") as tmp:
        run(args, Path(tmp))


if __name__ == "__main__":
    main()
