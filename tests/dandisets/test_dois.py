"""DOIs: minted on publish, registered at DataCite (a DataCite-compatible server on
loopback records the exact requests), reserved when no account is configured."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dandischema.conf import get_instance_config, set_instance_config

from ..helpers import publish, valid_dandiset

PREFIX = "10.80507"


class FakeDataCite:
    """Answers PUT /dois/{doi} like DataCite; can fail the first requests with 503."""

    def __init__(self, failures: int = 0) -> None:
        self.requests: list[dict] = []
        self.failures = failures
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(
                    {
                        "method": "PUT",
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "content_type": self.headers.get("Content-Type"),
                        "body": body,
                    }
                )
                status = 503 if fake.failures > 0 else 201
                fake.failures -= 1
                answer = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.api+json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def doi_prefix():
    before = get_instance_config()
    set_instance_config(
        before.model_copy(update={"doi_prefix": PREFIX, "instance_identifier": "RRID:SCR_000001"})
    )
    yield PREFIX
    set_instance_config(before)


@pytest.fixture
def datacite():
    fake = FakeDataCite(failures=1)
    yield fake
    fake.close()


def test_publish_registers_version_and_concept_dois(make_api, doi_prefix, datacite):
    api = make_api(
        datacite_api_url=datacite.url, datacite_username="user", datacite_password="secret"
    )
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    name = get_instance_config().instance_name.lower()
    concept = f"{PREFIX}/{name}.{dandiset}"
    auth = "Basic " + base64.b64encode(b"user:secret").decode()

    # On creation: the concept DOI as a DataCite draft (the first try got a 503 and was retried).
    assert [r["path"] for r in datacite.requests] == [f"/dois/{concept}", f"/dois/{concept}"]
    draft_request = datacite.requests[-1]
    assert draft_request["auth"] == auth
    assert draft_request["content_type"] == "application/vnd.api+json"
    assert draft_request["body"] == {
        "data": {"id": concept, "type": "dois", "attributes": {"doi": concept}}
    }

    version = publish(api, key, dandiset)
    doi = f"{PREFIX}/{name}.{dandiset}/{version}"
    metadata = api.get(f"/api/dandisets/{dandiset}/versions/{version}/").json()
    assert metadata["doi"] == doi
    assert metadata["citation"].endswith(f"https://doi.org/{doi}")

    sent = {r["path"]: r["body"]["data"] for r in datacite.requests[2:]}
    assert set(sent) == {f"/dois/{doi}", f"/dois/{concept}"}
    version_record = sent[f"/dois/{doi}"]["attributes"]
    assert version_record["doi"] == doi
    assert version_record["event"] == "publish"
    assert version_record["version"] == version
    assert version_record["titles"] == [{"title": "Test Dandiset"}]
    assert {
        "alternateIdentifier": metadata["url"],
        "alternateIdentifierType": "URL",
    } in version_record["alternateIdentifiers"]
    concept_record = sent[f"/dois/{concept}"]["attributes"]
    assert concept_record["doi"] == concept
    assert "version" not in concept_record
    assert {
        "relatedIdentifier": doi,
        "relatedIdentifierType": "DOI",
        "relationType": "HasVersion",
    } in concept_record["relatedIdentifiers"]

    info = api.get(f"/api/dandisets/{dandiset}/versions/{version}/info/").json()
    assert info["doi"] == {
        "doi": doi,
        "state": "findable",
        "message": "registered at DataCite and findable",
    }


def test_without_datacite_account_dois_are_reserved(api, doi_prefix):
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    version = publish(api, key, dandiset)
    info = api.get(f"/api/dandisets/{dandiset}/versions/{version}/info/").json()
    assert info["doi"]["state"] == "reserved"
    assert "no DataCite account" in info["doi"]["message"]
    assert info["metadata"]["doi"] == info["doi"]["doi"]


def test_without_prefix_no_doi_is_minted(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    version = publish(api, key, dandiset)
    info = api.get(f"/api/dandisets/{dandiset}/versions/{version}/info/").json()
    assert info["doi"] is None
    assert "doi" not in info["metadata"]


def test_datacite_refusal_is_recorded_and_retried_later(make_api, doi_prefix):
    fake = FakeDataCite(failures=100)
    try:
        api = make_api(
            datacite_api_url=fake.url,
            datacite_username="u",
            datacite_password="p",
            datacite_attempts=2,
        )
        key = api.make_user()
        dandiset = valid_dandiset(api, key)
        version = publish(api, key, dandiset)
        info = api.get(f"/api/dandisets/{dandiset}/versions/{version}/info/").json()
        assert info["doi"]["state"] == "failed"
        assert "503" in info["doi"]["message"]
        fake.failures = 0
        api.archive.jobs.submit("sweep")
        api.wait_for_jobs()
        info = api.get(f"/api/dandisets/{dandiset}/versions/{version}/info/").json()
        assert info["doi"]["state"] == "findable"
    finally:
        fake.close()
