"""The web pages through the ASGI app, on both backends: reading, accounts, owner tools,
bad input and permissions."""

from __future__ import annotations

import html
import json
import re

from dandi_archive.db.models import UserStatus

from ..helpers import DANDISET_METADATA
from .helpers import PASSWORD, Browser, make_account, text_of

SPECIES = {"schemaKey": "SpeciesType", "name": "Mus musculus - House mouse"}


def nwb_meta(subject: str) -> dict:
    return {
        "encodingFormat": "application/x-nwb",
        "wasAttributedTo": [
            {"schemaKey": "Participant", "identifier": subject, "species": SPECIES}
        ],
        "wasGeneratedBy": [
            {"schemaKey": "Session", "identifier": "day1", "name": "day1", "description": "Run"}
        ],
        "variableMeasured": [{"schemaKey": "PropertyValue", "value": "ElectricalSeries"}],
    }


def test_home_search_and_landing_pages(api):
    key = make_account(api, "owner@example.org")
    meta = {**DANDISET_METADATA, "description": "Grid cells </script><script>alert(1)</script>"}
    dandiset = api.create_dandiset(key, "Entorhinal grid cells", meta)
    asset = api.add_asset(key, dandiset, "sub-m1/sub-m1_ses-day1.nwb", b"nwb bytes", nwb_meta("m1"))
    web = Browser(api)

    home = web.get("/")
    assert home.status_code == 200
    assert "Entorhinal grid cells" in home.text
    assert re.search(r"<dt>Dandisets</dt><dd>1</dd>", home.text)

    found = web.get("/search", params={"q": "grid"})
    assert found.status_code == 200 and f"/dandiset/{dandiset}" in found.text
    by_file = web.get("/search", params={"q": "sub-m1"})
    # File names may wrap after "/" and "_" (a <wbr> there).
    assert "sub-m1/<wbr>sub-m1_<wbr>ses-day1.nwb" in by_file.text
    by_species = web.get("/search", params={"species": SPECIES["name"]})
    assert "Entorhinal grid cells" in by_species.text and "1 Dandiset" in text_of(by_species.text)
    assert "0 Dandisets" in text_of(web.get("/search", params={"q": "zebrafish"}).text)
    assert web.get("/search", params={"sort": "nonsense"}).status_code == 200  # falls back

    landing = web.get(f"/dandiset/{dandiset}")
    assert landing.status_code == 200
    page = landing.text
    assert "Entorhinal grid cells" in page
    assert f"dandi download http://testserver/dandiset/{dandiset}/draft" in page
    assert "Doe, Jane" in page and "CC0-1.0" in page
    assert "Mus musculus - House mouse" in page
    # The description cannot end the JSON-LD script, and the JSON-LD is a Dataset.
    assert "</script><script>alert(1)" not in page
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)[1])
    assert ld["@type"] == "Dataset" and ld["name"] == "Entorhinal grid cells"
    assert ld["description"].endswith("<script>alert(1)</script>")
    assert ld["license"] == ["https://spdx.org/licenses/CC0-1.0.html"]
    assert ld["creator"][0]["name"] == "Doe, Jane"
    assert web.get(f"/dandiset/{dandiset}/draft").status_code == 200

    files = web.get(f"/dandiset/{dandiset}/draft/files")
    assert "sub-m1/" in files.text and "1 entries" in text_of(files.text)
    inner = web.get(f"/dandiset/{dandiset}/draft/files", params={"location": "sub-m1"})
    assert "sub-m1_<wbr>ses-day1.nwb" in inner.text
    assert f"/api/assets/{asset['asset_id']}/download/" in inner.text
    detail = web.get(f"/dandiset/{dandiset}/draft/files/{asset['asset_id']}")
    assert detail.status_code == 200
    text = text_of(detail.text)
    assert "NWB summary" in text and "ElectricalSeries" in text and "m1 · Mus musculus" in text


