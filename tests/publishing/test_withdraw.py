"""Withdrawing a published version (admins): the record stays, with a tombstone, its DOI
is hidden at DataCite, and it is no longer listed or the most recent version."""

from __future__ import annotations

import json

from dandischema.conf import get_instance_config

from ..dandisets.test_dois import PREFIX, FakeDataCite, doi_prefix  # noqa: F401
from ..helpers import publish, valid_dandiset

MANIFESTS = [
    "assets.jsonld",
    "assets.yaml",
    "collection.jsonld",
    "dandiset.jsonld",
    "dandiset.ttl",
    "dandiset.yaml",
]


def two_versions(api, key) -> tuple[str, str, str]:
    """A Dandiset published twice, the second time with one more file."""
    dandiset = valid_dandiset(api, key, {"a.txt": b"alpha"})
    first = publish(api, key, dandiset)
    api.add_asset(
        key, dandiset, "b.txt", b"beta", {"schemaKey": "Asset", "encodingFormat": "text/plain"}
    )
    api.wait_for_jobs()
    second = publish(api, key, dandiset)
    assert first != second
    return dandiset, first, second


def listed(api, dandiset: str) -> list[str]:
    return [v["version"] for v in api.get(f"/api/dandisets/{dandiset}/versions/").json()["results"]]


def paths(api, dandiset: str, version: str) -> list[str]:
    r = api.get(f"/api/dandisets/{dandiset}/versions/{version}/assets/")
    assert r.status_code == 200, r.text
    return sorted(a["path"] for a in r.json()["results"])


def test_admin_withdraws_a_published_version(api):
    key = api.make_user()
    admin = api.make_user("admin@example.org", admin=True)
    dandiset, first, second = two_versions(api, key)
    detail = api.get(f"/api/dandisets/{dandiset}/").json()
    assert detail["most_recent_published_version"]["version"] == second

    r = api.delete(f"/api/dandisets/{dandiset}/versions/{second}/", admin)
    assert r.status_code == 204, r.text
    api.wait_for_jobs()

    # Gone from the list and no longer the most recent; still there by its id.
    assert listed(api, dandiset) == ["draft", first]
    detail = api.get(f"/api/dandisets/{dandiset}/").json()
    assert detail["most_recent_published_version"]["version"] == first
    assert api.get(f"/api/dandisets/{dandiset}/versions/{second}/").status_code == 200
    # Other versions, and the withdrawn one's own assets, intact (rows are shared).
    assert paths(api, dandiset, first) == ["a.txt"]
    assert paths(api, dandiset, "draft") == ["a.txt", "b.txt"]
    assert paths(api, dandiset, second) == ["a.txt", "b.txt"]

    # Manifests kept, with the tombstone next to them.
    store = api.archive.store
    prefix = f"dandisets/{dandiset}/{second}/"
    assert sorted(o.key.removeprefix(prefix) for o in store.list_keys(prefix)) == sorted(
        [*MANIFESTS, "WITHDRAWN"]
    )
    stone = json.loads(b"".join(store.iter_bytes(prefix + "WITHDRAWN")))
    assert stone["version"] == second and stone["withdrawn"].startswith("20")
    first_prefix = f"dandisets/{dandiset}/{first}/"
    assert sorted(o.key.removeprefix(first_prefix) for o in store.list_keys(first_prefix)) == (
        MANIFESTS
    )

    # The landing page says so, with the date; the Dandiset's page shows the other one.
    page = api.get(f"/dandiset/{dandiset}/{second}")
    assert page.status_code == 200
    assert "This version was withdrawn" in page.text
    assert stone["withdrawn"][:10] in page.text
    front = api.get(f"/dandiset/{dandiset}")
    assert f"version <strong>{first}</strong>" in front.text
    assert "was withdrawn" not in front.text

    # Recorded once; withdrawing again changes nothing.
    assert api.delete(f"/api/dandisets/{dandiset}/versions/{second}/", admin).status_code == 204
    events = api.get(f"/api/dandisets/{dandiset}/audit/", params={"kind": "withdraw_version"})
    assert [e["details"] for e in events.json()["results"]] == [{"version": second}]


def test_only_admins_withdraw_and_never_the_draft(api):
    key = api.make_user()
    admin = api.make_user("admin@example.org", admin=True)
    dandiset = valid_dandiset(api, key)
    version = publish(api, key, dandiset)
    url = f"/api/dandisets/{dandiset}/versions/{version}/"

    anonymous = api.delete(url)
    assert anonymous.status_code == 401 and anonymous.json()["detail"]
    owner = api.delete(url, key)
    assert owner.status_code == 403
    assert owner.json() == {"detail": "Cannot delete published versions"}
    draft = api.delete(f"/api/dandisets/{dandiset}/versions/draft/", admin)
    assert draft.status_code == 403
    assert draft.json() == {"detail": "Cannot delete draft versions"}
    assert (
        api.delete(f"/api/dandisets/{dandiset}/versions/0.990101.0000/", admin).status_code == 404
    )
    assert api.delete(f"/api/dandisets/999999/versions/{version}/", admin).status_code == 404

    assert listed(api, dandiset) == ["draft", version]
    events = api.get(f"/api/dandisets/{dandiset}/audit/", params={"kind": "withdraw_version"})
    assert events.json()["results"] == []


def doi_of(api, dandiset: str, version: str) -> dict:
    return api.get(f"/api/dandisets/{dandiset}/versions/{version}/info/").json()["doi"]


def test_withdrawn_doi_is_hidden_at_datacite(make_api, doi_prefix):  # noqa: F811
    datacite = FakeDataCite()
    try:
        api = make_api(
            datacite_api_url=datacite.url, datacite_username="user", datacite_password="secret"
        )
        key = api.make_user()
        admin = api.make_user("admin@example.org", admin=True)
        dandiset, first, second = two_versions(api, key)
        name = get_instance_config().instance_name.lower()
        concept = f"{PREFIX}/{name}.{dandiset}"
        assert doi_of(api, dandiset, second)["state"] == "findable"
        before = len(datacite.requests)

        assert api.delete(f"/api/dandisets/{dandiset}/versions/{second}/", admin).status_code == 204
        api.wait_for_jobs()

        sent = {r["path"]: r["body"]["data"]["attributes"] for r in datacite.requests[before:]}
        assert sent[f"/dois/{concept}/{second}"] == {"event": "hide", "doi": f"{concept}/{second}"}
        # The concept DOI now points at the remaining version.
        related = [r["relatedIdentifier"] for r in sent[f"/dois/{concept}"]["relatedIdentifiers"]]
        assert f"{concept}/{first}" in related and f"{concept}/{second}" not in related
        assert doi_of(api, dandiset, second)["state"] == "registered"
        assert doi_of(api, dandiset, first)["state"] == "findable"
    finally:
        datacite.close()


def test_reserved_doi_of_a_withdrawn_version_is_never_registered(api, doi_prefix):  # noqa: F811
    key = api.make_user()
    admin = api.make_user("admin@example.org", admin=True)
    dandiset = valid_dandiset(api, key)
    version = publish(api, key, dandiset)
    assert doi_of(api, dandiset, version)["state"] == "reserved"
    assert api.delete(f"/api/dandisets/{dandiset}/versions/{version}/", admin).status_code == 204
    api.wait_for_jobs()
    assert doi_of(api, dandiset, version)["state"] == "deleted"
    assert listed(api, dandiset) == ["draft"]
    assert api.get(f"/api/dandisets/{dandiset}/").json()["most_recent_published_version"] is None
