"""Pages that say where a Dandiset stands: "My Dandisets", whether a draft can be
published (by the rule publishing applies), where "Publish now" leads, what a published
version shows (date, notes, DOI, the latest version), the identifier, empty Dandisets
left out of lists, and the admin's confirmation before rejecting an approved account."""

from __future__ import annotations

import re

import pytest
from dandischema.conf import get_instance_config, set_instance_config
from sqlalchemy import select

from dandi_archive.db.models import UserStatus, Version, VersionStatus

from ..helpers import publish, valid_dandiset
from .helpers import Browser, make_account, text_of

TEXT = {"schemaKey": "Asset", "encodingFormat": "text/plain"}


@pytest.fixture
def doi_prefix():
    before = get_instance_config()
    set_instance_config(before.model_copy(update={"doi_prefix": "10.80507"}))
    yield "10.80507"
    set_instance_config(before)


def signed_in(api, email: str) -> Browser:
    web = Browser(api)
    web.sign_in(email)
    return web


def test_my_dandisets_lists_drafts_embargoed_and_empty_ones(api):
    key = make_account(api, "owner@example.org")
    other = make_account(api, "other@example.org", name="Olga Other")
    empty = api.create_dandiset(key, "Still empty")
    secret = api.create_dandiset(key, "Under embargo", embargo="true")
    full = api.create_dandiset(key, "With data")
    api.add_asset(key, full, "a.txt", b"alpha" * 300, TEXT)
    theirs = api.create_dandiset(other, "Not mine")
    api.wait_for_jobs()
    web = signed_in(api, "owner@example.org")

    home = web.get("/")
    assert 'href="/my-dandisets"' in home.text  # in the header when signed in
    page = web.get("/my-dandisets")
    assert page.status_code == 200
    text = text_of(page.text)
    mine = ((empty, "Still empty"), (secret, "Under embargo"), (full, "With data"))
    for identifier, name in mine:
        assert f'href="/dandiset/{identifier}/draft">{name}</a>' in page.text
    assert theirs not in page.text and "Not mine" not in text
    assert "embargoed" in text and "empty" in text and "1 file · 1.5 kB" in text
    assert "not yet" in text  # nothing published
    # The most recently modified first: the one given a file last.
    names = re.findall(r'href="/dandiset/\d{6}/draft">([^<]+)</a>', page.text)
    assert names[0] == "With data" and set(names) == {"Still empty", "Under embargo", "With data"}

    account = web.get("/account").text
    assert "Under embargo" in account and 'href="/my-dandisets">All your Dandisets (3)' in account

    # Nobody signed in: sent to sign in; someone owning nothing is told so.
    assert Browser(api).get("/my-dandisets").headers["location"].startswith("/login")
    make_account(api, "new@example.org")
    assert (
        "You do not own any Dandiset yet"
        in signed_in(api, "new@example.org").get("/my-dandisets").text
    )


def test_publish_is_offered_only_when_publishing_would_succeed(api):
    key = make_account(api, "owner@example.org")
    empty = api.create_dandiset(key, "Empty but described")
    secret = api.create_dandiset(key, "Embargoed", embargo="true")
    api.add_asset(key, secret, "a.txt", b"alpha", TEXT)
    api.wait_for_jobs()
    # The metadata of both is valid: only the files (and the embargo) stand in the way.
    for identifier in (empty, secret):
        info = api.get(f"/api/dandisets/{identifier}/versions/draft/info/", key).json()
        assert info["status"] == "Valid", info
    web = signed_in(api, "owner@example.org")

    landing = web.get(f"/dandiset/{empty}/draft").text
    assert "can be published" not in landing
    assert "add files before publishing" in landing
    assert f'href="/dandiset/{empty}/publish"' not in landing
    form = web.get(f"/dandiset/{empty}/publish").text
    assert "add files before publishing" in form and "Publish now" not in form

    embargoed = web.get(f"/dandiset/{secret}/draft").text
    assert "can be published" not in embargoed and "lift the embargo first" in embargoed
    assert f'href="/dandiset/{secret}/publish"' not in embargoed

    api.add_asset(key, empty, "a.txt", b"alpha", TEXT)
    api.wait_for_jobs()
    ready = web.get(f"/dandiset/{empty}/draft").text
    assert "This draft is valid and can be published." in ready
    assert f'href="/dandiset/{empty}/publish"' in ready
    # A visitor is told nothing about publishing.
    visitor = Browser(api).get(f"/dandiset/{empty}/draft").text
    assert 'id="publish-state"' not in visitor and f"/dandiset/{empty}/publish" not in visitor