def test_bad_addresses_give_a_404_page(api):
    key = make_account(api, "owner@example.org")
    dandiset = api.create_dandiset(key)
    web = Browser(api)
    for url in [
        "/nope",
        "/dandiset/999999",
        "/dandiset/abc",
        f"/dandiset/{dandiset}/0.990101.0000",
        f"/dandiset/{dandiset}/nonsense",
        f"/dandiset/{dandiset}/draft/files?location=no/such/folder",
        f"/dandiset/{dandiset}/draft/files/not-a-uuid",
        f"/dandiset/{dandiset}/draft/files/00000000-0000-0000-0000-000000000000",
        f"/dandiset/{dandiset}/draft/files?page=abc",
    ]:
        r = web.get(url)
        assert r.status_code == 404, url
        assert "text/html" in r.headers["content-type"] and "Page not found" in r.text, url
    # The API keeps answering JSON.
    r = web.get("/api/dandisets/999999/")
    assert r.status_code == 404 and r.json()["detail"]


def test_sign_up_errors_keep_input_and_approval_by_admin(api):
    make_account(api, "admin@example.org", admin=True, name="Ada Admin")
    web = Browser(api)
    bad = web.post(
        "/signup",
        {"email": "not-an-email", "name": "Grace Hopper", "password": "short", "password2": "x"},
    )
    assert bad.status_code == 400
    assert 'value="not-an-email"' in bad.text and 'value="Grace Hopper"' in bad.text
    assert "Enter an email address" in bad.text and "at least 10 characters" in bad.text
    assert "short" not in re.findall(r'value="([^"]*)"', bad.text)  # passwords never echoed
    mismatch = web.post(
        "/signup",
        {
            "email": "grace@example.org",
            "name": "Grace",
            "password": PASSWORD,
            "password2": "x" * 12,
        },
    )
    assert mismatch.status_code == 400 and "The two passwords differ" in mismatch.text

    ok = web.post(
        "/signup",
        {
            "email": "grace@example.org",
            "name": "Grace Hopper",
            "password": PASSWORD,
            "password2": PASSWORD,
        },
    )
    # New accounts answer the sign-up questions first (tests/accounts/test_questionnaire.py).
    assert ok.status_code == 303 and ok.headers["location"] == "/api/users/questionnaire-form/"
    account = web.get("/account")
    assert "incomplete" in account.text and "API key" in account.text
    # Not approved: no API key, cannot create, cannot see the admin page.
    assert web.get("/dandiset/new").status_code == 403
    assert web.get("/admin/users").status_code == 403
    refused = web.post("/dandiset/new", {"name": "Too early"}, form_page="/account")
    assert refused.status_code == 403
    assert api.get("/api/dandisets/").json()["count"] == 0
    again = web.post(
        "/signup",
        {"email": "GRACE@example.org", "name": "G", "password": PASSWORD, "password2": PASSWORD},
        form_page="/account",
    )
    assert again.status_code == 400 and "An account with this email exists" in again.text

    admin = Browser(api)
    admin.sign_in("admin@example.org")
    listing = admin.get("/admin/users")
    assert listing.status_code == 200 and "grace@example.org" in listing.text
    grace_id = re.search(r'action="/admin/users/(\d+)"', listing.text)[1]
    r = admin.post(f"/admin/users/{grace_id}", {"action": "approve"}, form_page="/admin/users")
    assert r.status_code == 303

    # Grace's existing session now sees the approval.
    assert web.get("/dandiset/new").status_code == 200
    key = re.search(r'id="api-key"[^>]*>([0-9a-f]{40})<', web.get("/account").text)[1]
    me = api.get("/api/users/me/", key).json()
    assert "@" not in me["username"] and me["status"] == "APPROVED"


