"""Real-browser fixtures: a `streamlit run` server on a free loopback port and Playwright driving
Debian's Chromium (never a downloaded browser).

Every test that uses ``page`` also has its browser console watched (:class:`ConsoleWatch`): a
console error or warning -- Plotly's "Invalid color specifier" among them -- or an uncaught page
error fails the test at teardown, unless :data:`HARMLESS` lists it. A test that opens its own
browser context passes it to ``console.watch``.

Screenshots go to ``test-artifacts/screenshots/`` (or ``$NTM_ARTIFACTS``); the folder is printed
at the end of the run.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass, field
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


#: Console message types that mean something went wrong. Plotly.js reports its warnings
#: ("WARN: Invalid color specifier ...") through ``console.trace``, so traces count too.
PROBLEM_TYPES = frozenset({"error", "warning", "trace", "assert"})
#: Console problems that are not the app's, each with the reason. Matched against
#: ``"<message> @ <resource URL>"``.
HARMLESS = {
    # Opened at a page's own path (/stepper), Streamlit's client first asks for its health and
    # host config relative to that path, gets a 404, and then asks at the root.
    "Streamlit probing /<page>/_stcore/ before /_stcore/":
        re.compile(r"^Failed to load resource: .*404.* @ https?://[^/]+/[^_][^?#]*/_stcore/"
                   r"(health|host-config)$"),
}


def harmless(text: str, url: str = "") -> bool:
    """Whether a console problem is one of :data:`HARMLESS`."""
    line = f"{text} @ {url}"
    return any(pattern.search(line) for pattern in HARMLESS.values())


@dataclass
class ConsoleWatch:
    """Collects the browser console's problems and uncaught page errors."""

    problems: list[str] = field(default_factory=list)

    def watch(self, context) -> None:
        """Watch every page of a Playwright browser context, present and future."""
        context.on("console", self._console)
        context.on("weberror", lambda error: self.problems.append(f"page error: {error.error}"))

    def _console(self, message) -> None:
        url = (message.location or {}).get("url", "")
        if message.type in PROBLEM_TYPES and not harmless(message.text, url):
            self.problems.append(f"console {message.type}: {message.text} @ {url}")

    def report(self) -> str:
        counts: dict[str, int] = {}
        for problem in self.problems:
            counts[problem] = counts.get(problem, 0) + 1
        return "\n".join(f"{n} x {p[:300]}" for p, n in counts.items())


@pytest.fixture
def console():
    """The console watch of a test: fails it at teardown if any problem was seen."""
    watch = ConsoleWatch()
    yield watch
    if watch.problems:
        pytest.fail(f"browser console problems (see HARMLESS in {__file__} for the allow-list):"
                    f"\n{watch.report()}", pytrace=False)


@pytest.fixture
def page(browser, console):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    console.watch(context)
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


def stop_training(page, timeout: float = 30_000) -> None:
    """Stop the Train page's run, or see that it has already ended: the default preset can
    converge while a slow machine runs the rest of a test, and then Stop is disabled (or turns
    disabled between the check and the click). Waits until Start is enabled again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    button = page.get_by_role("button", name="Stop")
    if button.is_enabled():
        with contextlib.suppress(PlaywrightTimeout):  # the run ended on its own meanwhile
            button.click(timeout=5_000)
    page.wait_for_selector("text=/Stopped|Converged|Finished/", timeout=timeout)
    expect(page.get_by_role("button", name="Start")).to_be_enabled(timeout=timeout)
