"""Fair training slots in a real browser (issue 12, item 3): the tabs of one browser share its
Streamlit cookie and so its one run; another browser (its own cookies) is another client."""

import pytest

from .conftest import stop_training, wait_for_app

pytestmark = pytest.mark.browser


def no_exception(page):
    assert page.locator('[data-testid="stException"]').count() == 0


def open_train(page, app_url):
    page.goto(f"{app_url}/train")
    wait_for_app(page)
    no_exception(page)


def start_and_wait(page):
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("text=/Sequences seen|Queued/", timeout=30_000)


def test_one_run_per_browser_across_its_tabs(page, browser, console, app_url, artifacts):
    open_train(page, app_url)
    start_and_wait(page)

    tab = page.context.new_page()  # a second tab of the same browser: the same cookies
    open_train(tab, app_url)
    tab.get_by_role("button", name="Start").click()
    tab.wait_for_selector("text=another tab or window of this browser", timeout=30_000)
    no_exception(tab)
    tab.screenshot(path=artifacts / "train_second_tab_refused.png", full_page=True)

    other = browser.new_context(viewport={"width": 1600, "height": 1000})  # another browser
    console.watch(other)
    try:
        elsewhere = other.new_page()
        open_train(elsewhere, app_url)
        start_and_wait(elsewhere)
        no_exception(elsewhere)
        stop_training(elsewhere)
    finally:
        other.close()
    stop_training(page)
    no_exception(page)
