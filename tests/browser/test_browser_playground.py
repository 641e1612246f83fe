"""The Addressing playground in a real browser, offline: it draws every figure without a console
warning; holding an arrow key on a stage control of the in-browser addressing panel restyles the
stage figure (and the read and write figures below it) on every move with no message to the
server, and the release sends one, after which the URL holds the new value; that URL opened in
a fresh browser context (no cookies, no session) restores the same numbers. Screenshots go to
the artifacts folder."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ntm import playground as pg

from .conftest import wait_for_app
from .offline import block_internet, is_loopback

pytestmark = pytest.mark.browser

#: Tall enough for the whole page: Streamlit scrolls inside its own container, so a full-page
#: screenshot only holds what the viewport shows.
VIEWPORT = {"width": 1600, "height": 3400}
STAGES = ("previous", "content", "gated", "shifted", "sharpened")

#: The z the stage figure shows: column c of its one heatmap is stage c (the panel is in a
#: shadow root, so its element is handed in). While a control moves the panel paints it over
#: the figure, in Plotly.js's own colours (tests/browser/figure_pixels.py), and Plotly.js's
#: figure takes it once the control rests.
FIGURE_JS = """root => {
    const figure = root.querySelector(".plotly-figure");
    return figure && figure.ntmShown ? figure.ntmShown : null;
}"""
#: Counts the distinct figure states while a key is held, at every frame shown.
RECORD_JS = """root => {
    const figure = root.querySelector(".plotly-figure");
    const seen = new Set([JSON.stringify(figure.ntmShown)]);
    window.__figureChanges = 0;
    figure.addEventListener("ntm-frame", () => {
        const now = JSON.stringify(figure.ntmShown);
        if (!seen.has(now)) { seen.add(now); window.__figureChanges++; }
    });
}"""


class Playground:
    """One tab on the playground, offline, counting the websocket frames it sends."""

    def __init__(self, page, url: str):
        self.page = page
        self.aborted = block_internet(page)
        self.sent: list = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda frame: self.sent.append(frame)))
        page.goto(url)
        wait_for_app(page)
        page.wait_for_selector(".ntm-ap-root[data-plotted]", timeout=60_000)
        live = page.locator(".ntm-live-figure[data-frame]")  # memory, read and write figures
        for _ in range(300):
            if live.count() == 3:
                break
            page.wait_for_timeout(200)
        assert live.count() == 3, "the memory, read and write figures were not drawn"
        self.settle()
        assert page.locator('[data-testid="stException"]').count() == 0

    def settle(self, quiet_ms: int = 1000) -> None:
        while True:
            before = len(self.sent)
            self.page.wait_for_timeout(quiet_ms)
            if len(self.sent) == before:
                return

    @property
    def root(self):
        return self.page.locator(".ntm-ap-root")

    def weights(self, stage: str) -> list[float]:
        return self.page.locator(f"div.heatmap[data-stage={stage}]").evaluate(
            "alt => Array.from(alt.ntmWeights)")

    def figure(self) -> dict[str, list[float]]:
        """The stage figure's data, by stage."""
        z = self.root.evaluate(FIGURE_JS)
        return {name: [row[c] for row in z] for c, name in enumerate(STAGES)}

    def live(self, kind: str) -> list[float] | None:
        """The w the read or write figure shows (the server's, or the live one)."""
        return self.page.locator(f".ntm-live-figure[data-kind={kind}]").evaluate(
            "host => host.ntmWeighting ? Array.from(host.ntmWeighting) : null")

    def control(self, name: str):
        return self.page.locator(f"input[data-control={name}]")


def assert_distribution(w: list[float]) -> None:
    assert len(w) == 16  # the default N
    assert all(math.isfinite(v) and v >= 0 for v in w)
    assert sum(w) == pytest.approx(1.0, abs=1e-9)


