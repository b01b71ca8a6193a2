"""HEAD wherever GET is answered (the dandi client probes URLs with HEAD): same status
and headers as the GET, no body; routes with their own HEAD keep their answer."""

from __future__ import annotations

import pytest


@pytest.fixture
def layout(api) -> dict[str, str]:
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    asset = api.add_asset(key, dandiset, "sub-1/a.txt", b"alpha")
    api.wait_for_jobs()  # the draft's status settled: GET and HEAD see the same document
    return {"key": key, "dandiset": dandiset, "asset": asset["asset_id"]}


def test_head_on_json_endpoints_is_the_get_without_body(api, layout):
    d, a = layout["dandiset"], layout["asset"]
    for url in (
        "/api/info/",
        "/api/dandisets/",
        f"/api/dandisets/{d}/",
        f"/api/dandisets/{d}/versions/",
        f"/api/dandisets/{d}/versions/draft/",
        f"/api/dandisets/{d}/versions/draft/assets/?page_size=1",
        f"/api/assets/{a}/",
        "/api/search/?q=alpha",
    ):
        get = api.get(url)
        head = api.request("HEAD", url)
        assert (head.status_code, get.status_code) == (200, 200), url
        assert head.content == b"", url
        assert head.headers["content-type"] == get.headers["content-type"], url
        assert head.headers["content-length"] == str(len(get.content)), url


def test_head_on_pages(api, layout):
    d, a = layout["dandiset"], layout["asset"]
    for url in ("/", f"/dandiset/{d}", f"/dandiset/{d}/draft/files/{a}"):
        head = api.request("HEAD", url, follow_redirects=False)
        assert head.status_code == api.get(url, follow_redirects=False).status_code, url
        assert head.status_code in (200, 307), url
        assert head.content == b"", url
    head = api.request("HEAD", f"/dandiset/{d}/draft/files/{a}")
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/html")


def test_head_answers_as_get_would_refuse(api, layout):
    """Refusals keep their status (and the length of their JSON detail)."""
    missing = "/api/dandisets/999999/"
    assert api.get(missing).status_code == 404
    head = api.request("HEAD", missing)
    assert head.status_code == 404 and head.content == b""
    bad = "/api/dandisets/?page_size=0"
    assert api.request("HEAD", bad).status_code == api.get(bad).status_code == 400
    # Where GET is not answered, neither is HEAD.
    assert api.request("HEAD", "/api/uploads/initialize/").status_code == 405


def test_routes_with_their_own_head_keep_it(api, layout):
    """A download's HEAD is answered by its route (a redirect, not counted as a download)."""
    a = layout["asset"]
    head = api.request("HEAD", f"/api/assets/{a}/download/", follow_redirects=False)
    assert head.status_code == 302 and head.headers["location"]
