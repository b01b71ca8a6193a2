"""Dandisets: creation, listing filters, embargo visibility, owners and deletion."""

import pytest

from dandi_archive.api.pagination import page_params

from ..helpers import DANDISET_METADATA


def test_create_returns_detail_and_fills_metadata(api):
    key = api.make_user()
    r = api.post("/api/dandisets/", key, json={"name": "Spikes", "metadata": DANDISET_METADATA})
    assert r.status_code == 200
    body = r.json()
    assert body["identifier"] == "000001"
    assert body["contact_person"] == "Doe, Jane"
    assert body["embargo_status"] == "OPEN"
    assert body["most_recent_published_version"] is None
    assert body["draft_version"]["version"] == "draft"
    assert body["draft_version"]["status"] in ("Pending", "Validating", "Valid")
    metadata = api.get("/api/dandisets/000001/versions/draft/").json()
    assert metadata["name"] == "Spikes"
    assert metadata["id"].endswith(":000001/draft")
    assert metadata["contributor"] == DANDISET_METADATA["contributor"]  # kept verbatim
    assert metadata["url"] == "http://testserver/dandiset/000001/draft"
    assert "(Version draft) [Data set]. DANDI Archive." in metadata["citation"]


@pytest.mark.parametrize("embargo", ["false", "true"])
def test_create_answers_the_dandiset_as_read_back(api, embargo):
    # The answer is built from what creation wrote, not read back: it must be the same.
    key = api.make_user()
    body = {"name": "Spikes", "metadata": DANDISET_METADATA}
    created = api.post(f"/api/dandisets/?embargo={embargo}", key, json=body).json()
    read = api.get(f"/api/dandisets/{created['identifier']}/", key).json()
    for answer in (created, read):  # validation may have run in between
        del answer["draft_version"]["status"], answer["draft_version"]["modified"]
    assert created == read


def test_default_contributor_is_the_creator(api):
    key = api.make_user(name="Ada Lovelace")
    dandiset = api.create_dandiset(key, metadata={"description": "x"})
    contributor = api.get(f"/api/dandisets/{dandiset}/versions/draft/").json()["contributor"]
    assert contributor[0]["name"] == "Lovelace, Ada"
    assert contributor[0]["roleName"] == ["dcite:ContactPerson"]
    assert "email" not in contributor[0]  # the archive publishes no address by itself


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"metadata": {}}, "name"),
        ({"name": "x", "metadata": "text"}, "metadata"),
        ({"name": "   ", "metadata": {}}, "name"),
        ({"name": "x", "metadata": {"identifier": "DANDI:123456"}}, "admins"),
    ],
)
def test_bad_create_requests(api, body, message):
    key = api.make_user()
    r = api.post("/api/dandisets/", key, json=body)
    assert r.status_code == 400
    assert message in r.json()["detail"]
    assert api.get("/api/dandisets/").json()["count"] == 0


def test_admin_may_choose_the_identifier(api):
    admin = api.make_user(admin=True)
    r = api.post(
        "/api/dandisets/", admin, json={"name": "x", "metadata": {"identifier": "DANDI:123456"}}
    )
    assert r.json()["identifier"] == "123456"


def test_list_filters(api):
    key = api.make_user()
    empty = api.create_dandiset(key, name="Empty unicorn")
    full = api.create_dandiset(key, name="Full dragon")
    api.add_asset(key, full, "a.txt", b"a")

    def listed(**p):
        return [
            d["identifier"] for d in api.get("/api/dandisets/", key, params=p).json()["results"]
        ]

    assert listed() == [empty, full]
    assert listed(empty="False") == [full]
    assert listed(draft="false") == []
    assert listed(search="unicorn") == [empty]
    assert listed(search="UNICORN empty") == [empty]
    assert listed(search="unicorn dragon") == []
    assert listed(ordering="-id") == [full, empty]
    assert listed(ordering="-size") == [full, empty]
    assert listed(ordering="name") == [empty, full]
    assert listed(user="me") == [empty, full]
    other = api.make_user("other@example.org")
    assert [
        d["identifier"]
        for d in api.get("/api/dandisets/", other, params={"user": "me"}).json()["results"]
    ] == []
    assert api.get("/api/dandisets/", params={"ordering": "color"}).status_code == 400
    assert api.get("/api/dandisets/", params={"user": "you"}).status_code == 400
    assert api.get("/api/dandisets/", params={"page_size": 0}).status_code == 400


def test_pagination_links(api):
    key = api.make_user()
    for n in range(5):
        api.create_dandiset(key, name=f"D{n}")
    page = api.get("/api/dandisets/", params={"page_size": 2}).json()
    assert page["count"] == 5
    assert page["next"].endswith("page_size=2&page=2")
    last = api.get("/api/dandisets/", params={"page_size": 2, "page": 3}).json()
    assert last["next"] is None
    assert len(last["results"]) == 1
    assert last["count"] == 5
    past = api.get("/api/dandisets/", params={"page_size": 2, "page": 9}).json()
    assert past["results"] == [] and past["count"] == 5
    # The count is that of the filtered selection, not of every Dandiset.
    found = api.get("/api/dandisets/", params={"page_size": 1, "search": "D3"}).json()
    assert found["count"] == 1 and found["results"][0]["draft_version"]["name"] == "D3"
    # An oversized page is served at upstream's maximum, 1000, not refused.
    big = api.get("/api/dandisets/", params={"page_size": 5000})
    assert big.status_code == 200 and len(big.json()["results"]) == 5
    assert page_params(page=1, page_size=5000).page_size == 1000


