"""Upstream's asset-facet search ``/api/dandisets/search/`` and the species/genotype
autocompletes, on both backends: each filter, combinations, ``asset_counts``, bad
input, and embargoed Dandisets shown only to those who may read them."""

from __future__ import annotations

from typing import Any

import pytest

MOUSE = "Mus musculus - House mouse"
RAT = "Rattus norvegicus - Norway rat"
TWO_PHOTON = "two-photon microscopy technique"
SPIKES = "spike sorting technique"


def meta(fmt: str, species: str | None = None, genotype: str | None = None, *techniques: str):
    out: dict[str, Any] = {"encodingFormat": fmt}
    if species or genotype:
        participant: dict[str, Any] = {"schemaKey": "Participant", "identifier": "s1"}
        if species:
            participant["species"] = {"name": species}
        if genotype:
            participant["genotype"] = genotype
        out["wasAttributedTo"] = [participant]
    if techniques:
        out["measurementTechnique"] = [
            {"schemaKey": "MeasurementTechniqueType", "name": t} for t in techniques
        ]
    return out


@pytest.fixture
def corpus(api) -> dict[str, Any]:
    token = api.make_user()
    mouse = api.create_dandiset(token, "Mouse imaging")
    api.add_asset(
        token, mouse, "a.nwb", b"x" * 100, meta("application/x-nwb", MOUSE, "Cre+", TWO_PHOTON)
    )
    api.add_asset(token, mouse, "b.nwb", b"x" * 10, meta("application/x-nwb", MOUSE, "wt", SPIKES))
    api.add_asset(token, mouse, "c.png", b"x" * 5, meta("image/png"))
    rat = api.create_dandiset(token, "Rat ephys")
    api.add_asset(
        token, rat, "r.nwb", b"y" * 50, meta("application/x-nwb", RAT, "Long-Evans", SPIKES)
    )
    api.add_asset(token, rat, "README.txt", b"y" * 3, meta("text/plain"))
    api.create_dandiset(token, "Empty")
    secret = api.create_dandiset(token, "Secret", embargo="true")
    api.add_asset(
        token, secret, "s.nwb", b"z" * 7, meta("application/x-nwb", "Secret species", "Hidden-1")
    )
    return {"token": token, "mouse": mouse, "rat": rat, "secret": secret}


