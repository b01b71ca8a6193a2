"""OAI-PMH 2.0 at /oai, harvested by a real harvester library (sickle), and the
protocol's own errors for bad requests."""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
import uvicorn
from sickle import Sickle
from sickle.oaiexceptions import BadArgument, BadResumptionToken, IdDoesNotExist, NoRecordsMatch

from ..conftest import free_port
from ..dandisets.test_dois import doi_prefix  # noqa: F401
from ..helpers import publish, valid_dandiset

OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
DATACITE = "{http://datacite.org/schema/kernel-4}"


@pytest.fixture
def archive_url(make_api, doi_prefix) -> Iterator[tuple[object, str]]:  # noqa: F811
    """An archive with five published versions (one withdrawn) and one draft-only
    Dandiset, served on a loopback port; two records per list page."""
    api = make_api(oai_page_size=2)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api.client.app, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield api, f"http://127.0.0.1:{port}/oai"
    server.should_exit = True
    thread.join(timeout=30)


def published_archive(api) -> dict[str, object]:
    key = api.make_user()
    admin = api.make_user("admin@example.org", admin=True)
    published = []
    for n in range(3):
        dandiset = valid_dandiset(api, key, {f"f{n}.txt": b"data %d" % n})
        published.append((dandiset, publish(api, key, dandiset)))
    dandiset = published[0][0]
    api.add_asset(
        key, dandiset, "more.txt", b"more", {"schemaKey": "Asset", "encodingFormat": "text/plain"}
    )
    api.wait_for_jobs()
    published.append((dandiset, publish(api, key, dandiset)))
    withdrawn = published[1]
    r = api.delete(f"/api/dandisets/{withdrawn[0]}/versions/{withdrawn[1]}/", admin)
    assert r.status_code == 204, r.text
    draft_only = api.create_dandiset(key, name="Never published")
    return {"published": published, "withdrawn": withdrawn, "draft": draft_only}


def local_id(identifier: str) -> tuple[str, str]:
    dandiset, version = identifier.rsplit(":", 1)[1].split("/")
    return dandiset, version