def test_embargoed_dandisets_are_private(api):
    owner = api.make_user("owner@example.org")
    other = api.make_user("other@example.org")
    dandiset = api.create_dandiset(owner, embargo="true")
    detail = api.get(f"/api/dandisets/{dandiset}/", owner).json()
    assert detail["embargo_status"] == "EMBARGOED"
    metadata = api.get(f"/api/dandisets/{dandiset}/versions/draft/", owner).json()
    assert metadata["access"][0]["status"] == "dandi:EmbargoedAccess"
    assert metadata["access"][0]["embargoedUntil"]
    assert api.get(f"/api/dandisets/{dandiset}/").status_code == 401
    assert api.get(f"/api/dandisets/{dandiset}/", other).status_code == 403
    assert api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/").status_code == 401
    assert api.get("/api/dandisets/", owner).json()["count"] == 0
    assert api.get("/api/dandisets/", owner, params={"embargoed": "true"}).json()["count"] == 1
    assert api.get("/api/dandisets/", other, params={"embargoed": "true"}).json()["count"] == 0
    assert api.get("/api/dandisets/", params={"embargoed": "true"}).status_code == 401
    asset = api.add_asset(owner, dandiset, "secret.txt", b"secret")
    assert api.get(f"/api/assets/{asset['asset_id']}/").status_code == 401
    assert api.get(f"/api/assets/{asset['asset_id']}/download/", other).status_code == 403
    assert api.download(f"/api/assets/{asset['asset_id']}/download/", owner).content == b"secret"
    storage_url = api.get(f"/api/assets/{asset['asset_id']}/", owner).json()["contentUrl"][1]
    if not api.archive.settings.s3_bucket:  # moto does not enforce bucket policies
        assert api.get(storage_url).status_code == 403


def test_embargoed_blob_becomes_public_when_added_to_open_dandiset(api):
    key = api.make_user()
    private = api.create_dandiset(key, embargo="true")
    public = api.create_dandiset(key, name="Public")
    api.add_asset(key, private, "a.txt", b"shared bytes")
    asset = api.add_asset(key, public, "a.txt", b"shared bytes")  # deduplicated
    storage_url = api.get(f"/api/assets/{asset['asset_id']}/").json()["contentUrl"][1]
    assert api.get(storage_url).content == b"shared bytes"


def test_owners_can_be_replaced_but_not_emptied(api):
    owner = api.make_user("owner@example.org", name="Olive Owner")
    other = api.make_user("friend@example.org", name="Friend")
    dandiset = api.create_dandiset(owner)
    url = f"/api/dandisets/{dandiset}/users/"
    assert [o["username"] for o in api.get(url).json()] == ["olive-owner"]
    assert api.get(url).json()[0]["email"] is None  # not shown to anonymous callers
    assert api.get(url, other).json()[0]["email"] is None  # nor to non-owners
    assert api.get(url, owner).json()[0]["email"] == "owner@example.org"  # owners manage it
    r = api.put(url, owner, json=[{"username": "olive-owner"}, {"username": "friend"}])
    assert [o["username"] for o in r.json()] == ["olive-owner", "friend"]
    assert api.put(url, owner, json=[]).status_code == 400
    r = api.put(url, owner, json=[{"username": "ghost"}])
    assert r.status_code == 400
    assert "ghost" in r.json()["detail"]
    assert len(api.get(url).json()) == 2


def test_delete_dandiset_removes_everything(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    api.add_asset(key, dandiset, "a.txt", b"a")
    assert api.delete(f"/api/dandisets/{dandiset}/", key).status_code == 204
    assert api.get(f"/api/dandisets/{dandiset}/").status_code == 404
    assert api.get("/api/dandisets/").json()["count"] == 0
    assert api.delete(f"/api/dandisets/{dandiset}/", key).status_code == 404
    assert api.get("/api/dandisets/999999/").status_code == 404
    assert api.get("/api/dandisets/abc/").status_code == 404


def test_lifting_an_embargo_opens_everything(api):
    owner = api.make_user("owner@example.org")
    other = api.make_user("other@example.org")
    dandiset = api.create_dandiset(owner, embargo="true")
    asset = api.add_asset(owner, dandiset, "data.txt", b"kept private", {"schemaKey": "Asset"})
    api.wait_for_jobs()
    url = f"/api/dandisets/{dandiset}/unembargo/"
    assert api.post(url, other).status_code == 403
    assert api.post(url).status_code == 401
    assert api.post(url, owner).status_code == 200
    api.wait_for_jobs()
    detail = api.get(f"/api/dandisets/{dandiset}/").json()
    assert detail["embargo_status"] == "OPEN"
    metadata = api.get(f"/api/dandisets/{dandiset}/versions/draft/").json()
    assert metadata["access"][0]["status"] == "dandi:OpenAccess"
    asset_metadata = api.get(f"/api/assets/{asset['asset_id']}/").json()
    assert asset_metadata["access"][0]["status"] == "dandi:OpenAccess"
    assert api.get(asset_metadata["contentUrl"][1]).content == b"kept private"
    assert api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()["status"] == "Valid"
    assert list(api.archive.store.list_keys(f"dandisets/{dandiset}/draft/"))
    assert api.post(url, owner).status_code == 400  # not embargoed any more
