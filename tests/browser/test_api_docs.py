"""The API documentation pages render in a browser that cannot reach the internet."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest


@pytest.mark.parametrize(
    ("path", "operation_selector"),
    [("/swagger/", ".opblock-summary-path"), ("/redoc/", "[data-section-id^='operation']")],
)
def test_api_docs_render_offline(browser, server, screenshot, path, operation_selector):
    """Every request leaving the archive's own origin is blocked; the page still lists
    the API's operations, so its scripts came from the archive itself."""
    origin = urlsplit(server.url).netloc
    blocked: list[str] = []

    def only_the_archive(route) -> None:
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page = browser.new_page()
    page.route("**/*", only_the_archive)
    page.goto(server.url + path)
    page.wait_for_selector(operation_selector, timeout=20_000)
    assert page.locator(operation_selector).count() > 20
    screenshot(page, f"api-docs-{path.strip('/')}")
    assert not blocked, f"the page asked outside the archive: {blocked}"
    page.close()
