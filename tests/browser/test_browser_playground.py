"""The Addressing playground in a real browser: it draws every figure without a console warning,
a slider moved with the keyboard changes the stage figures and the URL, and that URL opened in a
fresh browser context (no cookies, no session) restores the same state. Screenshots go to the
artifacts folder."""

from __future__ import annotations

import math

import pytest

from .conftest import wait_for_app

pytestmark = pytest.mark.browser

#: Tall enough for the whole page: Streamlit scrolls inside its own container, so a full-page
#: screenshot only holds what the viewport shows.
VIEWPORT = {"width": 1600, "height": 3400}
FIGURES = ("memory", "kernel", "previous", "content", "gated", "shifted", "sharpened", "read",
           "write")
STAGES = ("previous", "content", "gated", "shifted", "sharpened")

#: A stage's weighting as the browser holds it: Plotly's decoded heatmap column, or null while
#: the chart is not drawn yet.
STAGE_JS = """name => {
    const plot = document.querySelector(`.st-key-pg_fig_${name} .js-plotly-plot`);
    if (!plot || !plot._fullData || !plot._fullData.length || !plot._fullData[0].z) return null;
    return Array.from(plot._fullData[0].z, row => row[0]);
}"""
#: Number of traces of every figure (0 where a chart has no data yet).
TRACES_JS = """names => names.map(name => {
    const plot = document.querySelector(`.st-key-pg_fig_${name} .js-plotly-plot`);
    return plot && plot._fullData ? plot._fullData.length : 0;
})"""


def stage(page, name: str) -> list[float]:
    page.wait_for_function(f"() => ({STAGE_JS})({name!r}) !== null", timeout=60_000)
    return page.evaluate(STAGE_JS, name)


def slider_text(page, key: str) -> str:
    """The value a slider shows (its thumb's ``aria-valuetext``)."""
    return page.locator(f".st-key-{key} input[type=range]").get_attribute("aria-valuetext")


def open_playground(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.wait_for_function(f"() => ({TRACES_JS})({list(FIGURES)!r}).every(n => n > 0)",
                           timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0


def assert_distribution(w: list[float]) -> None:
    assert len(w) == 16  # the default N
    assert all(math.isfinite(v) and v >= 0 for v in w)
    assert sum(w) == pytest.approx(1.0, abs=1e-5)


def test_playground_slider_url_and_fresh_context(page, browser, console, app_url, artifacts):
    page.set_viewport_size(VIEWPORT)
    open_playground(page, f"{app_url}/playground?seed=7")
    # Every figure drawn and no console complaint: no trace handed Plotly numbers for colours.
    assert not console.problems, console.report()
    assert page.get_by_role("heading", name="Addressing playground").first.is_visible()
    assert page.locator('[data-testid="stAlert"]').count() == 0  # a clean link: no notice
    before = {name: stage(page, name) for name in STAGES}
    for w in before.values():
        assert_distribution(w)
    assert slider_text(page, "gamma") == "2"
    page.screenshot(path=artifacts / "playground.png", full_page=True)

    # Move γ one notch with the keyboard, as a student tabbing through the controls would.
    page.locator(".st-key-gamma input[type=range]").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"""before => location.search.includes('gamma=2.5')
            && JSON.stringify(({STAGE_JS})('sharpened')) !== JSON.stringify(before)""",
        arg=before["sharpened"], timeout=60_000)
    wait_for_app(page)
    assert slider_text(page, "gamma") == "2.5"
    assert "seed=7" in page.url and "gamma=2.5" in page.url
    after = {name: stage(page, name) for name in STAGES}
    assert after["sharpened"] != before["sharpened"]
    assert_distribution(after["sharpened"])
    for name in ("previous", "content", "gated", "shifted"):  # γ acts on the last stage only
        assert after[name] == pytest.approx(before[name], rel=1e-6, abs=1e-12)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=artifacts / "playground_gamma.png", full_page=True)

    # The link alone reproduces the state: a new context shares nothing with this one.
    link = page.url
    fresh = browser.new_context(viewport=VIEWPORT)
    console.watch(fresh)
    try:
        other = fresh.new_page()
        open_playground(other, link)
        assert slider_text(other, "gamma") == "2.5"
        assert other.locator(".st-key-seed input").input_value() == "7"
        for name in STAGES:
            assert stage(other, name) == pytest.approx(after[name], rel=1e-6, abs=1e-12), name
        assert other.locator('[data-testid="stAlert"]').count() == 0
        other.screenshot(path=artifacts / "playground_restored.png", full_page=True)
    finally:
        fresh.close()


# Strange links in a real browser: the pages that bind widgets to the URL fix the link before
# Streamlit reads it (``seed=inf`` used to raise inside Streamlit), then say what they ignored.
STRANGE_LINKS = [
    ("/playground?beta=abc&gamma=inf&N=1e308&g=0.5&g=0.7",
     ["`beta=abc`", "`gamma=inf`", "`N=1e308`", "`g` is given 2 times"],
     ["N=128", "g=0.7"], ["beta=abc", "gamma=inf"]),
    ("/stepper?seed=inf&length=abc&t=-1&model=nope",
     ["`seed=inf`", "`length=abc`", "`t=-1`", "`model=nope`"],
     [], ["seed=", "length=", "t=-1", "model="]),
    ("/generalisation?gseed=-inf",
     ["`gseed=-inf`"], [], ["gseed="]),
]


@pytest.mark.parametrize(("path", "notices", "kept", "dropped"), STRANGE_LINKS,
                         ids=["playground", "stepper", "generalisation"])
def test_strange_links_give_a_notice_and_a_working_page(page, app_url, artifacts, path, notices,
                                                        kept, dropped):
    page.goto(app_url + path)
    wait_for_app(page, timeout=120_000)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=120_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    shown = "\n".join(page.locator('[data-testid="stAlert"]').all_inner_texts())
    for notice in notices:
        assert notice.replace("`", "") in shown, (notice, shown)  # drawn as code, no backticks
    for part in kept:
        assert part in page.url, page.url
    for part in dropped:
        assert part not in page.url, page.url
    name = path.split("?")[0].strip("/")
    page.screenshot(path=artifacts / f"strange_link_{name}.png", full_page=True)
