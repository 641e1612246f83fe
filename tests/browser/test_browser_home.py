"""The landing page in a real browser."""

import pytest

from .conftest import wait_for_app

pytestmark = pytest.mark.browser


def test_home_loads_without_exception(page, app_url, artifacts):
    page.goto(app_url)
    wait_for_app(page)
    assert page.get_by_role("heading", name="NTM Explorer").first.is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(".katex").count() >= 4  # the four equations rendered
    page.screenshot(path=artifacts / "home.png", full_page=True)