def search(api, token: str | None = None, **params: Any) -> dict:
    r = api.get("/api/dandisets/search/", token, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def counts(result: dict) -> dict[str, dict[str, int]]:
    return {d["identifier"]: d["asset_counts"] for d in result["results"]}


def test_no_filter_lists_dandisets_with_files_in_list_shape(api, corpus) -> None:
    result = search(api)
    assert counts(result) == {corpus["mouse"]: {}, corpus["rat"]: {}}
    assert result["count"] == 2 and result["next"] is None and result["previous"] is None
    item = result["results"][0]
    for key in ("identifier", "embargo_status", "star_count", "draft_version", "contact_person"):
        assert key in item
    assert item["draft_version"]["asset_count"] == 3


def test_each_filter_and_its_counts(api, corpus) -> None:
    mouse, rat = corpus["mouse"], corpus["rat"]
    assert counts(search(api, file_type=["image/"])) == {mouse: {"file_type": 1}}
    assert counts(search(api, file_type=["nwb", "text/"])) == {
        mouse: {"file_type": 2},
        rat: {"file_type": 2},
    }
    assert counts(search(api, file_size_min=60)) == {mouse: {"file_size": 1}}
    assert counts(search(api, file_size_max=4)) == {rat: {"file_size": 1}}
    assert counts(search(api, file_size_min=5, file_size_max=50)) == {
        mouse: {"file_size": 2},
        rat: {"file_size": 1},
    }
    assert counts(search(api, species=[RAT])) == {rat: {"species": 1}}
    assert counts(search(api, genotype=["Cre+", "Long-Evans"])) == {
        mouse: {"genotype": 1},
        rat: {"genotype": 1},
    }
    assert counts(search(api, measurement_technique=[TWO_PHOTON])) == {
        mouse: {"measurement_technique": 1}
    }


def test_filters_combine_on_one_file(api, corpus) -> None:
    mouse, rat = corpus["mouse"], corpus["rat"]
    # The mouse's small NWB file is "wt" and its spike-sorted one is 10 bytes: no file
    # of it is both Cre+ and under 50 bytes.
    assert counts(search(api, genotype=["Cre+"], file_size_max=50)) == {}
    result = search(api, measurement_technique=[SPIKES], file_size_max=20)
    assert counts(result) == {mouse: {"measurement_technique": 1, "file_size": 2}}
    result = search(api, file_type=["application/x-nwb"], species=[MOUSE, RAT])
    assert counts(result) == {
        mouse: {"file_type": 2, "species": 2},
        rat: {"file_type": 1, "species": 1},
    }


def test_embargoed_only_for_those_who_may_read(api, corpus) -> None:
    secret, token = corpus["secret"], corpus["token"]
    other = api.make_user("other@example.org")
    assert secret not in counts(search(api, token))  # as upstream: embargoed=false by default
    assert secret in counts(search(api, token, embargoed="true", genotype=["Hidden-1"]))
    assert counts(search(api, other, embargoed="true", genotype=["Hidden-1"])) == {}
    assert api.get("/api/search/genotypes/", other, params={"genotype": "hid"}).json() == []
    assert api.get("/api/search/genotypes/", token, params={"genotype": "hid"}).json() == [
        "Hidden-1"
    ]
    species = api.get("/api/search/species/", params={"species": "secret"}).json()
    assert species["results"] == []
    r = api.get("/api/dandisets/search/", other, params={"species": "Secret species"})
    assert r.status_code == 400  # not a choice for someone who cannot see it


def test_autocompletes(api, corpus) -> None:
    token = corpus["token"]
    r = api.get("/api/search/species/", params={"species": "MUS"})
    assert r.status_code == 200
    assert r.json() == {"count": 1, "next": None, "previous": None, "results": [MOUSE]}
    r = api.get("/api/search/species/", params={"page_size": 1})
    assert r.json()["count"] == 2 and r.json()["results"] == [MOUSE]
    assert r.json()["next"] is not None
    assert api.get("/api/search/genotypes/").json() == ["Cre+", "Long-Evans", "wt"]
    assert api.get("/api/search/genotypes/", params={"genotype": "E"}).json() == [
        "Cre+",
        "Long-Evans",
    ]
    for n in range(12):
        api.add_asset(token, corpus["rat"], f"g{n}.nwb", b"g%d" % n, meta("x", None, f"G{n:02}"))
    assert len(api.get("/api/search/genotypes/").json()) == 10


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"file_size_min": "big"}, "file_size_min"),
        ({"file_size_max": "-1"}, "file_size_max"),
        ({"file_size_min": "10", "file_size_max": "5"}, "file_size_max"),
        ({"measurement_technique": "magic technique"}, "measurement_technique"),
        ({"file_type": "audio/"}, "file_type"),
        ({"species": "Unicorn"}, "species"),
        ({"user": "you"}, "user"),
    ],
)
def test_bad_input(api, corpus, params: dict, named: str) -> None:
    r = api.get("/api/dandisets/search/", params=params)
    assert r.status_code == 400, r.text
    assert named in r.json()["detail"]


def test_index_follows_removal(api, corpus) -> None:
    token, rat = corpus["token"], corpus["rat"]
    assets = api.get(f"/api/dandisets/{rat}/versions/draft/assets/", token).json()["results"]
    for asset in assets:
        r = api.delete(f"/api/dandisets/{rat}/versions/draft/assets/{asset['asset_id']}/", token)
        assert r.status_code == 204, r.text
    assert counts(search(api, genotype=["Long-Evans"])) == {}
    assert "Long-Evans" not in api.get("/api/search/genotypes/").json()
