"""Search and page-render benchmark on PostgreSQL.

Loads 10,000 Dandisets whose files add up to 1,000,000 indexed assets (one of them a
100,000-file Dandiset with complete asset rows, all in one folder), then reports median
and p99 latency of the search service for text, facet and combined queries, and the
render time of the landing page and of file-browser pages of the big Dandiset (through
the whole ASGI app, without a network).

    python bench/search.py [--dandisets 10000] [--assets 1000000] [--big 100000]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust), or DANDI_ARCHIVE_TEST_POSTGRES.
The database is created for the run and dropped at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text

from dandi_archive.db.migrate import upgrade
from dandi_archive.search.index import NWB_STANDARD, words

SERVER = os.environ.get(
    "DANDI_ARCHIVE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432"
)
SPECIES = [
    "Mus musculus - House mouse",
    "Rattus norvegicus - Norway rat",
    "Homo sapiens - Human",
    "Macaca mulatta - Rhesus monkey",
    "Danio rerio - Zebra fish",
    "Drosophila melanogaster - Fruit fly",
    "Caenorhabditis elegans",
    "Callithrix jacchus - Common marmoset",
]
APPROACHES = [
    "electrophysiological approach",
    "microscopy approach; cell population imaging",
    "behavioral approach",
    "optogenetic approach",
    "spike sorting approach",
]
TECHNIQUES = [
    "multi electrode extracellular electrophysiology recording technique",
    "two-photon microscopy technique",
    "patch clamp technique",
    "analytical technique",
    "behavioral technique",
    "surgical technique",
    "spike sorting technique",
    "light sheet microscopy technique",
]
TYPES = [
    "ElectricalSeries",
    "LFP",
    "Units",
    "TwoPhotonSeries",
    "PlaneSegmentation",
    "ImageSeries",
    "SpatialSeries",
    "TimeIntervals",
    "ProcessingModule",
]
LICENSES = ["CC-BY-4.0", "CC0-1.0"]
MODALITIES = ["ecephys", "ophys", "behavior", "icephys"]


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    syllables = [
        "ne",
        "ur",
        "on",
        "cor",
        "tex",
        "hip",
        "po",
        "cam",
        "pus",
        "syn",
        "ap",
        "se",
        "den",
        "dri",
        "te",
        "ax",
        "gli",
        "al",
        "thal",
        "mus",
        "ret",
        "in",
        "ca",
        "val",
        "ent",
        "or",
        "hi",
        "nal",
        "stri",
        "at",
        "um",
        "ol",
        "fac",
    ]
    found: set[str] = set()
    while len(found) < size:
        found.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(found)


def zipf_words(rng: random.Random, vocab: list[str], count: int) -> list[str]:
    # Rank-frequency like natural text: a few words everywhere, most words rare.
    return [vocab[min(int(rng.paretovariate(1.1)) - 1, len(vocab) - 1)] for _ in range(count)]


def sizes(total: int, dandisets: int, big: int, rng: random.Random) -> list[int]:
    """Files per Dandiset: the first has ``big``, the rest share what is left, skewed."""
    rest = total - big
    weights = [rng.paretovariate(1.3) for _ in range(dandisets - 1)]
    scale = rest / sum(weights)
    counts = [max(0, int(w * scale)) for w in weights]
    counts[0] += rest - sum(counts)
    return [big, *counts]


def copy_rows(
    conn: psycopg.Connection, table: str, columns: list[str], rows: Iterator[tuple]
) -> int:
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def load(url: str, n_dandisets: int, n_assets: int, big: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    counts = sizes(n_assets, n_dandisets, big, rng)
    now = datetime.now(UTC)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO users (id, email, username, name, is_admin, status, created) "
            "VALUES (1, 'owner@example.org', 'owner@example.org', 'Jane Doe', false, "
            "'APPROVED', now())"
        )
        plans = []
        for i in range(n_dandisets):
            ident = i + 1
            species = rng.sample(SPECIES, k=rng.choice([1, 1, 1, 2]))
            plan = {
                "id": ident,
                "files": counts[i],
                "species": species,
                "approach": rng.sample(APPROACHES, k=rng.choice([1, 2])),
                "technique": rng.sample(TECHNIQUES, k=rng.choice([1, 2, 3])),
                "types": rng.sample(TYPES, k=rng.choice([1, 2, 3])),
                "license": rng.choice(LICENSES),
                "title": " ".join(zipf_words(rng, vocab, rng.randint(4, 10))).capitalize(),
                "description": " ".join(zipf_words(rng, vocab, rng.randint(30, 150))),
                "keywords": zipf_words(rng, vocab, rng.randint(0, 6)),
                "modified": now - timedelta(minutes=rng.randint(0, 500_000)),
            }
            plans.append(plan)
        t0 = time.perf_counter()
        copy_rows(
            conn,
            "dandisets",
            ["id", "embargo_status", "created", "modified"],
            ((p["id"], "OPEN", p["modified"], p["modified"]) for p in plans),
        )
        copy_rows(
            conn, "dandiset_owners", ["dandiset_id", "user_id"], ((p["id"], 1) for p in plans)
        )

        def version_rows() -> Iterator[tuple]:
            for p in plans:
                ident = f"{p['id']:06d}"
                meta = {
                    "schemaKey": "Dandiset",
                    "name": p["title"],
                    "description": p["description"],
                    "identifier": f"DANDI:{ident}",
                    "version": "draft",
                    "license": [f"spdx:{p['license']}"],
                    "keywords": p["keywords"],
                    "contributor": [
                        {
                            "schemaKey": "Person",
                            "name": "Doe, Jane",
                            "roleName": ["dcite:ContactPerson"],
                            "includeInCitation": True,
                        }
                    ],
                    "citation": f"Doe, Jane (2026) {p['title']} (Version draft) [Data set].",
                    "assetsSummary": {
                        "schemaKey": "AssetsSummary",
                        "numberOfFiles": p["files"],
                        "numberOfBytes": p["files"] * 1000,
                    },
                }
                yield (
                    p["id"],
                    p["id"],
                    "draft",
                    p["title"],
                    json.dumps(meta),
                    "Valid",
                    0,
                    "[]",
                    p["modified"],
                    p["modified"],
                )

        copy_rows(
            conn,
            "versions",
            [
                "id",
                "dandiset_id",
                "version",
                "name",
                "metadata",
                "status",
                "revision",
                "validation_errors",
                "created",
                "modified",
            ],
            version_rows(),
        )
        copy_rows(
            conn,
            "folders",
            ["version_id", "path", "parent", "file_count", "total_size"],
            ((p["id"], "", None, p["files"], p["files"] * 1000) for p in plans),
        )

        def document_rows() -> Iterator[tuple]:
            for p in plans:
                facet_values = [
                    *p["species"],
                    *p["approach"],
                    *p["technique"],
                    *p["types"],
                    NWB_STANDARD,
                ]
                yield (
                    p["id"],
                    p["id"],
                    p["title"],
                    words(p["title"]),
                    words(f"{p['id']:06d}", *p["keywords"], *facet_values),
                    words(p["description"], "Doe, Jane"),
                )

        copy_rows(
            conn,
            "search_dandisets",
            ["dandiset_id", "version_id", "title", "name_words", "keyword_words", "body_words"],
            document_rows(),
        )

        def facet_rows() -> Iterator[tuple]:
            for p in plans:
                for facet, values in (
                    ("species", p["species"]),
                    ("approach", p["approach"]),
                    ("technique", p["technique"]),
                    ("variable", p["types"]),
                    ("standard", [NWB_STANDARD]),
                ):
                    for value in values:
                        yield (p["id"], facet, value, p["files"], False)
                yield (p["id"], "license", p["license"], 0, True)

        copy_rows(
            conn,
            "search_facets",
            ["dandiset_id", "facet", "value", "files", "in_metadata"],
            facet_rows(),
        )
        conn.commit()
        print(f"  {n_dandisets:,} Dandisets loaded in {time.perf_counter() - t0:.1f} s", flush=True)

        t0 = time.perf_counter()
        big_ids: list[uuid.UUID] = []
        terms: dict[int, Counter] = {}

        def asset_index_rows() -> Iterator[tuple]:
            for p in plans:
                for n in range(p["files"]):
                    subject = n // 10
                    if p["id"] == 1:
                        path = f"data/sub-{subject:05d}_ses-{n % 10}_{MODALITIES[n % 4]}.nwb"
                        asset_id = uuid.uuid4()
                        big_ids.append(asset_id)
                    else:
                        path = (
                            f"sub-{subject:04d}/sub-{subject:04d}_ses-{n % 10}_"
                            f"{MODALITIES[(p['id'] + n) % 4]}.nwb"
                        )
                        asset_id = uuid.uuid4()
                    text_ = words(path, p["species"][0], *p["types"])
                    terms.setdefault(p["id"], Counter()).update(set(text_.split()))
                    yield (p["id"], asset_id, path, text_)

        total = copy_rows(
            conn, "search_assets", ["dandiset_id", "asset_id", "path", "words"], asset_index_rows()
        )
        copy_rows(
            conn,
            "search_terms",
            ["dandiset_id", "term", "files"],
            ((d, t, n) for d, counter in terms.items() for t, n in counter.items()),
        )
        conn.commit()
        print(f"  {total:,} assets indexed in {time.perf_counter() - t0:.1f} s", flush=True)

        # The big Dandiset gets complete asset rows, so its pages can be rendered.
        t0 = time.perf_counter()
        blob = uuid.uuid4()
        conn.execute(
            "INSERT INTO asset_blobs (id, etag, size, key, embargoed, created, sha256) "
            "VALUES (%s, %s, 1000, %s, false, now(), repeat('0', 64))",
            (blob, "0" * 32 + "-1", "blobs/000/000/" + "0" * 32 + "-1"),
        )
        paths = conn.execute(
            "SELECT asset_id, path FROM search_assets WHERE dandiset_id = 1 ORDER BY id"
        ).fetchall()
        meta = {
            "schemaKey": "Asset",
            "encodingFormat": "application/x-nwb",
            "wasAttributedTo": [
                {"schemaKey": "Participant", "identifier": "s", "species": {"name": SPECIES[0]}}
            ],
            "variableMeasured": [{"schemaKey": "PropertyValue", "value": "ElectricalSeries"}],
        }
        meta_json = json.dumps(meta)
        copy_rows(
            conn,
            "assets",
            [
                "id",
                "path",
                "blob_id",
                "metadata",
                "status",
                "validation_errors",
                "created",
                "modified",
            ],
            ((a, p, blob, meta_json, "Valid", "[]", now, now) for a, p in paths),
        )
        copy_rows(
            conn,
            "version_assets",
            ["version_id", "asset_id", "path", "folder"],
            ((1, a, p, "data") for a, p in paths),
        )
        conn.execute(
            "INSERT INTO folders (version_id, path, parent, file_count, total_size) "
            "VALUES (1, 'data', '', %s, %s)",
            (len(paths), len(paths) * 1000),
        )
        # The load writes no manifests; marked current, so that the archive's sweep does
        # not write 10,000 of them in the background while pages are being timed.
        conn.execute("UPDATE versions SET manifests_revision = revision")
        for table in ("dandisets", "versions", "users"):
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            conn.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")
        conn.commit()
        print(f"  {len(paths):,} asset rows of Dandiset 000001 in {time.perf_counter() - t0:.1f} s")
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def measure(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm caches and plans
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return statistics.median(times), p99


def run(url: str, runs: int) -> None:
    from fastapi.testclient import TestClient

    from dandi_archive.app import create_app
    from dandi_archive.archive import build_archive
    from dandi_archive.config import Settings
    from dandi_archive.search import query as search_service

    data_dir = Path(f"/tmp/dandi-bench-{os.getpid()}")
    settings = Settings(data_dir=data_dir, database_url=url, base_url="http://bench")
    archive = build_archive(settings, run_jobs_in_process=True)

    def search(**kw: object) -> Callable[[], object]:
        query = search_service.SearchQuery(**kw)  # type: ignore[arg-type]

        def go() -> object:
            with archive.db.session() as session:
                return search_service.search(session, None, query)

        return go

    with archive.db.session() as session:
        common = search_service.search(session, None, search_service.SearchQuery(text=""))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nLoad average {load} on {os.cpu_count()} CPUs (figures inflate with it).")
    # The same fixed work on every machine, so figures from two machines can be compared.
    with archive.db.session() as session:
        reference, _ = measure(
            lambda: session.execute(text("SELECT count(*) FROM generate_series(1, 1000000)")),
            runs,
        )
    print(f"Machine reference: PostgreSQL counts 1,000,000 generated rows in {reference:.0f} ms.")
    print(f"{common.count:,} Dandisets visible; per query {runs} runs (ms, median / p99):")
    vocab = vocabulary(random.Random(1))  # the words the load used (same seed)
    cases = {
        "text: one common word": search(text=vocab[0]),
        "text: rare word": search(text=vocab[100]),
        "text: two words": search(text=f"{vocab[1]} {vocab[4]}"),
        "text: file path (sub-0042)": search(text="sub-0042"),
        "text: NWB type (ElectricalSeries)": search(text="ElectricalSeries"),
        "facet: species": search(filters={"species": [SPECIES[0]]}),
        "facet: species + license": search(
            filters={"species": [SPECIES[1]], "license": ["CC0-1.0"]}
        ),
        "combined: text + species": search(text=vocab[2], filters={"species": [SPECIES[0]]}),
        "combined: path + species, by size": search(
            text="sub-0042 ecephys", filters={"species": [SPECIES[0]]}, sort="size"
        ),
    }
    rows = []
    for name, fn in cases.items():
        median, p99 = measure(fn, runs)
        hits = fn().count  # type: ignore[attr-defined]
        rows.append((name, median, p99, hits))
        print(f"  {name:38s} {median:8.1f} / {p99:8.1f}   ({hits:,} Dandisets)", flush=True)

    with TestClient(create_app(archive), base_url="http://bench") as client:

        def page(url: str) -> Callable[[], object]:
            def go() -> object:
                r = client.get(url)
                assert r.status_code == 200, (url, r.status_code)
                return r

            return go

        print(f"\nPages of the {big_label()} Dandiset 000001 ({runs} runs, ms, median / p99):")
        for name, url in [
            ("landing page", "/dandiset/000001/draft"),
            ("file browser: top folder", "/dandiset/000001/draft/files"),
            (
                "file browser: 100,000-file folder, page 1",
                "/dandiset/000001/draft/files?location=data",
            ),
            (
                "file browser: same folder, page 500",
                "/dandiset/000001/draft/files?location=data&page=500",
            ),
            (
                "file browser: same folder, last page",
                "/dandiset/000001/draft/files?location=data&page=1000",
            ),
            ("file page", None),
            ("search page: species facet", f"/search?species={SPECIES[0]}"),
            ("home page", "/"),
        ]:
            if url is None:
                with archive.db.session() as session:
                    asset_id = session.scalar(
                        text("SELECT asset_id FROM version_assets WHERE version_id = 1 LIMIT 1")
                    )
                url = f"/dandiset/000001/draft/files/{asset_id}"
            median, p99 = measure(page(url), runs)
            print(f"  {name:44s} {median:8.1f} / {p99:8.1f}", flush=True)
    archive.close()


BIG = {"n": 100_000}


def big_label() -> str:
    return f"{BIG['n']:,}-file"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dandisets", type=int, default=10_000)
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a database kept earlier")
    args = parser.parse_args()
    BIG["n"] = args.big
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    if args.reuse:
        run(f"{SERVER}/{args.reuse}", args.runs)
        admin.dispose()
        return 0
    name = f"dandi_bench_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{SERVER}/{name}"
    try:
        upgrade(url)
        print(f"Loading {args.dandisets:,} Dandisets and {args.assets:,} assets into {name}:")
        load(url, args.dandisets, args.assets, args.big)
        run(url, args.runs)
    finally:
        if args.keep:
            print(f"Kept database {name}; measure it again with --reuse {name}.")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
