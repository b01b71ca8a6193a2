"""Bad input is a 4xx naming the problem, and a 500 never costs the client its connection."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from dandi_archive.app import create_app
from dandi_archive.archive import build_archive

from ..conftest import free_port, make_settings

# -- a 500 is an incident, not a dropped connection --------------------------------------


class Boom(RuntimeError):
    pass


@pytest.fixture
def live_server(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, list[logging.LogRecord]]]:
    """The real app, with one route that fails, served by uvicorn on a loopback port."""
    settings = make_settings("embedded", tmp_path / "data", request)
    archive = build_archive(settings, run_jobs_in_process=True)
    app = create_app(archive)

    @app.get("/api/test-boom/")
    def boom() -> None:
        raise Boom("this route always fails")

    @app.get("/test-boom-page")
    def boom_page() -> None:
        raise Boom("this page always fails")

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    logging.getLogger().addHandler(handler)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", records
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        logging.getLogger().removeHandler(handler)
        archive.close()


def test_unhandled_error_is_a_logged_500_and_the_connection_stays_usable(live_server) -> None:
    url, records = live_server
    connections: list[object] = []

    def note_connection(response: httpx.Response) -> None:
        connections.append(response.extensions.get("network_stream"))

    with httpx.Client(base_url=url, timeout=30, event_hooks={"response": [note_connection]}) as c:
        r = c.get("/api/test-boom/")
        assert r.status_code == 500
        body = r.json()
        error_id = body["error_id"]
        assert error_id and error_id in body["detail"]
        # The next, unrelated request on the same keep-alive connection succeeds.
        after = c.get("/api/info/")
        assert after.status_code == 200, after.text
        assert connections[0] is connections[1], "the server closed the connection"
        page = c.get("/test-boom-page")
        assert page.status_code == 500
        assert "text/html" in page.headers["content-type"]
        assert c.get("/api/info/").status_code == 200
    logged = [r for r in records if error_id in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in records]
    assert logged[0].exc_info and logged[0].exc_info[0] is Boom
    assert "this route always fails" in logging.Formatter().format(logged[0])


# -- limits ------------------------------------------------------------------------------


def test_body_over_the_limit_is_413(make_api) -> None:
    api = make_api(max_request_body_bytes=10_000)
    key = api.make_user()
    big = {"name": "x", "metadata": {"description": "a" * 20_000}}
    r = api.post("/api/dandisets/", key, json=big)
    assert r.status_code == 413, r.text
    assert "DANDI_ARCHIVE_MAX_REQUEST_BODY_BYTES" in r.json()["detail"]

    def chunked() -> Iterator[bytes]:  # no Content-Length: the cap still holds
        yield b'{"name": "x", "metadata": {"description": "'
        for _ in range(30):
            yield b"a" * 1000
        yield b'"}}'

    r = api.post(
        "/api/dandisets/", key, content=chunked(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413, r.text
    # Under the limit, the same route works.
    assert api.post("/api/dandisets/", key, json={"name": "small"}).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/api/dandisets/", "/api/zarr/", "/api/search/", "/api/dandisets/000001/versions/"],
)
def test_huge_page_number_is_400(api, url: str) -> None:
    r = api.get(url, params={"page": "100000000000000000000"})
    assert r.status_code == 400, r.text
    assert "page" in r.json()["detail"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [("\ud800", "surrogate"), ("a\x00b", "NUL")],
)
def test_bad_strings_in_json_are_400_naming_the_field(api, owner, text: str, problem: str) -> None:
    for payload, field in (
        ({"name": text}, "name"),
        ({"name": "ok", "metadata": {"keywords": ["x", text]}}, "metadata.keywords.1"),
    ):
        # ASCII-escaped, as a client sends "\ud800" (no UTF-8 encoding of a lone surrogate)
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        r = api.post("/api/dandisets/", owner, content=body, headers=headers)
        assert r.status_code == 400, r.text
        detail = r.json()["detail"]
        assert field in detail and problem in detail, detail


def test_huge_integer_in_json_is_400(api, owner, dandiset) -> None:
    r = api.post(
        "/api/uploads/initialize/",
        owner,
        json={
            "contentSize": 10**30,
            "digest": {"algorithm": "dandi:dandi-etag", "value": "0" * 32 + "-1"},
            "dandiset": dandiset,
        },
    )
    assert r.status_code == 400, r.text
    assert "contentSize" in r.json()["detail"]


def test_nul_in_zarr_name_is_400(api, owner, dandiset) -> None:
    r = api.post("/api/zarr/", owner, json={"name": "a\x00.zarr", "dandiset": dandiset})
    assert r.status_code == 400, r.text
    assert "name" in r.json()["detail"]


def test_control_characters_in_the_zarr_cursor_are_400(api, owner, dandiset) -> None:
    zarr_id = api.create_zarr(owner, dandiset)
    for after in ("\x01", "a\x00", "\x1f\x7f"):
        r = api.get(f"/api/zarr/{zarr_id}/files/", params={"after": after})
        assert r.status_code == 400, r.text
        assert "after" in r.json()["detail"]
    assert api.get(f"/api/zarr/{zarr_id}/files/", params={"after": "0/0"}).status_code == 200


@pytest.mark.parametrize(
    "cookie",
    [
        b"garbage",
        b"eyJ1c2VyX2lkIjogMX0=.forged.signature",
        "\u00e9t\u00e9".encode(),
        b"a" * 5000,
        b"e30=.aaaa.bbbb",
        b"\xff\xfe.\x80",
    ],
)
def test_forged_session_cookie_is_signed_out(api, cookie: bytes) -> None:
    headers = {"Cookie": b"dandi_session=" + cookie}
    r = api.get("/api/users/me/", headers=headers)
    assert r.status_code == 401, r.text
    assert api.get("/", headers=headers).status_code == 200


@pytest.mark.parametrize("key", [b"\xff\xfe", b"a" * 5000, "\u00e9".encode(), b"'; --"])
def test_forged_api_key_is_401(api, key: bytes) -> None:
    r = api.get("/api/users/me/", headers={"Authorization": b"token " + key})
    assert r.status_code == 401, r.text