def test_publish_now_leads_to_the_new_version(api):
    key = make_account(api, "owner@example.org")
    dandiset = valid_dandiset(api, key)
    web = signed_in(api, "owner@example.org")
    r = web.post(f"/dandiset/{dandiset}/publish", {"confirm": "yes", "release_notes": "First"})
    assert r.status_code == 303
    pattern = rf"/dandiset/{dandiset}/publishing\?version=(0\.\d{{6}}\.\d{{4}})"
    match = re.fullmatch(pattern, r.headers["location"])
    assert match, r.headers["location"]
    version = match[1]
    api.wait_for_jobs()
    done = web.get(r.headers["location"])
    assert done.status_code == 303 and done.headers["location"] == f"/dandiset/{dandiset}/{version}"
    page = web.get(done.headers["location"]).text
    assert f"Published: this is version {version}" in page
    assert f"version <strong>{version}</strong>" in page
    # The draft now has nothing new to publish, and says so instead of offering it.
    draft = web.get(f"/dandiset/{dandiset}/draft").text
    assert f'href="/dandiset/{dandiset}/publish"' not in draft
    assert "no changes to the draft version since the last publish" in draft

    # Unknown or malformed versions: back to the draft with a reason, or a 404.
    refused = web.get(f"/dandiset/{dandiset}/publishing", params={"version": "0.990101.0000"})
    assert refused.headers["location"] == f"/dandiset/{dandiset}/draft"
    assert "was not published" in web.get(f"/dandiset/{dandiset}/draft").text
    assert web.get(f"/dandiset/{dandiset}/publishing", params={"version": "x"}).status_code == 404


def test_publishing_page_waits_and_refreshes_while_the_job_is_queued(api):
    key = make_account(api, "owner@example.org")
    dandiset = valid_dandiset(api, key)
    # The state request_publish leaves until its job runs (the job is not queued here).
    with api.archive.db.session(write=True) as session:
        draft = session.scalars(
            select(Version).where(Version.version == "draft", Version.dandiset_id == int(dandiset))
        ).one()
        draft.status = VersionStatus.PUBLISHING
        draft.publish_request = {"version": "0.250101.1200", "user_id": None}
    web = Browser(api)
    page = web.get(f"/dandiset/{dandiset}/publishing", params={"version": "0.250101.1200"})
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="2">' in page.text
    assert "Publishing started" in page.text
    assert f'href="/dandiset/{dandiset}/0.250101.1200"' in page.text


def test_published_versions_show_date_notes_doi_and_the_latest(api, doi_prefix):
    key = make_account(api, "owner@example.org")
    dandiset = valid_dandiset(api, key)
    first = publish(api, key, dandiset, release_notes="The first release.\n\nWith two paragraphs.")
    web = Browser(api)
    page = web.get(f"/dandiset/{dandiset}/{first}").text
    text = text_of(page)
    meta = api.get(f"/api/dandisets/{dandiset}/versions/{first}/").json()
    assert f'datetime="{meta["datePublished"]}"' in page
    assert f"published {meta['datePublished'][:10]}" in text
    assert "status Valid" not in text and 'class="status' not in page
    assert "<p>The first release.</p><p>With two paragraphs.</p>" in page
    assert f"DOI: {meta['doi']} (reserved: no DataCite account is configured" in text
    assert "latest version" in text and 'id="newer-version"' not in page

    api.add_asset(key, dandiset, "c.txt", b"gamma", TEXT)
    api.wait_for_jobs()
    second = publish(api, key, dandiset)
    older = web.get(f"/dandiset/{dandiset}/{first}").text
    assert 'id="newer-version"' in older
    assert re.search(
        rf'The latest version is <a href="/dandiset/{dandiset}/{second}">{second}</a>', older
    )
    newest = web.get(f"/dandiset/{dandiset}/{second}").text
    assert 'id="newer-version"' not in newest
    assert "None were given when this version was published." in newest
    draft = web.get(f"/dandiset/{dandiset}/draft").text
    assert f'The latest published version is <a href="/dandiset/{dandiset}/{second}">' in draft


def test_pages_show_the_identifier_the_metadata_gives(api):
    key = make_account(api, "owner@example.org")
    dandiset = api.create_dandiset(key)
    identifier = api.get(f"/api/dandisets/{dandiset}/versions/draft/").json()["identifier"]
    assert identifier == f"{get_instance_config().instance_name}:{dandiset}"
    web = signed_in(api, "owner@example.org")
    for url in (
        f"/dandiset/{dandiset}",
        f"/dandiset/{dandiset}/draft/files",
        f"/dandiset/{dandiset}/owners",
        f"/dandiset/{dandiset}/draft/edit",
        f"/dandiset/{dandiset}/history",
        "/search?hide_empty=0",
    ):
        page = web.get(url).text
        assert identifier in page, url
        shown = set(re.findall(rf"([A-Z][-A-Z]*):{dandiset}", text_of(page)))
        assert shown == {identifier.split(":")[0]}, (url, shown)


