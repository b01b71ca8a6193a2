"""Search on a known corpus, on both backends: ranking, matching files, facet counts,
visibility of embargoed Dandisets, and the index following every change."""

from __future__ import annotations

from typing import Any

import pytest

from ..helpers import DANDISET_METADATA

MOUSE = "Mus musculus - House mouse"
RAT = "Rattus norvegicus - Norway rat"
FISH = "Danio rerio - Zebra fish"
NWB = "Neurodata Without Borders (NWB)"


def nwb_metadata(species: str, approach: str, technique: str, types: list[str]) -> dict:
    return {
        "encodingFormat": "application/x-nwb",
        "wasAttributedTo": [
            {"schemaKey": "Participant", "identifier": "s1", "species": {"name": species}}
        ],
        "approach": [{"schemaKey": "ApproachType", "name": approach}],
        "measurementTechnique": [{"schemaKey": "MeasurementTechniqueType", "name": technique}],
        "variableMeasured": [{"schemaKey": "PropertyValue", "value": t} for t in types],
    }


def dandiset(api, token, name: str, description: str, license: str, **params: Any) -> str:
    meta = {**DANDISET_METADATA, "description": description, "license": [license]}
    return api.create_dandiset(token, name, meta, **params)


@pytest.fixture
def corpus(api) -> dict[str, Any]:
    token = api.make_user()
    imaging = "calcium imaging approach"
    ephys = "electrophysiological approach"
    mouse = dandiset(
        api,
        token,
        "Mouse visual cortex imaging",
        "Two-photon recordings of V1 neurons during visual stimulation.",
        "spdx:CC-BY-4.0",
    )
    for n, path in enumerate(["sub-m1/sub-m1_ses-1_ophys.nwb", "sub-m2/sub-m2_ses-1_ophys.nwb"]):
        technique = "two-photon microscopy technique"
        meta = nwb_metadata(MOUSE, imaging, technique, ["PlaneSegmentation"])
        api.add_asset(token, mouse, path, f"mouse file {n}".encode(), meta)
    rat = dandiset(
        api,
        token,
        "Rat hippocampus electrophysiology",
        "Place cells in the hippocampus; compared with earlier mouse studies.",
        "spdx:CC0-1.0",
    )
    meta = nwb_metadata(RAT, ephys, "multi electrode extracellular technique", ["ElectricalSeries"])
    api.add_asset(token, rat, "sub-r1/sub-r1_ecephys.nwb", b"rat file", meta)
    api.add_asset(token, rat, "README.txt", b"rat readme", {"encodingFormat": "text/plain"})
    fish = dandiset(
        api, token, "Zebrafish whole-brain light sheet", "Larval zebrafish.", "spdx:CC-BY-4.0"
    )
    meta = nwb_metadata(FISH, imaging, "light sheet microscopy technique", ["ImageSeries"])
    api.add_asset(token, fish, "sub-f1/sub-f1_ophys.nwb", b"fish file", meta)
    secret = dandiset(
        api, token, "Embargoed mouse study", "Unpublished.", "spdx:CC-BY-4.0", embargo="true"
    )
    return {"token": token, "mouse": mouse, "rat": rat, "fish": fish, "secret": secret}


