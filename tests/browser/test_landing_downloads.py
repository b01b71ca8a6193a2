"""In a real browser (Debian's chromium), at desktop and phone widths, never scrolling
sideways: a visitor cites a published version in BibTeX (the downloaded file read back
by bibtexparser, the copied text the same), picks a folder in the download section and
downloads it as a .zip that unpacks to the uploaded bytes and passes ``sha256sum -c``;
the file browser's own .zip link and icons; a signed-in visitor stars the Dandiset and
finds it under My Dandisets. Screenshots go to artifacts/."""

from __future__ import annotations

import shlex
import subprocess
import time
import zipfile
from pathlib import Path

import bibtexparser
import httpx
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware
from playwright.sync_api import Page, expect

from ..helpers import DANDISET_METADATA
from .conftest import ADMIN
from .test_phone_layout import (
    DESKTOP,
    PASSWORD,
    PHONE,
    LiveApi,
    cli,
    make_user,
    no_sideways_scroll,
    sign_in,
)

pytestmark = pytest.mark.browser

TITLE = "Cortex & hippocampus: a long title for a phone's narrow screen"
FILES = {
    "sub-01/sub-01_ses-1_notes.txt": b"first session\n",
    "sub-01/sub-01_ses-2_notes.txt": b"second session\n" * 1000,
    "sub-02/sub-02_ses-1_notes.txt": b"other subject\n",
}
TEXT = {"schemaKey": "Asset", "encodingFormat": "text/plain"}
METADATA = {
    **DANDISET_METADATA,
    "contributor": [{**DANDISET_METADATA["contributor"][0], "includeInCitation": True}],
}


