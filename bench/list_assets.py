"""Listing the assets of a large Dandiset through the HTTP API, on PostgreSQL.

What it measures, against a ``dandi-archive serve`` process on PostgreSQL (folder store)
started by this script on a free port:

* ``GET /api/dandisets/{id}/versions/draft/assets/?page=N&page_size=1000`` for every
  page of a Dandiset with 100,000 assets (``--assets``), one page after the other, each
  pass over all pages repeated ``--passes`` times: median and worst page latency, and
  the ratio last page / first page (requirement: the last page costs no more than 2x
  the first). Latency is the time from sending the request to having read the whole
  body, over a kept-alive connection.
* the same with ``&metadata=true`` (each asset with its full metadata).
* the folder listing ``/assets/paths/?path_prefix=`` of the root (1,000 folders) with
  the default page size and with ``page_size=1000``, and of one sub-folder.
* the exact-path lookup ``?path=<one asset's path>`` that ``dandi upload`` sends for
  every file.

Every pass checks what it got: all assets exactly once, in path order, ``count`` on the
first page only, ``next`` links of the form the dandi client expects.

Setup (skipped with ``--reuse`` when the database already holds the Dandiset): a
database ``dandi_bench`` (``--database``) is created and migrated, an admin account and
a Dandiset are made through the project's services. The first ``--sample`` assets are
added through the service the API uses (``assets.assets.add_asset``) with real blob
bytes in the folder store, and the background jobs run on them (SHA-256, asset and
version validation). The other assets are bulk-inserted with SQL that writes the same
rows those services and jobs write (asset_blobs with SHA-256, assets with stripped
metadata and status Valid, version_assets, folder totals, the draft's revision, status
and assetsSummary), then the draft's validation job runs and the manifest job it queues
(as after any change) is waited for; the bulk blobs' bytes are not written, as no
listing reads them. A check
then recomputes folder totals and membership from the rows and compares them, and
compares the service-made sample rows with what the bulk writer makes of the same input.

Asset layout: ``sub-XXXX/ses-YY/sub-XXXX_ses-YY_run-Z_ecephys.nwb`` (1,000 subjects x
10 sessions x 10 runs for 100,000 assets) with the metadata ``dandi upload`` sends for
an NWB file (captured from dandi 0.81.0's extraction).

Run (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/list_assets.py            # set up (about a minute) and measure
    .venv/bin/python bench/list_assets.py --reuse    # measure again on the same data
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Server, clean_env, summarize_ms
from dandischema.consts import DANDI_SCHEMA_VERSION
from dandischema.digests.dandietag import PartGenerator
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.orm import Session

from dandi_archive import paths
from dandi_archive.accounts import users
from dandi_archive.archive import build_archive
from dandi_archive.assets import assets as asset_service
from dandi_archive.config import Settings
from dandi_archive.dandisets import dandisets as dandiset_service
from dandi_archive.dandisets import metadata as md
from dandi_archive.dandisets import tasks as dandiset_jobs
from dandi_archive.dandisets.versions import mark_changed
from dandi_archive.db.migrate import upgrade
from dandi_archive.db.models import (
    Asset,
    AssetBlob,
    AssetStatus,
    Dandiset,
    Folder,
    User,
    Version,
    VersionAsset,
    VersionStatus,
)
from dandi_archive.instance import Archive
from dandi_archive.storage.base import blob_key

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
ADMIN = "bench-admin@example.org"
PAGE_SIZE = 1000
BATCH = 5000


# -- the data ---------------------------------------------------------------------------


def asset_path(i: int) -> str:
    subject, rest = divmod(i, 100)
    session, run = divmod(rest, 10)
    name = f"sub-{subject:04d}_ses-{session:02d}_run-{run}_ecephys.nwb"
    return f"sub-{subject:04d}/ses-{session:02d}/{name}"


def asset_size(i: int) -> int:
    """Sizes from 1 KiB to about 8 GiB, spread deterministically."""
    return 1024 + (i * 2654435761) % (8 * 2**30)


def dandi_etag_for_size(seed: str, size: int) -> str:
    """A well-formed dandi-etag (``<md5>-<parts>``) for content of ``size`` bytes."""
    return f"{hashlib.md5(seed.encode()).hexdigest()}-{len(PartGenerator.for_file_size(size))}"


def client_metadata(i: int, path: str, etag: str, size: int, when: datetime) -> dict[str, Any]:
    """The metadata ``dandi upload`` sends for an NWB file (dandi 0.81.0, NWBAsset)."""
    subject, rest = divmod(i, 100)
    session = rest // 10
    start = datetime(2024, 3, 1, 12, tzinfo=UTC) + timedelta(days=session, minutes=i % 60)
    stamp = when.isoformat().replace("+00:00", "Z")
    return {
        "schemaKey": "Asset",
        "schemaVersion": DANDI_SCHEMA_VERSION,
        "keywords": ["ecephys", "mouse"],
        "access": [{"schemaKey": "AccessRequirements", "status": "dandi:OpenAccess"}],
        "wasGeneratedBy": [
            {
                "schemaKey": "Session",
                "identifier": f"ses-{session:02d}",
                "name": f"ses-{session:02d}",
                "description": "Recording session",
                "startDate": start.isoformat().replace("+00:00", "Z"),
                "endDate": (start + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            },
            {
                "id": uuid.uuid5(uuid.NAMESPACE_URL, f"bench-activity-{i}").urn,
                "schemaKey": "Activity",
                "name": "Metadata generation",
                "description": "Metadata generated by DANDI cli",
                "startDate": stamp,
                "endDate": stamp,
                "wasAssociatedWith": [
                    {
                        "schemaKey": "Software",
                        "identifier": "RRID:SCR_019009",
                        "name": "DANDI Command Line Interface",
                        "version": "0.81.0",
                        "url": "https://github.com/dandi/dandi-cli",
                    }
                ],
            },
        ],
        "dateModified": stamp,
        "blobDateModified": stamp,
        "approach": [{"schemaKey": "ApproachType", "name": "electrophysiological approach"}],
        "measurementTechnique": [
            {
                "schemaKey": "MeasurementTechniqueType",
                "name": "multi electrode extracellular electrophysiology recording technique",
            },
            {"schemaKey": "MeasurementTechniqueType", "name": "surgical technique"},
        ],
        "variableMeasured": [
            {"schemaKey": "PropertyValue", "value": "ElectricalSeries"},
            {"schemaKey": "PropertyValue", "value": "ElectrodeGroup"},
        ],
        "wasAttributedTo": [
            {
                "schemaKey": "Participant",
                "age": {
                    "schemaKey": "PropertyValue",
                    "unitText": "ISO-8601 duration",
                    "value": "P90D",
                    "valueReference": {
                        "schemaKey": "PropertyValue",
                        "value": "dandi:BirthReference",
                    },
                },
                "sex": {
                    "schemaKey": "SexType",
                    "identifier": "http://purl.obolibrary.org/obo/PATO_0000384",
                    "name": "Male",
                },
                "genotype": "wt",
                "species": {
                    "schemaKey": "SpeciesType",
                    "identifier": "http://purl.obolibrary.org/obo/NCBITaxon_10090",
                    "name": "Mus musculus - House mouse",
                },
                "identifier": f"{subject:04d}",
            }
        ],
        "digest": {"dandi:dandi-etag": etag},
        "contentSize": size,
        "encodingFormat": "application/x-nwb",
        "path": path,
    }


# -- setup ------------------------------------------------------------------------------


def dandiset_name(n: int) -> str:
    return f"List benchmark ({n} assets)"


def find_dandiset(url: str, n: int) -> str | None:
    """The identifier of a complete benchmark Dandiset of ``n`` assets, if there is one."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            row = session.execute(
                select(Dandiset.id, Folder.file_count)
                .join(Version, Version.dandiset_id == Dandiset.id)
                .join(Folder, (Folder.version_id == Version.id) & (Folder.path == ""))
                .where(
                    Version.version == "draft",
                    Version.name == dandiset_name(n),
                    Version.status == VersionStatus.VALID,
                )
            ).first()
    except Exception:
        return None
    finally:
        engine.dispose()
    return f"{row[0]:06d}" if row and row[1] == n else None