def search(api, token: str | None = None, **params: Any) -> dict:
    r = api.get("/api/search/", token, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def ids(result: dict) -> list[str]:
    return [h["identifier"] for h in result["results"]]


def facet(result: dict, name: str) -> dict[str, int]:
    return {f["value"]: f["count"] for f in result["facets"][name]}


def test_ranking_title_and_species_above_description(api, corpus):
    result = search(api, q="mouse")
    # Title and species (weighted) beat a passing mention in a description.
    assert ids(result) == [corpus["mouse"], corpus["rat"]]
    assert result["count"] == 2
    assert result["results"][0]["score"] > result["results"][1]["score"]
    # Files whose species matches are listed under the Dandiset, in path order.
    assert [f["path"] for f in result["results"][0]["matching_files"]] == [
        "sub-m1/sub-m1_ses-1_ophys.nwb",
        "sub-m2/sub-m2_ses-1_ophys.nwb",
    ]


def test_every_word_must_match_and_prefixes_count(api, corpus):
    assert ids(search(api, q="hippocampus place")) == [corpus["rat"]]
    assert ids(search(api, q="hippocamp")) == [corpus["rat"]]  # word prefix
    assert ids(search(api, q="hippocampus zebrafish")) == []
    # One word from the metadata, one from a file path: both must hold.
    assert ids(search(api, q="hippocampus ecephys")) == [corpus["rat"]]
    assert ids(search(api, q="hippocampus ophys")) == []
    assert ids(search(api, q=corpus["fish"])) == [corpus["fish"]]  # by identifier


@pytest.fixture(params=["index", "scan"])
def file_lookup(request, monkeypatch) -> str:
    """Both ways of listing a Dandiset's matching files on PostgreSQL: through the
    full-text index by the rarest word, or reading its files in path order (taken when
    every word is common; forced here by calling every word common)."""
    from dandi_archive.search import query as search_service

    if request.param == "scan":
        monkeypatch.setattr(search_service, "RARE_TERM_FILES", 0)
    return request.param


def test_file_paths_and_nwb_types_find_dandisets_and_files(api, corpus, file_lookup):
    result = search(api, q="sub-m2")
    assert ids(result) == [corpus["mouse"]]
    assert [f["path"] for f in result["results"][0]["matching_files"]] == [
        "sub-m2/sub-m2_ses-1_ophys.nwb"
    ]
    result = search(api, q="ElectricalSeries")
    assert ids(result) == [corpus["rat"]]
    assert [f["path"] for f in result["results"][0]["matching_files"]] == [
        "sub-r1/sub-r1_ecephys.nwb"
    ]
    result = search(api, q="ophys", files=1)
    assert sorted(ids(result)) == sorted([corpus["mouse"], corpus["fish"]])
    by_id = {h["identifier"]: h for h in result["results"]}
    # Each Dandiset lists its own first matching file, and says whether there are more.
    assert [f["path"] for f in by_id[corpus["mouse"]]["matching_files"]] == [
        "sub-m1/sub-m1_ses-1_ophys.nwb"
    ]
    assert by_id[corpus["mouse"]]["more_matching_files"] is True
    assert [f["path"] for f in by_id[corpus["fish"]]["matching_files"]] == [
        "sub-f1/sub-f1_ophys.nwb"
    ]
    assert by_id[corpus["fish"]]["more_matching_files"] is False


def test_facet_counts_and_filters(api, corpus):
    everything = search(api)
    assert everything["count"] == 3  # the embargoed one is hidden from the public
    assert facet(everything, "species") == {MOUSE: 1, RAT: 1, FISH: 1}
    assert facet(everything, "license") == {"CC-BY-4.0": 2, "CC0-1.0": 1}
    assert facet(everything, "approach") == {
        "calcium imaging approach": 2,
        "electrophysiological approach": 1,
    }
    assert facet(everything, "standard") == {NWB: 3}
    assert facet(everything, "embargo") == {"OPEN": 3}

    mice = search(api, species=MOUSE)
    assert ids(mice) == [corpus["mouse"]]
    # A facet's own counts ignore its selection; the others follow it.
    assert facet(mice, "species") == {MOUSE: 1, RAT: 1, FISH: 1}
    assert facet(mice, "license") == {"CC-BY-4.0": 1}
    either = search(api, species=[MOUSE, FISH], sort="name")
    assert ids(either) == [corpus["mouse"], corpus["fish"]]
    assert ids(search(api, species=MOUSE, license="CC0-1.0")) == []
    # Words that most Dandisets have (their counts come from archive-wide totals less the
    # Dandisets not matched, on PostgreSQL) and words that few have (counted directly).
    most = search(api, q="nwb")
    assert most["count"] == 3
    assert facet(most, "species") == {MOUSE: 1, RAT: 1, FISH: 1}
    assert facet(most, "license") == {"CC-BY-4.0": 2, "CC0-1.0": 1}
    few = search(api, q="imaging")
    assert facet(few, "species") == {MOUSE: 1, FISH: 1}
    assert facet(few, "license") == {"CC-BY-4.0": 2}
    assert ids(search(api, q="imaging", approach="calcium imaging approach", sort="name")) == [
        corpus["mouse"],
        corpus["fish"],
    ]


def test_sorting(api, corpus):
    assert ids(search(api, sort="name")) == [corpus["mouse"], corpus["rat"], corpus["fish"]]
    # Most recently changed first; the fish Dandiset was made last.
    assert ids(search(api, sort="modified"))[0] == corpus["fish"]
    sizes = [h["size"] for h in search(api, sort="size")["results"]]
    assert sizes == sorted(sizes, reverse=True)
    assert search(api)["results"][0]["asset_count"] >= 1
    r = api.get("/api/search/", params={"sort": "colour"})
    assert r.status_code == 400 and "sort" in r.json()["detail"]


def test_embargoed_dandisets_only_for_owners(api, corpus):
    assert corpus["secret"] not in ids(search(api, q="embargoed"))
    stranger = api.make_user("stranger@example.org")
    assert corpus["secret"] not in ids(search(api, stranger, q="embargoed"))
    mine = search(api, corpus["token"], q="embargoed")
    assert ids(mine) == [corpus["secret"]]
    assert facet(search(api, corpus["token"]), "embargo") == {"OPEN": 3, "EMBARGOED": 1}
    assert ids(search(api, corpus["token"], embargo="EMBARGOED")) == [corpus["secret"]]


def test_index_follows_changes(api, corpus):
    token, rat = corpus["token"], corpus["rat"]
    # Metadata edits: the new title is found, the old words are not.
    r = api.put(
        f"/api/dandisets/{rat}/versions/draft/",
        token,
        json={
            "name": "Rat entorhinal grid cells",
            "metadata": {**DANDISET_METADATA, "license": ["spdx:CC-BY-4.0"]},
        },
    )
    assert r.status_code == 200, r.text
    assert ids(search(api, q="entorhinal")) == [rat]
    assert ids(search(api, q="place cells")) == []
    assert facet(search(api), "license") == {"CC-BY-4.0": 3}
    # Removing the only rat file removes the species and its words.
    assets = api.get(f"/api/dandisets/{rat}/versions/draft/assets/").json()["results"]
    nwb = next(a for a in assets if a["path"].endswith(".nwb"))
    r = api.delete(f"/api/dandisets/{rat}/versions/draft/assets/{nwb['asset_id']}/", token)
    assert r.status_code == 204, r.text
    assert RAT not in facet(search(api), "species")
    assert ids(search(api, q="ElectricalSeries")) == []
    assert ids(search(api, q="norvegicus")) == []
    # Deleting a Dandiset takes it out of the index.
    assert api.delete(f"/api/dandisets/{corpus['fish']}/", token).status_code == 204
    assert facet(search(api), "species") == {MOUSE: 1}
    assert ids(search(api, q="zebrafish")) == []


def test_listing_search_parameter_still_works(api, corpus):
    r = api.get("/api/dandisets/", params={"search": "hippocampus"})
    assert r.status_code == 200
    assert [d["identifier"] for d in r.json()["results"]] == [corpus["rat"]]


def test_rebuild_gives_the_same_index(api, corpus):
    from dandi_archive.search import index as search_index

    before = search(api, q="mouse")
    with api.archive.db.session(write=True) as session:
        assert search_index.rebuild_all(session) == 4
    after = search(api, q="mouse")
    assert ids(after) == ids(before)
    assert facet(search(api), "species") == {MOUSE: 1, RAT: 1, FISH: 1}


def test_pages_link_to_each_other_and_large_pages_are_clamped(api, corpus):
    """``next``/``previous`` as on every other list: the dandi client's ``paginate``
    follows ``next`` until it is null."""
    first = search(api, sort="name", page_size=2)
    assert first["count"] == 3 and first["previous"] is None
    assert first["next"] == "http://testserver/api/search/?sort=name&page_size=2&page=2"
    second = api.get(first["next"]).json()
    assert ids(first) + ids(second) == [corpus["mouse"], corpus["rat"], corpus["fish"]]
    assert second["next"] is None
    assert second["previous"] == "http://testserver/api/search/?sort=name&page_size=2&page=1"
    # An oversized page is served at the maximum, as upstream's paginator does.
    big = search(api, page_size=10_000)
    assert big["page_size"] == 100 and big["count"] == 3 and big["next"] is None
    assert api.get("/api/search/", params={"page_size": 0}).status_code == 400
