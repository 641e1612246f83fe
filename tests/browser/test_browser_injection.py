"""A link cannot put markup on the page, and no page asks the internet for anything.

A URL value holding a blank line used to end the notice's code span, so ``![](http://...)``
became a tracking image and ``[Log in](https://...)`` a link on a teacher's projector.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .conftest import wait_for_app

pytestmark = pytest.mark.browser

HOSTILE = "\n\n[Log in](http://e.invalid)![](http://t.invalid/x)`"
PAGES = {
    "playground": "beta",
    "stepper": "seed",
    "generalisation": "gseed",
}


@pytest.mark.parametrize("page_name, param", sorted(PAGES.items()))
def test_url_values_are_shown_as_plain_text(page, app_url, page_name, param):
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not _local(r.url) else None)
    page.goto(f"{app_url}/{page_name}?{param}={quote(HOSTILE)}")
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    assert main.locator('img[src*="invalid"]').count() == 0
    assert main.locator('a[href*="invalid"]').count() == 0
    assert "Log in" in main.inner_text()  # the value is shown, as text
    assert page.locator('[data-testid="stException"]').count() == 0
    assert outside == [], f"requests beyond this machine: {outside}"


@pytest.mark.parametrize("path", ["", "/playground", "/stepper", "/generalisation", "/train"])
def test_no_page_requests_anything_beyond_this_machine(page, app_url, path):
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not _local(r.url) else None)
    page.goto(app_url + path)
    wait_for_app(page)
    page.wait_for_timeout(500)
    assert outside == [], f"requests beyond this machine: {outside}"


def _local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "data:",
                           "blob:", "about:"))
