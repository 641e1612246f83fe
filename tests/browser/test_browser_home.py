"""The landing page in a real browser."""

import pytest

from .conftest import wait_for_app

pytestmark = pytest.mark.browser


def test_home_loads_without_exception(page, app_url, artifacts):
    page.goto(app_url)
    wait_for_app(page)
    assert page.get_by_role("heading", name="NTM Explorer").first.is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
    # the four equations rendered (waited for: KaTeX may draw after the run has ended)
    page.wait_for_function("() => document.querySelectorAll('.katex').length >= 4", timeout=30_000)
    page.screenshot(path=artifacts / "home.png", full_page=True)