def recreate_database(name: str) -> str:
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"{PG_SERVER}/{name}"
    upgrade(url)
    return url


def new_blob(session: Session, archive: Archive, content: bytes) -> AssetBlob:
    """A blob as ``assets.uploads.validate`` mints it, with its bytes in the store."""
    etag, blob_id = dandi_etag_of(content), uuid.uuid4()
    key = blob_key(blob_id)
    archive.store.put_bytes(key, content, "application/octet-stream")
    blob = AssetBlob(id=blob_id, etag=etag, size=len(content), key=key, embargoed=False)
    session.add(blob)
    session.flush()
    archive.defer(session, "compute_sha256", blob_id=str(blob.id))
    return blob


def dandi_etag_of(content: bytes) -> str:
    parts = PartGenerator.for_file_size(len(content))
    md5s = b"".join(
        hashlib.md5(content[p.offset : p.offset + p.size]).digest()
        for p in (parts[k] for k in range(1, len(parts) + 1))
    )
    return f"{hashlib.md5(md5s).hexdigest()}-{len(parts)}"


def bulk_rows(
    i: int, version_id: int, when: datetime
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """asset_blobs, assets and version_assets rows of asset ``i``, as services make them.

    The same fields ``uploads.validate`` + ``compute_sha256`` (blob), ``assets._insert``
    + ``validate_asset`` (asset, metadata as stored, Valid) and ``assets._insert``
    (membership, with its folder) write.
    """
    path, size = asset_path(i), asset_size(i)
    etag = dandi_etag_for_size(f"bench-blob-{i}", size)
    blob_id, asset_id = uuid.uuid4(), uuid.uuid4()
    blob = {
        "id": blob_id,
        "etag": etag,
        "size": size,
        "sha256": hashlib.sha256(f"bench-blob-{i}".encode()).hexdigest(),
        "key": blob_key(blob_id),
        "embargoed": False,
        "created": when,
    }
    asset = {
        "id": asset_id,
        "path": path,
        "blob_id": blob_id,
        "metadata_": md.asset_metadata_to_store(
            client_metadata(i, path, etag, size, when), when, when
        ),
        "status": AssetStatus.VALID,
        "validation_errors": [],
        "created": when,
        "modified": when,
    }
    link = {
        "version_id": version_id,
        "asset_id": asset_id,
        "path": path,
        "folder": paths.parent_of(path),
    }
    return blob, asset, link


def add_folder_totals(session: Session, version_id: int, files: list[tuple[str, int]]) -> None:
    """What ``paths.add_to_folders`` does for each file, summed per folder first."""
    count: Counter[str] = Counter()
    size: Counter[str] = Counter()
    for path, nbytes in files:
        for folder in paths.ancestors(path):
            count[folder] += 1
            size[folder] += nbytes
    rows = [
        {
            "version_id": version_id,
            "path": folder,
            "parent": paths.parent_of(folder) if folder else None,
            "file_count": count[folder],
            "total_size": size[folder],
        }
        for folder in count
    ]
    for start in range(0, len(rows), BATCH):
        stmt = paths._upsert(session).values(rows[start : start + BATCH])
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["version_id", "path"],
                set_={
                    "file_count": Folder.file_count + stmt.excluded.file_count,
                    "total_size": Folder.total_size + stmt.excluded.total_size,
                },
            )
        )


