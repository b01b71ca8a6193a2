"""Croissant 1.0: a version as the JSON-LD machine-learning tools load datasets from,
checked by mlcroissant, MLCommons' own reader and validator."""

from __future__ import annotations

import hashlib

import mlcroissant as mlc

from ..helpers import publish, valid_dandiset

FILES = {"sub-1/a.txt": b"alpha", "sub-2/b.txt": b"beta" * 1000}


def test_a_published_version_is_a_valid_croissant_dataset(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key, FILES)
    version = publish(api, key, dandiset)
    r = api.get(f"/api/dandisets/{dandiset}/versions/{version}/croissant/")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/ld+json")
    document = r.json()
    metadata = api.get(f"/api/dandisets/{dandiset}/versions/{version}/").json()

    dataset = mlc.Dataset(jsonld=document)  # raises on any error of the spec
    issues = dataset.metadata.ctx.issues
    assert not issues.errors and not issues.warnings, issues.report()
    assert dataset.metadata.name == metadata["name"]
    assert dataset.metadata.cite_as == metadata["citation"]
    assert dataset.metadata.license == ["https://spdx.org/licenses/CC0-1.0"]
    assert dataset.metadata.url == metadata["url"]

    objects = {f.name: f for f in dataset.metadata.distribution}
    assert sorted(objects) == sorted(FILES)
    for path, data in FILES.items():
        found = objects[path]
        assert found.sha256 == hashlib.sha256(data).hexdigest()
        assert found.encoding_formats == ["text/plain"] or found.encoding_format == "text/plain"
        assert api.download(found.content_url).content == data


def test_embargoed_versions_are_croissant_for_their_owners_only(api):
    owner = api.make_user()
    stranger = api.make_user("stranger@example.org")
    dandiset = api.create_dandiset(owner, embargo=True)
    api.add_asset(owner, dandiset, "secret.txt", b"sealed", {"schemaKey": "Asset"})
    api.wait_for_jobs()
    url = f"/api/dandisets/{dandiset}/versions/draft/croissant/"
    r = api.get(url, owner)
    assert r.status_code == 200
    assert [f["name"] for f in r.json()["distribution"]] == ["secret.txt"]
    for token in (None, stranger):
        r = api.get(url, token)
        assert r.status_code in (401, 403, 404)
        assert "secret.txt" not in r.text