def test_playground_drag_url_and_fresh_context(page, browser, console, app_url, artifacts):
    page.set_viewport_size(VIEWPORT)
    s = Playground(page, f"{app_url}/playground?seed=7")
    # Every figure drawn and no console complaint: no trace handed Plotly numbers for colours.
    assert not console.problems, console.report()
    assert page.get_by_role("heading", name="Addressing playground").first.is_visible()
    assert page.locator('[data-testid="stAlert"]').count() == 0  # a clean link: no notice
    expected = pg.compute(pg.Settings().updated(seed=7))
    before = {name: s.weights(name) for name in STAGES}
    assert s.figure() == before  # the figure shows exactly the panel's numbers
    for name, w in before.items():
        assert_distribution(w)
        np.testing.assert_allclose(w, expected.stages[name], rtol=1e-4, atol=1e-6)
    label = page.locator("div.heatmap[data-stage=sharpened]").get_attribute("aria-label")
    assert label == f"w: max row {int(np.argmax(expected.sharpened))}, " \
                    f"{expected.sharpened.max():.2f}"
    page.screenshot(path=artifacts / "playground.png", full_page=True)

    # Hold → on γ, as a student would: the figure and the read/write figures follow every move,
    # and nothing reaches the server until the key is released.
    s.root.evaluate(RECORD_JS)
    s.control("gamma").focus()
    sent = len(s.sent)
    for _ in range(20):
        page.keyboard.down("ArrowRight")
        page.wait_for_timeout(40)
    changes = page.evaluate("() => window.__figureChanges")
    assert changes >= 10, f"the stage figure changed only {changes} times while the key was held"
    assert len(s.sent) == sent, "a websocket message was sent while the key was held"
    gamma = s.control("gamma-number").input_value()
    held = s.figure()
    assert held["sharpened"] != before["sharpened"]
    for name in ("previous", "content", "gated", "shifted"):  # γ acts on the last stage only
        assert held[name] == before[name]
    page.wait_for_timeout(200)  # the read and write figures follow on the next frame
    for kind in ("read", "write"):
        assert s.live(kind) == held["sharpened"]
    assert "gamma=" not in page.url  # the link waits for the release

    page.keyboard.up("ArrowRight")
    page.wait_for_function("g => location.search.includes('gamma=' + g)", arg=gamma,
                           timeout=60_000)
    s.settle()
    assert len(s.sent) == sent + 1, "the release must send exactly one message"
    assert "seed=7" in page.url
    after = s.figure()
    assert after == held  # the rerun echoes the released value: nothing snaps back
    assert_distribution(after["sharpened"])
    assert page.locator('[data-testid="stException"]').count() == 0
    assert all(not is_loopback(u) for u in s.aborted)  # only the outside was cut off
    page.screenshot(path=artifacts / "playground_gamma.png", full_page=True)

    # The link alone reproduces the state: a new context shares nothing with this one.
    link = page.url
    fresh = browser.new_context(viewport=VIEWPORT)
    console.watch(fresh)
    try:
        other = Playground(fresh.new_page(), link)
        assert other.control("gamma-number").input_value() == gamma
        assert other.figure() == after  # the same numbers, exactly
        for kind in ("read", "write"):  # the server's float32 figure, the same on screen
            assert other.live(kind) == pytest.approx(after["sharpened"], abs=1e-6)
        assert other.page.locator('[data-testid="stAlert"]').count() == 0
        other.page.screenshot(path=artifacts / "playground_restored.png", full_page=True)
    finally:
        fresh.close()

    # Reset on the server wins over the panel's released value (the server's controls are the
    # defaults again, the same it sent before the release).
    page.get_by_role("button", name="Reset", exact=True).click()
    page.wait_for_function("() => !location.search.includes('gamma=')", timeout=60_000)
    s.settle()
    assert s.control("gamma-number").input_value() == "2"
    assert s.figure()["sharpened"] == pytest.approx(
        pg.compute(pg.Settings()).sharpened.tolist(), abs=1e-5)


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
    page.wait_for_selector(".main-svg", timeout=120_000)  # a figure drawn, chart or component
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
