"""The browser console watch that fails browser tests on console errors and warnings
(``tests/browser/conftest.py``): what it lets through, and that it catches Plotly's warnings."""

from __future__ import annotations

import pytest

from .conftest import ConsoleWatch, harmless

NOT_FOUND = "Failed to load resource: the server responded with a status of 404 (Not Found)"
PLOTLY_WARNING = 'WARN: Invalid color specifier: number 0.5760066509246826. Defaulting to "#000"'


@pytest.mark.parametrize(("text", "url", "allowed"), [
    (NOT_FOUND, "http://127.0.0.1:8501/stepper/_stcore/health", True),
    (NOT_FOUND, "http://127.0.0.1:8501/playground/_stcore/host-config", True),
    ("Failed to load resource: net::ERR_NAME_NOT_RESOLVED",
     "https://fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/memory/default/24px.svg",
     False),  # the app fetches nothing from the web: a failed fetch is a problem
    (NOT_FOUND, "http://127.0.0.1:8501/_stcore/health", False),  # the root probe must answer
    (NOT_FOUND, "http://127.0.0.1:8501/stepper/_stcore/stream", False),
    ("Failed to load resource: net::ERR_CONNECTION_REFUSED",
     "http://127.0.0.1:8501/static/js/index.js", False),  # the app's own files must load
    (PLOTLY_WARNING, "http://127.0.0.1:8501/static/js/PlotlyChart.js", False),
    ("Uncaught TypeError: x is undefined", "", False),
])
def test_only_the_documented_messages_are_harmless(text, url, allowed):
    assert harmless(text, url) is allowed


@pytest.mark.browser
def test_a_plotly_warning_in_the_console_is_caught(browser):
    watch = ConsoleWatch()
    context = browser.new_context()
    try:
        watch.watch(context)
        page = context.new_page()
        page.set_content(f"<script>console.trace({PLOTLY_WARNING!r}); console.log('fine');"
                         "setTimeout(() => { throw new Error('boom'); });</script>")
        page.wait_for_timeout(300)
    finally:
        context.close()
    assert any("console trace: WARN: Invalid color specifier" in p for p in watch.problems)
    assert any("page error" in p and "boom" in p for p in watch.problems)
    assert not any("fine" in p for p in watch.problems)
