"""RO-Crate 1.2: a version and its files as ``ro-crate-metadata.json``, read back by the
``rocrate`` library's own loader; linked from the landing page and its Signposting.

rocrate-validator (roc-validator) is not run: it needs the RO-Crate JSON-LD context from
w3id.org, which this environment cannot reach; the spec's requirements it would check
first (descriptor, root, licence, datePublished, data entities in ``hasPart``) are
asserted here.
"""

from __future__ import annotations

import hashlib
import json

from rocrate.rocrate import ROCrate

from ..helpers import DANDISET_METADATA, publish
from ..zarr.test_ngff import upload_asset

FILES = {"sub-1/a.txt": b"alpha", "sub-2/b.txt": b"beta" * 1000}
ORCID = "0000-0002-1825-0097"
METADATA = {
    **DANDISET_METADATA,
    "keywords": ["otters"],
    "contributor": [
        {**DANDISET_METADATA["contributor"][0], "identifier": ORCID},
        {"schemaKey": "Organization", "name": "Otter Lab", "roleName": ["dcite:Funder"]},
    ],
}


def crate_of(api, dandiset: str, version: str, tmp_path, token: str | None = None):
    url = f"/api/dandisets/{dandiset}/versions/{version}/ro-crate-metadata.json"
    r = api.get(url, token)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/ld+json")
    folder = tmp_path / version
    folder.mkdir()
    (folder / "ro-crate-metadata.json").write_text(r.text)
    return r.json(), ROCrate(folder)  # the library's loader: raises on a malformed crate


def test_a_published_version_is_an_ro_crate(api, tmp_path):
    owner = api.make_user()
    dandiset = api.create_dandiset(owner, "Otter study", METADATA)
    for path, data in FILES.items():
        api.add_asset(
            owner, dandiset, path, data, {"schemaKey": "Asset", "encodingFormat": "text/plain"}
        )
    zarr_asset = upload_asset(
        api, owner, dandiset, "image.zarr", {".zgroup": b'{"zarr_format": 2}'}
    )
    api.wait_for_jobs()
    version = publish(api, owner, dandiset)
    document, crate = crate_of(api, dandiset, version, tmp_path)
    metadata = api.get(f"/api/dandisets/{dandiset}/versions/{version}/").json()

    assert document["@context"] == "https://w3id.org/ro/crate/1.2/context"
    descriptor = next(e for e in document["@graph"] if e["@id"] == "ro-crate-metadata.json")
    assert descriptor["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.2"}
    root = crate.root_dataset
    assert root["name"] == "Otter study" and root["version"] == version
    assert root["datePublished"] == metadata["datePublished"]
    assert root["description"] == "A test Dandiset" and root["keywords"] == ["otters"]
    assert root["license"].id == "https://spdx.org/licenses/CC0-1.0"
    authors = root["author"]
    assert authors[0].id == f"https://orcid.org/{ORCID}"
    assert [(a.type, a["name"]) for a in authors] == [
        ("Person", "Doe, Jane"),
        ("Organization", "Otter Lab"),
    ]
    assert root["url"].endswith(f"/dandiset/{dandiset}/{version}")

    parts = {entity["name"]: entity for entity in root["hasPart"]}
    assert sorted(parts) == sorted([*FILES, "image.zarr"])
    for path, data in FILES.items():
        entity = parts[path]
        assert entity.type == "File"
        assert entity["contentSize"] == str(len(data))
        assert entity["encodingFormat"] == "text/plain"
        assert entity["sha256"] == hashlib.sha256(data).hexdigest()
        assert api.download(entity.id).content == data
    zarr = parts["image.zarr"]
    assert zarr.type == "Dataset" and zarr.id.endswith("/tree/")
    assert zarr["encodingFormat"] == "application/x-zarr"
    published_zarr = api.get(
        f"/api/dandisets/{dandiset}/versions/{version}/assets/", params={"path": "image.zarr"}
    ).json()["results"][0]["zarr"]
    assert published_zarr != zarr_asset["zarr"] and f"/zarr/{published_zarr}/tree/" in zarr.id
    assert json.loads(api.download(zarr.id + ".zgroup").content) == {"zarr_format": 2}

    # Linked from the landing page, as a button and as a typed Signposting link.
    page = api.get(f"/dandiset/{dandiset}/{version}")
    crate_url = f"/api/dandisets/{dandiset}/versions/{version}/ro-crate-metadata.json"
    assert crate_url in page.text
    assert (
        f'{crate_url}>; rel="describedby"; type="application/ld+json"; '
        'profile="https://w3id.org/ro/crate"'
    ) in page.headers["link"]


def test_embargoed_crates_are_for_their_owners_only(api, tmp_path):
    owner = api.make_user()
    stranger = api.make_user("stranger@example.org")
    dandiset = api.create_dandiset(owner, embargo=True)
    api.add_asset(owner, dandiset, "secret.txt", b"sealed", {"schemaKey": "Asset"})
    api.wait_for_jobs()
    _, crate = crate_of(api, dandiset, "draft", tmp_path, owner)
    assert [e["name"] for e in crate.root_dataset["hasPart"]] == ["secret.txt"]
    url = f"/api/dandisets/{dandiset}/versions/draft/ro-crate-metadata.json"
    for token in (None, stranger):
        r = api.get(url, token)
        assert r.status_code in (401, 403, 404)
        assert "secret.txt" not in r.text
