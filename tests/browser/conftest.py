"""Real-browser fixtures: a `streamlit run` server on a free loopback port and Playwright driving
Debian's Chromium (never a downloaded browser).

Screenshots go to ``test-artifacts/screenshots/`` (or ``$NTM_ARTIFACTS``); the folder is printed
at the end of the run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ntm.devtools.local_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_server,
    stop_server,
    wait_healthy,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("NTM_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"


@pytest.fixture(scope="session")
def app_url():
    port = free_port()
    proc = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until the Streamlit script run has finished and the page has settled."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout)
    page.wait_for_selector('[data-testid="stMain"] h1, [data-testid="stMain"] [data-testid="stPlotlyChart"]',
                           timeout=timeout)
    deadline = time.monotonic() + timeout / 1000
    quiet = 0
    while time.monotonic() < deadline and quiet < 3:
        running = page.locator('[data-testid="stStatusWidget"]').count()
        quiet = quiet + 1 if running == 0 else 0
        page.wait_for_timeout(200)


def pytest_terminal_summary(terminalreporter):
    if ARTIFACTS.exists() and any(ARTIFACTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {ARTIFACTS}")
