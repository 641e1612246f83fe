"""Every page in a real browser: it loads with no exception box and its key figures are drawn.
Screenshots of each go to the artifacts folder."""

import re

import pytest

from ntm import catalogue

from .conftest import stop_training, wait_for_app

pytestmark = pytest.mark.browser


def figures(page):
    return page.locator('[data-testid="stPlotlyChart"] .main-svg')


def no_exception(page):
    assert page.locator('[data-testid="stException"]').count() == 0


def beta(page) -> str:
    """The write head's key strength as the trace player shows it."""
    return page.locator(".ntm-tp .heads-write .metric-value").first.inner_text()


def heading(page) -> str:
    return page.locator("h4", has_text=re.compile(r"^t = \d+ of \d+")).first.inner_text()


def wait_for_player(page, timeout: float = 90_000) -> None:
    """The trace player has drawn every figure."""
    page.wait_for_selector(".ntm-tp[data-ready=true]", timeout=timeout)


def test_stepper_steps_forward(page, app_url, artifacts):
    page.goto(f"{app_url}/stepper?seed=3&length=12")
    wait_for_app(page)
    wait_for_player(page)
    no_exception(page)
    assert page.locator(".ntm-tp .main-svg, .ntm-tp svg.svgbars").count() >= 8
    assert heading(page).startswith("t = 0 of 24")
    first_beta = beta(page)
    page.screenshot(path=artifacts / "stepper_start.png", full_page=True)
    for _ in range(3):
        page.get_by_role("button", name="Next", exact=True).click()
    assert heading(page).startswith("t = 3 of 24")  # at once: no server round trip
    assert beta(page) != first_beta
    page.wait_for_url(re.compile(r"[?&]t=3(&|$)"), timeout=30_000)  # once the cursor stops
    no_exception(page)
    page.screenshot(path=artifacts / "stepper_step3.png", full_page=True)


def test_stepper_long_sequence_from_the_url(page, app_url, artifacts):
    page.goto(f"{app_url}/stepper?length=120&t=150")
    wait_for_app(page)
    wait_for_player(page)
    no_exception(page)
    assert heading(page).startswith("t = 150 of 240")
    page.screenshot(path=artifacts / "stepper_L120.png", full_page=True)


def test_generalisation_page(page, app_url, artifacts):
    page.goto(f"{app_url}/generalisation")
    wait_for_app(page, timeout=120_000)
    no_exception(page)
    # Streamlit draws its charts after the run has ended (Plotly's chunk loads lazily): wait for
    # them rather than counting at once (a loaded machine drew 3 of them by then).
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg').length >= n",
        arg=10, timeout=60_000)
    assert figures(page).count() >= 10
    # ten drawn charts can be any ten of the page's charts: wait for the longest length's own title
    page.get_by_text("length 120 (beyond training)").first.wait_for(timeout=60_000)
    # the seeds' min-max bands (assets/models/*.seeds.json): one filled area per shipped file
    shipped = len(catalogue.load_seeds(catalogue.COPY_SEEDS)[0])
    assert shipped >= 1, "ship the seeds files the page draws"
    page.get_by_text("Across seeds: was it a lucky seed?").scroll_into_view_if_needed()
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] path.js-fill').length >= n",
        arg=shipped, timeout=60_000)
    page.screenshot(path=artifacts / "generalisation.png", full_page=True)


def test_train_page_trains(page, app_url, artifacts):
    page.goto(f"{app_url}/train")
    wait_for_app(page)
    no_exception(page)
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("text=Sequences seen", timeout=30_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some("
        "e => /^[0-9,]+$/.test(e.innerText) && parseInt(e.innerText.replace(/,/g, '')) > 0)",
        timeout=60_000)
    no_exception(page)
    page.screenshot(path=artifacts / "train_running.png", full_page=True)
    stop_training(page)