def test_empty_dandisets_are_left_out_of_home_and_search(api):
    key = make_account(api, "owner@example.org")
    full = api.create_dandiset(key, "Has a file")
    asset = api.add_asset(key, full, "data.bin", b"x" * 100, TEXT)
    empty = api.create_dandiset(key, "Nothing here yet")
    api.wait_for_jobs()
    web = Browser(api)

    home = web.get("/").text
    recent = home.split("<h2>Recently updated</h2>", 1)[1].split("<h2>Most downloaded</h2>")[0]
    assert full in recent and empty not in recent
    popular = home.split("<h2>Most downloaded</h2>", 1)[1]
    assert "Nothing downloaded yet." in popular and full not in popular

    for _ in range(2):
        url = f"/api/assets/{asset['asset_id']}/download/"
        assert api.get(url, follow_redirects=False).status_code == 302
    api.wait_for_jobs()
    popular = web.get("/").text.split("<h2>Most downloaded</h2>", 1)[1]
    assert full in popular and "2 downloads" in text_of(popular) and empty not in popular

    hidden = web.get("/search")
    assert full in hidden.text and empty not in hidden.text
    assert re.search(r'id="hide-empty" name="hide_empty" value="1"\s+checked', hidden.text)
    # The unticked box submits only the hidden "0": empty Dandisets are shown.
    shown = web.get("/search", params={"hide_empty": "0"})
    assert full in shown.text and empty in shown.text
    assert not re.search(r'id="hide-empty"[^>]*checked', shown.text)
    # The ticked box submits both: hidden again.
    ticked = web.get("/search?hide_empty=0&hide_empty=1")
    assert empty not in ticked.text
    # Facet links keep the choice.
    assert "hide_empty=0" in shown.text.split('class="facets"', 1)[1]
    # The API can leave them out too; by default it lists everything, as before.
    everything = api.get("/api/search/").json()["results"]
    assert {h["identifier"] for h in everything} == {full, empty}
    with_files = api.get("/api/search/", params={"empty": "false"}).json()["results"]
    assert [h["identifier"] for h in with_files] == [full]


def test_rejecting_an_approved_account_asks_for_confirmation(api):
    make_account(api, "admin@example.org", admin=True, name="Ada Admin")
    approved_key = make_account(api, "working@example.org", name="Wendy Working")
    make_account(api, "waiting@example.org", name="Walt Waiting", status=UserStatus.PENDING)
    admin = signed_in(api, "admin@example.org")
    listing = admin.get("/admin/users").text
    ids = dict(
        (email, n)
        for n, email in re.findall(
            r'action="/admin/users/(\d+)".*?aria-label="Reject ([^"]+)"', listing, re.S
        )
    )

    # One click on "Reject" for an approved account only asks.
    asked = admin.post(
        f"/admin/users/{ids['working@example.org']}",
        {"action": "reject", "reason": "Left the lab"},
        form_page="/admin/users",
    )
    assert asked.status_code == 200 and "Reject working@example.org?" in asked.text
    assert "Left the lab" in asked.text and 'name="confirm" value="yes" required' in asked.text
    assert api.get("/api/users/me/", approved_key).status_code == 200  # still approved

    done = admin.post(
        f"/admin/users/{ids['working@example.org']}",
        {"action": "reject", "reason": "Left the lab", "confirm": "yes"},
        form_page="/admin/users",
    )
    assert done.status_code == 303
    assert api.get("/api/users/me/", approved_key).status_code in (401, 403)

    # Someone still waiting is rejected at once, as before.
    once = admin.post(
        f"/admin/users/{ids['waiting@example.org']}", {"action": "reject"}, form_page="/admin/users"
    )
    assert once.status_code == 303
    assert "waiting@example.org is now rejected" in admin.get("/admin/users").text


def test_embargo_end_label_says_the_input_format(api):
    make_account(api, "owner@example.org")
    page = signed_in(api, "owner@example.org").get("/dandiset/new").text
    assert re.search(
        r'<label for="f-embargo_end">Embargo ends on \(YYYY-MM-DD\)</label>.*?'
        r'<input id="f-embargo_end" name="embargo_end" type="text"',
        page,
        re.S,
    )