def wait_for(condition, timeout: float = 90, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def run_command(server, page: Page, where: Path) -> Path:
    """Run the download section's command with the real dandi client."""
    words = shlex.split(page.locator("#download-command").inner_text())
    assert words[:2] == ["dandi", "download"]
    where.mkdir(parents=True)
    key = cli(server, "user", "api-key", ADMIN[0])
    run = server.dandi("download", *words[2:], cwd=where, key=key)
    assert run.returncode == 0, run.stdout + run.stderr
    return where


def published_dandiset(server) -> tuple[str, str]:
    key = cli(server, "user", "api-key", ADMIN[0])
    api = LiveApi(client=None, archive=None, base=server.url)  # type: ignore[arg-type]
    d = api.create_dandiset(key, TITLE, metadata=METADATA)
    for path, data in FILES.items():
        api.add_asset(key, d, path, data, TEXT)
    info = f"/api/dandisets/{d}/versions/draft/info/"
    wait_for(lambda: api.get(info).json()["status"] == "Valid", what="a valid draft")
    r = api.post(f"/api/dandisets/{d}/versions/draft/publish/", key)
    assert r.status_code == 202, r.text

    def version() -> str | None:
        versions = api.get(f"/api/dandisets/{d}/versions/").json()["results"]
        return next((v["version"] for v in versions if v["version"] != "draft"), None)

    wait_for(lambda: version() is not None, what="the published version")
    return d, str(version())


def saved(page: Page, click, into: Path) -> Path:
    with page.expect_download() as info:
        click()
    download = info.value
    assert download.failure() is None
    into.mkdir(parents=True, exist_ok=True)
    target = into / download.suggested_filename
    download.save_as(target)
    return target


def check_unpacked(zip_path: Path, folder: Path, manifest: Path) -> None:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(folder)
    for path, data in FILES.items():
        if path.startswith("sub-01/"):
            assert (folder / path).read_bytes() == data
    assert not (folder / "sub-02").exists()
    run = subprocess.run(
        ["sha256sum", "--strict", "-c", str(manifest)], cwd=folder, capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stdout.count(": OK") == 2, run.stdout + run.stderr


def test_cite_and_download_a_folder_at_desktop_and_phone_widths(
    server, browser, screenshot, tmp_path
):
    base = server.url
    d, version = published_dandiset(server)
    make_user(server, "vera@example.org", "Vera Visitor")
    assert httpx.get(f"{base}/static/icons.svg").status_code == 200

    for viewport, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        width = viewport["width"]
        where = tmp_path / label
        where.mkdir()
        context = browser.new_context(
            viewport=viewport, is_mobile=label == "phone", accept_downloads=True
        )
        context.set_default_timeout(15_000)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page = context.new_page()

        # -- cite the published version in BibTeX ------------------------------------------
        page.goto(f"{base}/dandiset/{d}/{version}")
        no_sideways_scroll(page, width)
        page.locator("summary", has_text="BibTeX").click()
        bib_file = saved(page, page.get_by_role("link", name="Download cite.bib").click, where)
        no_sideways_scroll(page, width)
        library = bibtexparser.parse_string(
            bib_file.read_text(), append_middleware=[LatexDecodingMiddleware()]
        )
        assert not library.failed_blocks and len(library.entries) == 1
        entry = library.entries[0]
        assert entry["title"] == TITLE and entry["author"] == "Doe, Jane"
        assert entry["version"] == version and entry["url"].endswith(f"/dandiset/{d}/{version}")
        page.get_by_role("button", name="Copy BibTeX").click()
        expect(page.get_by_role("button", name="Copied")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == bib_file.read_text().strip()
        screenshot(page, f"landing-cite-{label}")

        # -- pick a folder in the download section, download it as .zip -------------------
        page.get_by_label("Version", exact=True).select_option("latest")
        page.get_by_label("Folder or file").fill("sub-01")
        page.get_by_role("button", name="Show", exact=True).click()
        expect(page.locator("#download-command")).to_contain_text("files?location=sub-01/")
        no_sideways_scroll(page, width)
        screenshot(page, f"landing-download-{label}")
        zip_file = saved(page, page.locator("#zip-link").click, where)
        assert zip_file.name == "sub-01.zip"
        manifest = saved(page, page.locator("#manifest-link").click, where)
        check_unpacked(zip_file, where / "from-landing", manifest)
        if label == "desktop":  # the same folder through the dandi client
            got = run_command(server, page, where / "client-folder")
            fetched = sorted(p.relative_to(got).as_posix() for p in got.rglob("*.txt"))
            assert fetched == [f"sub-01/{p.rpartition('/')[2]}" for p in sorted(FILES)[:2]]
            path = "sub-02/sub-02_ses-1_notes.txt"
            page.get_by_label("Folder or file").fill(path)
            page.get_by_role("button", name="Show", exact=True).click()
            expect(page.locator("#download-command")).to_contain_text(f"?path={path}")
            got = run_command(server, page, where / "client-file")
            assert [p.read_bytes() for p in got.rglob("*.txt")] == [FILES[path]]

        # -- the file browser: icons, and the folder's own .zip link -----------------------
        page.goto(f"{base}/dandiset/{d}/{version}/files")
        no_sideways_scroll(page, width)
        expect(page.locator('a[data-kind="folder"] svg.icon')).to_have_count(2)
        page.get_by_role("link", name="sub-01/").click()
        expect(page.locator('a[data-kind="file"] svg.icon')).to_have_count(2)
        no_sideways_scroll(page, width)
        screenshot(page, f"files-icons-{label}")
        folder_zip = saved(page, page.locator("#folder-zip").click, where / "browser")
        check_unpacked(folder_zip, where / "from-files", manifest)
        context.close()

    # -- a signed-in visitor stars it and finds it under My Dandisets --------------------
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    sign_in(page, base, "vera@example.org", PASSWORD)
    page.goto(f"{base}/dandiset/{d}/{version}")
    page.get_by_role("button", name="☆ Star").click()
    expect(page.get_by_role("button", name="★ Starred")).to_be_visible()
    page.goto(f"{base}/my-dandisets")
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    no_sideways_scroll(page, PHONE["width"])
    screenshot(page, "my-dandisets-starred-phone")
    context.close()