def test_a_harvester_collects_every_published_version(archive_url):
    api, url = archive_url
    world = published_archive(api)
    harvester = Sickle(url, max_retries=0)

    identify = harvester.Identify()
    assert identify.protocolVersion == "2.0"
    assert identify.deletedRecord == "persistent"
    assert identify.adminEmail == "admin@example.org"

    records = list(harvester.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    got = {local_id(r.header.identifier): r for r in records}
    # Four versions over two pages of two (a resumption token in between), no drafts.
    assert sorted(got) == sorted(world["published"])
    assert all(version != "draft" for _, version in got)
    withdrawn = got[world["withdrawn"]]
    assert withdrawn.header.deleted and not getattr(withdrawn, "metadata", None)
    live = got[world["published"][2]]
    assert not live.header.deleted
    assert live.metadata["type"] == ["Dataset"]
    assert any(i.startswith("https://doi.org/10.") for i in live.metadata["identifier"])
    assert live.metadata["rights"] == ["spdx:CC0-1.0"]
    assert "license:cc0-1.0" in live.header.setSpecs

    # Datestamps are in order; harvesting from the last one gives what changed since.
    stamps = [r.header.datestamp for r in records]
    assert stamps == sorted(stamps)
    since = list(
        harvester.ListIdentifiers(
            metadataPrefix="oai_dc", ignore_deleted=False, **{"from": stamps[-1]}
        )
    )
    assert local_id(since[-1].identifier) == local_id(records[-1].header.identifier)


def test_datacite_records_and_sets(archive_url):
    api, url = archive_url
    world = published_archive(api)
    harvester = Sickle(url, max_retries=0)
    dandiset, version = world["published"][2]
    # Identifiers are oai:<the web URL's host>:<Dandiset>/<version>.
    record = harvester.GetRecord(
        identifier=f"oai:testserver:{dandiset}/{version}", metadataPrefix="oai_datacite"
    )
    resource = record.xml.find(f".//{DATACITE}resource")
    assert resource is not None
    identifier = resource.find(f"{DATACITE}identifier")
    assert identifier.get("identifierType") == "DOI" and identifier.text.endswith(version)
    assert resource.find(f"{DATACITE}titles/{DATACITE}title").text
    assert resource.find(f"{DATACITE}publicationYear").text.isdigit()

    sets = [s.setSpec for s in harvester.ListSets()]
    assert "license:cc0-1.0" in sets
    in_set = list(harvester.ListIdentifiers(metadataPrefix="oai_dc", set="license:cc0-1.0"))
    assert len(in_set) == 4 and sum(h.deleted for h in in_set) == 1
    with pytest.raises(NoRecordsMatch):
        list(harvester.ListIdentifiers(metadataPrefix="oai_dc", set="license:nope"))


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Dance"}, "badVerb"),
        ({"verb": ["Identify", "Identify"]}, "badVerb"),
        ({"verb": "Identify", "extra": "1"}, "badArgument"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marc"}, "cannotDisseminateFormat"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
        (
            {
                "verb": "ListRecords",
                "metadataPrefix": "oai_dc",
                "from": "2026-01-02",
                "until": "2026-01-01",
            },
            "badArgument",
        ),
        (
            {
                "verb": "ListRecords",
                "metadataPrefix": "oai_dc",
                "from": "2026-01-01",
                "until": "2026-01-02T00:00:00Z",
            },
            "badArgument",
        ),
        ({"verb": "ListRecords", "resumptionToken": "forged"}, "badResumptionToken"),
        (
            {"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"},
            "badArgument",
        ),
        (
            {"verb": "GetRecord", "identifier": "oai:elsewhere:1/2", "metadataPrefix": "oai_dc"},
            "idDoesNotExist",
        ),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}, "noRecordsMatch"),
    ],
)
def test_protocol_errors(api, query, code):
    r = api.get("/oai", params=query)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    error = ET.fromstring(r.content).find(f"{OAI}error")
    assert error is not None and error.get("code") == code, r.text
    assert error.text


def test_post_requests_and_sickle_exceptions(archive_url):
    api, url = archive_url
    published_archive(api)
    harvester = Sickle(url, max_retries=0, http_method="POST")
    headers = list(harvester.ListIdentifiers(metadataPrefix="oai_dc"))
    assert [h.deleted for h in headers].count(False) == 3
    with pytest.raises(IdDoesNotExist):
        harvester.GetRecord(identifier="oai:x:000999/0.1", metadataPrefix="oai_dc")
    with pytest.raises(BadResumptionToken):
        harvester.ListRecords(resumptionToken="tampered")
    with pytest.raises(BadArgument):
        harvester.ListRecords(metadataPrefix="oai_dc", until="not a date")


def test_sitemap_lists_open_pages_only(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    version = publish(api, key, dandiset)
    embargoed = api.create_dandiset(key, name="Secret", embargo="true")
    r = api.get("/sitemap.xml")
    assert r.status_code == 200
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locs = [e.text for e in ET.fromstring(r.content).iter(f"{ns}loc")]
    assert f"http://testserver/dandiset/{dandiset}" in locs
    assert f"http://testserver/dandiset/{dandiset}/{version}" in locs
    assert not any(embargoed in loc for loc in locs)


def test_landing_pages_carry_signposting(api, doi_prefix):  # noqa: F811
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    version = publish(api, key, dandiset)
    r = api.get(f"/dandiset/{dandiset}/{version}")
    assert r.status_code == 200
    links = r.headers["link"]
    assert '; rel="cite-as"' in links and "https://doi.org/10." in links
    assert f'/api/dandisets/{dandiset}/versions/{version}/>; rel="describedby"' in links
    assert 'dandiset.jsonld>; rel="describedby"' in links
    assert '<https://spdx.org/licenses/CC0-1.0>; rel="license"' in links
    assert links.count('rel="item"') == 2