def test_sign_in_out_and_api_key(api):
    key = make_account(api, "owner@example.org")
    web = Browser(api)
    wrong = web.post("/login", {"email": "owner@example.org", "password": "wrong password"})
    assert wrong.status_code == 400 and "Wrong email or password" in wrong.text
    assert 'value="owner@example.org"' in wrong.text
    unknown = web.post("/login", {"email": "nobody@example.org", "password": PASSWORD})
    assert "Wrong email or password" in unknown.text
    # An address is compared exactly (any case), never as a pattern.
    pattern = web.post("/login", {"email": "owner@example.or_", "password": PASSWORD})
    assert pattern.status_code == 400 and "Wrong email or password" in pattern.text
    assert web.post("/login", {"email": "OWNER@example.org", "password": PASSWORD}).is_redirect
    web.sign_out()
    assert web.get("/account").status_code == 303  # to the sign-in page

    evil = Browser(api).post(
        "/login",
        {"email": "owner@example.org", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert evil.headers["location"] == "/"
    r = web.post("/login", {"email": "owner@example.org", "password": PASSWORD, "next": "/search"})
    assert r.headers["location"] == "/search"
    assert key in web.get("/account").text
    assert web.post("/account/api-key", {}, form_page="/account").status_code == 303
    new_key = re.search(r'id="api-key"[^>]*>([0-9a-f]{40})<', web.get("/account").text)[1]
    assert new_key != key
    assert api.get("/api/users/me/", key).status_code == 401
    assert api.get("/api/users/me/", new_key).status_code == 200

    # A signed-in browser can read the API but never change anything through it.
    assert web.get("/api/users/me/").status_code == 200
    r = web.client.post("/api/dandisets/", json={"name": "x", "metadata": {}})
    assert r.status_code == 401

    web.sign_out()
    assert web.get("/account").status_code == 303


def test_forms_need_their_csrf_token(api):
    make_account(api, "owner@example.org")
    web = Browser(api)
    web.sign_in("owner@example.org")
    for data in ({}, {"csrf_token": "forged"}):
        r = web.client.post("/dandiset/new", data={"name": "Forged", **data})
        assert r.status_code == 403 and "form has expired" in r.text
    assert api.get("/api/dandisets/").json()["count"] == 0
    r = web.client.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert web.get("/account").status_code == 200  # still signed in


def test_create_and_edit_metadata_with_field_errors(api):
    key = make_account(api, "owner@example.org", name="Jane Doe")
    web = Browser(api)
    web.sign_in("owner@example.org")
    missing = web.post("/dandiset/new", {"name": "  ", "description": "Kept text"})
    assert missing.status_code == 400
    assert "Give the Dandiset a title" in missing.text and "Kept text" in missing.text
    created = web.post("/dandiset/new", {"name": "Place cells", "description": ""})
    assert created.status_code == 303
    dandiset = re.search(r"/dandiset/(\d{6})/draft/edit", created.headers["location"])[1]
    edit_url = f"/dandiset/{dandiset}/draft/edit"

    page = web.get(edit_url)
    assert page.status_code == 200
    # What blocks publishing is shown next to the field it is about.
    description = re.search(
        r'<div class="field has-error">\s*<label for="f-description">', page.text
    )
    assert description, "description should carry its error"
    assert "must be fixed before this Dandiset can be published" in page.text

    # Add a contributor (nothing saved yet), fill it in with a bad email: saved, but flagged.
    added = web.post(
        edit_url,
        {
            "name": "Place cells",
            "_add": "contributor:Person",
            "contributor.0.schemaKey": "Person",
            "contributor.0.name": "Doe, Jane",
            "contributor.0.roleName": "dcite:ContactPerson",
            "contributor.0.includeInCitation": ["false", "true"],
        },
    )
    assert added.status_code == 200 and 'name="contributor.1.name"' in added.text
    form = {
        "name": "Place cells in CA1",
        "description": "Recordings of place cells.",
        "license": "spdx:CC-BY-4.0",
        "keywords": "hippocampus\nplace cells\n",
        "contributor.0.schemaKey": "Person",
        "contributor.0.name": "Doe, Jane",
        "contributor.0.email": "jane@example.org",
        "contributor.0.roleName": ["dcite:ContactPerson", "dcite:Author"],
        "contributor.0.includeInCitation": ["false", "true"],
        "contributor.1.schemaKey": "Person",
        "contributor.1.name": "Roe, Richard",
        "contributor.1.email": "not an email",
        "contributor.1.includeInCitation": ["false"],
    }
    saved = web.post(edit_url, form)
    assert saved.status_code == 303
    page = web.get(edit_url).text
    assert "Saved." in page
    assert re.search(r'id="f-contributor-1-email-error"', page), "email error placed on its field"
    assert 'value="not an email"' in page
    meta = api.get(f"/api/dandisets/{dandiset}/versions/draft/").json()
    assert meta["name"] == "Place cells in CA1"
    assert meta["keywords"] == ["hippocampus", "place cells"]
    assert meta["contributor"][0]["roleName"] == ["dcite:ContactPerson", "dcite:Author"]
    assert meta["contributor"][1]["includeInCitation"] is False

    # Remove the bad contributor: the metadata becomes publishable.
    removed = web.post(edit_url, {**form, "_remove": "contributor.1"})
    assert removed.status_code == 200 and 'name="contributor.1.name"' not in removed.text
    form = {k: v for k, v in form.items() if not k.startswith("contributor.1.")}
    assert web.post(edit_url, form).status_code == 303
    assert "nothing blocks publishing" in web.get(edit_url).text
    api.wait_for_jobs()
    assert api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()["status"] == "Valid"

    # A change the service refuses (no title) is not saved; what was typed is kept.
    refused = web.post(
        edit_url,
        {**form, "about.0.schemaKey": "Anatomy", "about.0.identifier": "not a url", "name": ""},
    )
    assert refused.status_code == 400
    assert "Not saved yet" in refused.text
    assert api.get(f"/api/dandisets/{dandiset}/versions/draft/").json()["name"] == (
        "Place cells in CA1"
    )
    assert key


def test_pages_refuse_what_the_api_refuses(api):
    owner_key = make_account(api, "owner@example.org")
    make_account(api, "stranger@example.org", name="Sam Stranger")
    make_account(api, "pending@example.org", status=UserStatus.PENDING)
    dandiset = api.create_dandiset(owner_key, "Owned")
    secret = api.create_dandiset(owner_key, "Secret", embargo="true")
    stranger = Browser(api)
    stranger.sign_in("stranger@example.org")
    edit_url = f"/dandiset/{dandiset}/draft/edit"
    assert stranger.get(edit_url).status_code == 403
    r = stranger.post(edit_url, {"name": "Hijacked"}, form_page="/account")
    assert r.status_code == 403
    assert api.get(f"/api/dandisets/{dandiset}/versions/draft/").json()["name"] == "Owned"
    r = stranger.post(
        f"/dandiset/{dandiset}/owners",
        {"action": "add", "username": "stranger@example.org"},
        form_page="/account",
    )
    assert r.status_code == 403
    r = stranger.post(f"/dandiset/{dandiset}/publish", {"confirm": "yes"}, form_page="/account")
    assert r.status_code == 403
    # Embargoed: strangers are refused, anonymous visitors are sent to sign in.
    assert stranger.get(f"/dandiset/{secret}").status_code == 403
    assert Browser(api).get(f"/dandiset/{secret}").headers["location"].startswith("/login")
    assert "Secret" not in Browser(api).get("/search").text


def test_manage_owners(api):
    owner_key = make_account(api, "owner@example.org", name="Olive Owner")
    make_account(api, "friend@example.org", name="Fran Friend")
    dandiset = api.create_dandiset(owner_key)
    web = Browser(api)
    web.sign_in("owner@example.org")
    url = f"/dandiset/{dandiset}/owners"
    # Owners see the addresses they manage; anyone else sees names and usernames only.
    assert "owner@example.org" not in Browser(api).get(url).text
    assert "owner@example.org" in web.get(url).text
    bad = web.post(url, {"action": "add", "username": "nobody@example.org"})
    assert bad.status_code == 400 and "No such user" in html.unescape(bad.text)
    assert 'value="nobody@example.org"' in bad.text
    assert web.post(url, {"action": "add", "username": "fran-friend"}).status_code == 303
    owners = [o["username"] for o in api.get(f"/api/dandisets/{dandiset}/users/").json()]
    assert owners == ["olive-owner", "fran-friend"]
    assert web.post(url, {"action": "remove", "username": "olive-owner"}).status_code == 303
    owners = [o["username"] for o in api.get(f"/api/dandisets/{dandiset}/users/").json()]
    assert owners == ["fran-friend"]
    # No longer an owner: the page shows no forms and refuses changes.
    assert "Add owner" not in web.get(url).text


def test_file_browser_pages_through_a_large_folder(api):
    key = make_account(api, "owner@example.org")
    dandiset = api.create_dandiset(key)
    for n in range(105):
        api.add_asset(key, dandiset, f"data/file{n:03d}.txt", b"same bytes", {})
    web = Browser(api)
    first = web.get(f"/dandiset/{dandiset}/draft/files", params={"location": "data"})
    assert "105 entries, page 1 of 2" in text_of(first.text)
    assert "file099.txt" in first.text and "file100.txt" not in first.text
    second = web.get(f"/dandiset/{dandiset}/draft/files", params={"location": "data", "page": 2})
    assert "file104.txt" in second.text and "file000.txt" not in second.text
    root = web.get(f"/dandiset/{dandiset}/draft/files")
    row = r"data/</strong></a></th>\s*<td[^>]*>105</td>\s*<td[^>]*>1.1 kB</td>"
    assert re.search(row, root.text)


def test_publish_from_the_page(api):
    key = make_account(api, "owner@example.org")
    dandiset = api.create_dandiset(key)
    web = Browser(api)
    web.sign_in("owner@example.org")
    url = f"/dandiset/{dandiset}/publish"
    empty = web.post(url, {"confirm": "yes"})
    assert empty.status_code == 400 and "empty Dandiset" in empty.text
    api.add_asset(
        key, dandiset, "a.txt", b"alpha", {"schemaKey": "Asset", "encodingFormat": "text/plain"}
    )
    api.wait_for_jobs()
    unconfirmed = web.post(url, {"release_notes": "First"})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.text
    assert "First" in unconfirmed.text
    assert web.post(url, {"confirm": "yes", "release_notes": "First"}).status_code == 303
    api.wait_for_jobs()
    versions = api.get(f"/api/dandisets/{dandiset}/versions/").json()["results"]
    published = [v["version"] for v in versions if v["version"] != "draft"]
    assert len(published) == 1
    landing = web.get(f"/dandiset/{dandiset}")
    assert f"version <strong>{published[0]}</strong>" in landing.text
    assert f"(Version {published[0]})" in landing.text
    # Search shows the published version rather than the draft.
    found = api.get("/api/search/", params={"q": dandiset}).json()["results"]
    assert [(h["identifier"], h["version"]) for h in found] == [(dandiset, published[0])]


def test_zarr_assets_in_the_file_browser(api):
    key = make_account(api, "owner@example.org")
    dandiset = api.create_dandiset(key)
    zarr_id = api.create_zarr(key, dandiset, "sample.ome.zarr")
    api.put_zarr_files(key, zarr_id, {"zarr.json": b'{"zarr_format": 3}', "a/c/0": b"chunk"})
    api.finalize_zarr(key, zarr_id)
    r = api.post(
        f"/api/dandisets/{dandiset}/versions/draft/assets/",
        key,
        json={"metadata": {"path": "sub-1/sample.ome.zarr"}, "zarr_id": zarr_id},
    )
    assert r.status_code == 200, r.text
    asset_id = r.json()["asset_id"]
    web = Browser(api)
    folder = web.get(f"/dandiset/{dandiset}/draft/files", params={"location": "sub-1"})
    assert "sample.ome.zarr" in folder.text
    assert f"/api/assets/{asset_id}/download/" not in folder.text  # no single-file download
    page = web.get(f"/dandiset/{dandiset}/draft/files/{asset_id}")
    assert page.status_code == 200 and f"/api/zarr/{zarr_id}/" in page.text
    # Searchable by its path and counted under the OME/NGFF standard.
    found = api.get("/api/search/", params={"q": "sample zarr"}).json()
    assert [h["identifier"] for h in found["results"]] == [dandiset]
    assert {f["value"] for f in found["facets"]["standard"]} == {"OME/NGFF Standard"}


def test_ome_zarr_page_shows_the_image_and_its_preview(api, tmp_path):
    from ..omezarr import tree_files, write_ome_zarr

    key = make_account(api, "owner@example.org")
    dandiset = api.create_dandiset(key)
    write_ome_zarr(tmp_path / "img.ome.zarr")
    zarr_id = api.create_zarr(key, dandiset, "img.ome.zarr")
    r = api.post(
        f"/api/dandisets/{dandiset}/versions/draft/assets/",
        key,
        json={"metadata": {"path": "img.ome.zarr"}, "zarr_id": zarr_id},
    )
    assert r.status_code == 200, r.text
    api.put_zarr_files(key, zarr_id, tree_files(tmp_path / "img.ome.zarr"))
    api.finalize_zarr(key, zarr_id)
    api.wait_for_jobs()
    page = Browser(api).get(f"/dandiset/{dandiset}/draft/files/{r.json()['asset_id']}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Shape 2 \u00d7 16 \u00d7 64 \u00d7 64 (uint16, 2 resolution levels)" in text
    assert "Pixel size z 2.0 micrometer, y 0.5 micrometer, x 0.5 micrometer" in text
    assert re.search(
        r'<img class="thumbnail" src="data:image/png;base64,[A-Za-z0-9+/=]+"', page.text
    )


def test_home_lists_the_most_downloaded_dandisets(api):
    key = make_account(api, "owner@example.org")
    popular, quiet = api.create_dandiset(key), api.create_dandiset(key)
    # quiet is the more recently modified: only its downloads can put popular first.
    files = {d: api.add_asset(key, d, "data.bin", d.encode() * 100) for d in (popular, quiet)}
    api.wait_for_jobs()
    before = api.get(f"/api/dandisets/{popular}/").json()["modified"]

    def download(dandiset: str, **headers: str) -> None:
        asset = files[dandiset]["asset_id"]
        r = api.get(f"/api/assets/{asset}/download/", headers=headers, follow_redirects=False)
        assert r.status_code == 302

    download(quiet)
    download(popular)
    download(popular, Range="bytes=0-99")
    # Neither a HEAD nor a reader's later range is a new download.
    for _ in range(3):
        url = f"/api/assets/{files[quiet]['asset_id']}/download/"
        r = api.request("HEAD", url, follow_redirects=False)
        assert r.status_code == 302
        download(quiet, Range="bytes=100-199")

    api.wait_for_jobs()  # counts are written in batches

    def order(html: str) -> list[str]:
        most = html.split("<h2>Most downloaded</h2>", 1)[1]
        return re.findall(r'href="/dandiset/(\d{6})"', most)

    assert order(Browser(api).get("/").text)[:2] == [popular, quiet]
    found = api.get("/api/search/", params={"sort": "downloads"}).json()["results"]
    assert [hit["identifier"] for hit in found] == [popular, quiet]
    # Counting a download does not make the Dandiset look modified.
    assert api.get(f"/api/dandisets/{popular}/").json()["modified"] == before