def setup(archive: Archive, n: int, sample: int) -> str:
    """Create the Dandiset and its ``n`` assets; returns its identifier."""
    db = archive.db
    with db.session(write=True) as session:
        user = users.create_user(session, ADMIN, name="Bench Admin", admin=True)
        draft = dandiset_service.create_dandiset(
            archive,
            session,
            user,
            dandiset_name(n),
            {
                "description": "bench/list_assets.py",
                "license": ["spdx:CC-BY-4.0"],
                "contributor": [
                    {
                        "schemaKey": "Person",
                        "name": "Admin, Bench",
                        "email": ADMIN,
                        "roleName": ["dcite:ContactPerson", "dcite:Author"],
                        "includeInCitation": True,
                    }
                ],
            },
        )
        identifier = draft.dandiset.identifier

    # The sample goes through the service the API uses, one transaction per asset.
    started = time.perf_counter()
    for i in range(sample):
        with db.session(write=True) as session:
            user = session.scalars(select(User).where(User.email == ADMIN)).one()
            blob = new_blob(session, archive, f"bench asset {i}\n".encode() * (i + 1))
            metadata = client_metadata(i, asset_path(i), blob.etag, blob.size, datetime.now(UTC))
            asset_service.add_asset(
                archive, session, user, identifier, "draft", metadata, str(blob.id)
            )
    archive.jobs.wait_idle(300)  # type: ignore[attr-defined]
    print(f"  {sample} assets through assets.assets.add_asset: "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    started = time.perf_counter()
    with db.session(write=True) as session:
        dandiset = dandiset_service.get_dandiset(session, identifier)
        draft = dandiset_service.draft_of(session, dandiset, lock=True)
        base = datetime.now(UTC)
        files: list[tuple[str, int]] = []
        for start in range(sample, n, BATCH):
            batch = [
                bulk_rows(i, draft.id, base + timedelta(microseconds=i))
                for i in range(start, min(n, start + BATCH))
            ]
            session.execute(insert(AssetBlob), [b for b, _, _ in batch])
            session.execute(insert(Asset), [a for _, a, _ in batch])
            session.execute(insert(VersionAsset), [v for _, _, v in batch])
            files.extend((a["path"], b["size"]) for b, a, _ in batch)
        add_folder_totals(session, draft.id, files)
        # As after any change of the asset set: the draft must be validated again.
        mark_changed(archive, session, draft)
        dandiset.modified = draft.modified
        version_id = draft.id
    dandiset_jobs.validate_version(archive, version_id)
    archive.jobs.wait_idle(1800)  # type: ignore[attr-defined]  # the manifests it queued
    # What autovacuum does soon after a big insert; without it every index-only scan
    # still visits the table (the visibility map is empty) until it has run.
    with archive.db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    print(f"  {n - sample} assets bulk-inserted: {time.perf_counter() - started:.1f} s")
    return identifier


def check(archive: Archive, identifier: str, n: int, sample: int) -> None:
    """Recompute what the services maintain from the rows, and compare."""
    with archive.db.session() as session:
        dandiset = dandiset_service.get_dandiset(session, identifier)
        draft = dandiset_service.draft_of(session, dandiset)
        rows = session.execute(
            select(VersionAsset.path, VersionAsset.folder, Asset.path, Asset.status, AssetBlob)
            .join(Asset, Asset.id == VersionAsset.asset_id)
            .join(AssetBlob, AssetBlob.id == Asset.blob_id)
            .where(VersionAsset.version_id == draft.id)
        ).all()
        assert len(rows) == n, f"{len(rows)} assets in the draft, not {n}"
        count: Counter[str] = Counter()
        size: Counter[str] = Counter()
        for link_path, folder, path, status, blob in rows:
            assert link_path == path and folder == paths.parent_of(path), path
            assert status == AssetStatus.VALID, (path, status)
            assert blob.sha256 and blob.key == blob_key(blob.id), path
            for ancestor in paths.ancestors(path):
                count[ancestor] += 1
                size[ancestor] += blob.size
        folders = {
            f.path: (f.parent, f.file_count, f.total_size)
            for f in session.scalars(select(Folder).where(Folder.version_id == draft.id))
        }
        expected = {p: (paths.parent_of(p) if p else None, count[p], size[p]) for p in count}
        assert folders == expected, "folder totals differ from the assets"
        summary = draft.metadata_["assetsSummary"]
        assert (summary["numberOfFiles"], summary["numberOfBytes"]) == (n, size[""]), summary
        assert draft.status == VersionStatus.VALID, draft.status

        # The service-made sample rows are what the bulk writer makes of the same input.
        for i in range(sample):
            asset = session.scalars(
                select(Asset)
                .join(VersionAsset, VersionAsset.asset_id == Asset.id)
                .where(VersionAsset.version_id == draft.id, VersionAsset.path == asset_path(i))
            ).one()
            blob = asset.blob
            assert blob is not None
            metadata = client_metadata(i, asset.path, blob.etag, blob.size, asset.created)
            stamp = asset.metadata_["dateModified"]
            for key in ("dateModified", "blobDateModified"):
                metadata[key] = stamp
            for activity in metadata["wasGeneratedBy"][1:]:
                activity["startDate"] = activity["endDate"] = stamp
            stored = md.asset_metadata_to_store(metadata, blob.created, asset.created)
            assert asset.metadata_ == stored, asset.path
            assert (asset.status, asset.validation_errors) == (AssetStatus.VALID, []), (
                asset.path,
                asset.status,
                asset.validation_errors,
            )
        total_assets = session.scalar(select(func.count()).select_from(Asset))
        assert total_assets == n, total_assets
    print(f"  check passed: {n} assets, {len(folders)} folders, {size[''] / 1e12:.1f} TB")


# -- measuring --------------------------------------------------------------------------


class Client:
    """GET requests over one kept-alive connection, timed until the body is read."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)

    def get(self, path: str) -> tuple[float, Any]:
        start = time.perf_counter()
        self.conn.request("GET", path, headers={"Accept": "application/json"})
        response = self.conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status} {body[:500]!r}")
        return elapsed, json.loads(body)


def list_pass(client: Client, base: str, n: int, extra: str = "") -> list[float]:
    """Every page in order; checks the pages, returns each page's latency."""
    pages = -(-n // PAGE_SIZE)
    times, ids, paths_seen = [], set(), []
    for page in range(1, pages + 1):
        elapsed, body = client.get(f"{base}?page={page}&page_size={PAGE_SIZE}{extra}")
        times.append(elapsed)
        assert body["count"] == (n if page == 1 else None), (page, body["count"])
        assert (body["next"] is not None) == (page < pages), (page, body["next"])
        if page == 1:
            assert "page=2" in body["next"] and f"page_size={PAGE_SIZE}" in body["next"]
        for result in body["results"]:
            ids.add(result["asset_id"])
            paths_seen.append(result["path"])
            if extra:
                assert result["metadata"]["path"] == result["path"]
                assert "dandi:dandi-etag" in result["metadata"]["digest"]
            else:
                assert "metadata" not in result
    assert len(ids) == n and len(paths_seen) == n, (len(ids), len(paths_seen))
    assert paths_seen == sorted(paths_seen, key=lambda p: p.encode()), "not in path order"
    return times


def report_pages(label: str, passes: list[list[float]]) -> float:
    """Per-page median over the passes; prints and returns last / first."""
    per_page = [statistics.median(ts) for ts in zip(*passes, strict=True)]
    ratio = per_page[-1] / per_page[0]
    print(f"{label}")
    print(f"  per page ({len(per_page)} pages, median of {len(passes)} passes): "
          f"{summarize_ms(per_page)}")  # fmt: skip
    print(f"  first page {per_page[0] * 1000:7.1f} ms   last page {per_page[-1] * 1000:7.1f} ms"
          f"   last / first {ratio:5.2f}  (requirement <= 2)"
          f"  {'OK' if ratio <= 2 else 'MISSED'}")  # fmt: skip
    whole = [sum(ts) for ts in passes]
    print(f"  whole listing: {summarize_ms(whole)}")
    return ratio


def timed_repeat(client: Client, path: str, repeat: int) -> tuple[list[float], Any]:
    client.get(path)  # warm-up
    times, body = [], None
    for _ in range(repeat):
        elapsed, body = client.get(path)
        times.append(elapsed)
    return times, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=100_000, help="default 100000")
    parser.add_argument("--database", default="dandi_bench", help="default dandi_bench")
    parser.add_argument("--reuse", action="store_true", help="keep an existing set-up database")
    parser.add_argument("--passes", type=int, default=3, help="passes over all pages (3)")
    parser.add_argument("--metadata-passes", type=int, default=1, help="with metadata (1)")
    parser.add_argument("--sample", type=int, default=50, help="assets added via the service")
    args = parser.parse_args()
    n = args.assets

    url = f"{PG_SERVER}/{args.database}"
    with tempfile.TemporaryDirectory(prefix="dandi-bench-list-") as tmp:
        data_dir = Path(tmp) / "archive"
        identifier = find_dandiset(url, n) if args.reuse else None
        if identifier is None:
            print(f"setting up database {args.database} with {n} assets")
            url = recreate_database(args.database)
            archive = build_archive(
                Settings(data_dir=data_dir, database_url=url), run_jobs_in_process=True
            )
            try:
                identifier = setup(archive, n, min(args.sample, n))
                check(archive, identifier, n, min(args.sample, n))
            finally:
                archive.close()
        else:
            print(f"reusing Dandiset {identifier} in database {args.database}")

        env = clean_env(DANDI_ARCHIVE_DATABASE_URL=url)
        with Server(data_dir, env, Path(tmp) / "server.log") as server:
            client = Client(server.url)
            base = f"/api/dandisets/{identifier}/versions/draft/assets/"
            print(f"server {server.url} (pid {server.pid}); load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
            print()
            last_page = -(-n // PAGE_SIZE)
            for page in (1, last_page):  # warm-up: connection, caches, compiled SQL
                client.get(f"{base}?page={page}&page_size={PAGE_SIZE}")
            plain = [list_pass(client, base, n) for _ in range(args.passes)]
            report_pages(f"asset list, page_size={PAGE_SIZE}", plain)
            print()
            meta = [
                list_pass(client, base, n, "&metadata=true") for _ in range(args.metadata_passes)
            ]
            report_pages(f"asset list with metadata=true, page_size={PAGE_SIZE}", meta)
            print()

            folders = f"{base}paths/?path_prefix="
            times, body = timed_repeat(client, folders, 20)
            assert body["count"] == len({asset_path(i).split("/")[0] for i in range(n)})
            print(f"root folder listing, default page size ({len(body['results'])} of "
                  f"{body['count']}):  {summarize_ms(times)}")  # fmt: skip
            times, body = timed_repeat(client, f"{folders}&page_size=1000", 20)
            print(f"root folder listing, page_size=1000 ({len(body['results'])} of "
                  f"{body['count']}):   {summarize_ms(times)}")  # fmt: skip
            sub = asset_path(n // 2).split("/")[0]
            times, body = timed_repeat(client, f"{base}paths/?path_prefix={sub}/", 20)
            print(f"sub-folder listing {sub}/ ({body['count']} entries):"
                  f"{'':14}{summarize_ms(times)}")  # fmt: skip
            lookups = [asset_path(i) for i in range(0, n, max(1, n // 20))]
            times = []
            for path in lookups:
                elapsed, body = client.get(f"{base}?path={quote(path)}")
                assert body["count"] == 1 and body["results"][0]["path"] == path
                times.append(elapsed)
            print(f"exact path lookup ?path= ({len(lookups)} paths):"
                  f"{'':17}{summarize_ms(times)}")  # fmt: skip
            print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
