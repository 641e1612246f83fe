"""The addressing panel (a components-v2 component) mounted in a tiny Streamlit app, driven in
Chromium with the internet cut off: holding an arrow key or dragging with the mouse redraws the
stage panels on every move without a single websocket message to the server, and the release
sends exactly one. Also: typed values, Apply again, labels, focus and text alternatives."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ntm.devtools.local_server import free_port, stop_server, wait_healthy

from .figure_pixels import RECORD_FRAMES_JS, check_canvas_is_plotly, wait_until_synced
from .offline import block_internet, is_loopback

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).resolve().parent / "apps" / "addressing_panel_app.py"
SCREENSHOT = Path(os.environ.get("NTM_PANEL_SCREENSHOT", "/tmp/addressing_panel.png"))
STAGES = ("previous", "content", "gated", "shifted", "sharpened")
ALT_TEXT = re.compile(r"^(w\(t−1\)|wᶜ|wᵍ|w̃|w): max row \d+, [01]\.\d\d")

#: Counts the distinct weightings the stage figure shows, frame by frame: the z on screen (the
#: figure's ``ntmShown``, whose pixels tests/browser/figure_pixels.py checks against Plotly.js's),
#: read at every "ntm-frame" event (installed in the page; the panel lives in a shadow root, so
#: the stage's element is handed in).
RECORD_JS = """alt => {
    const figure = alt.getRootNode().querySelector(".plotly-figure");
    const trace = ["previous", "content", "gated", "shifted", "sharpened"].indexOf(alt.dataset.stage);
    const now = () => JSON.stringify(figure.ntmShown.map(row => row[trace]));
    const seen = new Set([now()]);
    window.__panelChanges = 0;
    figure.addEventListener("ntm-frame", () => {
        if (!seen.has(now())) { seen.add(now()); window.__panelChanges++; }
    });
}"""

#: A stage's column of the z on screen (rows top to bottom).
FIGURE_Z_JS = """alt => {
    const figure = alt.getRootNode().querySelector(".plotly-figure");
    const trace = ["previous", "content", "gated", "shifted", "sharpened"].indexOf(alt.dataset.stage);
    return figure.ntmShown.map(row => row[trace]);
}"""


@pytest.fixture(scope="module")
def panel_url():
    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        stop_server(proc)


class Session:
    """One browser tab on the test app, offline, counting the websocket frames it sends."""

    def __init__(self, page, url: str, query: str = "N=16"):
        self.page = page
        self.aborted = block_internet(page)
        self.sent: list = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda frame: self.sent.append(frame)))
        page.goto(f"{url}/?{query}")
        page.wait_for_selector(".ntm-ap-root[data-plotted]", timeout=60_000)
        self.wait_state(lambda s: s["runs"] >= 1)
        self.settle()

    def state(self) -> dict:
        text = self.page.locator('[data-testid="stCode"] code').inner_text()
        return json.loads(text)

    def wait_state(self, ok, timeout: float = 30_000) -> dict:
        deadline = self.page.evaluate("() => performance.now()") + timeout
        while True:
            try:
                state = self.state()
                if ok(state):
                    return state
            except (ValueError, KeyError):
                pass
            if self.page.evaluate("() => performance.now()") > deadline:
                raise AssertionError(f"app state never matched; last: {self.page.content()[:300]}")
            self.page.wait_for_timeout(100)

    def settle(self, quiet_ms: int = 800) -> None:
        """Wait until no frame has been sent for ``quiet_ms``."""
        while True:
            before = len(self.sent)
            self.page.wait_for_timeout(quiet_ms)
            if len(self.sent) == before:
                return

    def stage(self, stage: str):
        """A stage's element: its text alternative and its place in the figure."""
        return self.page.locator(f"div.heatmap[data-stage={stage}]")

    def weights(self, stage: str) -> list[float]:
        return self.stage(stage).evaluate("alt => Array.from(alt.ntmWeights)")

    def figure_z(self, stage: str) -> list[float]:
        return self.stage(stage).evaluate(FIGURE_Z_JS)

    def record(self, stage: str) -> None:
        self.stage(stage).evaluate(RECORD_JS)

    def changes(self) -> int:
        return self.page.evaluate("() => window.__panelChanges")

    def control(self, name: str):
        return self.page.locator(f"input[data-control={name}]")

    def offline_ok(self) -> None:
        assert all(not is_loopback(u) for u in self.aborted)  # only the outside was cut off


@pytest.fixture
def session(page, panel_url):
    return Session(page, panel_url)


def test_holding_an_arrow_key_redraws_live_and_reports_once(session):
    s = session
    before = s.weights("content")
    s.record("content")
    s.control("beta").focus()
    sent = len(s.sent)
    for _ in range(30):  # a held key: keydown, then auto-repeats
        s.page.keyboard.down("ArrowRight")
        s.page.wait_for_timeout(30)
    live = s.changes()
    assert live >= 10, f"the content figure changed only {live} times while the key was held"
    assert len(s.sent) == sent, "a websocket message was sent while the key was held"
    assert s.state()["releases"] == 0
    beta = float(s.control("beta-number").input_value())
    assert beta > 10 and s.weights("content") != before
    assert s.figure_z("content") == s.weights("content")  # the figure shows the exact weights

    s.page.keyboard.up("ArrowRight")
    state = s.wait_state(lambda st: st["releases"] == 1)
    assert state["controls"]["beta"] == beta
    s.settle()
    assert len(s.sent) == sent + 1, "the release must send exactly one message"
    print(f"\nheld key: {live} redraws, 0 messages; release: 1 message (β = {beta}); "
          f"aborted requests: {s.aborted}")
    # The rerun echoes the released value back: the panel keeps it (no snap back).
    assert float(s.control("beta-number").input_value()) == beta
    s.offline_ok()


def test_dragging_a_slider_with_the_mouse_redraws_live_and_reports_once(session):
    s = session
    s.record("sharpened")
    box = s.control("gamma").bounding_box()
    y = box["y"] + box["height"] / 2
    sent = len(s.sent)
    s.page.mouse.move(box["x"] + 8, y)
    s.page.mouse.down()
    for i in range(1, 31):
        s.page.mouse.move(box["x"] + 8 + i * (box["width"] - 16) / 30, y)
        s.page.wait_for_timeout(25)
    live = s.changes()
    assert live >= 10, f"the w figure changed only {live} times during the drag"
    assert len(s.sent) == sent, "a websocket message was sent during the drag"
    s.page.mouse.up()
    state = s.wait_state(lambda st: st["releases"] == 1)
    assert state["controls"]["gamma"] == pytest.approx(50.0)
    s.settle()
    assert len(s.sent) == sent + 1
    print(f"\nmouse drag: {live} redraws, 0 messages; release: 1 message")
    s.offline_ok()


def test_typing_apply_again_and_restart_each_report_once(session):
    s = session
    sent = len(s.sent)
    field = s.control("beta-number")
    field.fill("42")  # live while typing: the panel follows before Enter
    assert s.stage("content").get_attribute("aria-label").startswith("wᶜ: max row")
    field.press("Enter")
    state = s.wait_state(lambda st: st["releases"] == 1)
    assert state["controls"]["beta"] == 42.0
    s.settle()
    assert len(s.sent) == sent + 1

    previous, result = s.weights("previous"), s.weights("sharpened")
    s.page.locator("button[data-control=apply]").click()
    state = s.wait_state(lambda st: st["releases"] == 2)
    assert state["controls"]["steps"] == 1
    assert s.weights("previous") == result  # w(t−1) is now the last step's w, exactly
    s.page.locator("button[data-control=restart]").click()
    state = s.wait_state(lambda st: st["releases"] == 3)
    assert state["controls"]["steps"] == 0
    assert s.weights("previous") == previous
    s.settle()
    assert len(s.sent) == sent + 3
    s.offline_ok()


def test_labels_focus_and_text_alternatives(session):
    s = session
    unlabelled = s.page.locator(".ntm-addressing-panel").evaluate(
        """host => Array.from(host.querySelectorAll("input, button"))
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                          && !(el.tagName === "BUTTON" && el.textContent.trim()))
            .map(el => el.outerHTML)"""
    )
    assert unlabelled == []
    for stage in STAGES:
        label = s.stage(stage).get_attribute("aria-label")
        assert ALT_TEXT.match(label), label
    assert s.stage("sharpened").get_attribute("aria-label").startswith("w: max row ")

    # Keyboard: Tab moves to the number field, the focus ring shows, arrows change the value.
    s.control("gamma").focus()
    s.page.keyboard.press("Tab")
    focused = s.page.evaluate(
        """() => { let el = document.activeElement;
                   while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
                   const cs = getComputedStyle(el);
                   return [el.dataset.control, cs.outlineStyle, parseFloat(cs.outlineWidth)]; }"""
    )
    assert focused[0] == "gamma-number" and focused[1] == "solid" and focused[2] >= 2
    s.page.keyboard.press("ArrowUp")
    s.page.keyboard.press("Enter")
    state = s.wait_state(lambda st: st["releases"] == 1)
    assert state["controls"]["gamma"] == 3.0
    assert "γ = 3" in s.page.locator("section[data-stage=sharpened] p.live").inner_text()
    s.offline_ok()


def test_hover_shows_the_exact_value(session):
    """Hovering a cell of the figure names the row and the stage and gives its value to six
    significant digits, as Plotly's hover label (in the panel's shadow root)."""
    s = session
    w = s.weights("sharpened")
    row = max(range(len(w)), key=w.__getitem__)
    box = s.stage("sharpened").bounding_box()
    cell = (box["height"] - 8) / len(w)
    sent = len(s.sent)
    s.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 4 + (row + 0.5) * cell)
    label = s.page.locator(".ntm-ap-root .hoverlayer .hovertext")
    label.wait_for(timeout=10_000)
    text = label.text_content()  # "row 5w = 0.882391": the label's two lines
    match = re.fullmatch(r"row (\d+)w = ([0-9.e-]+)", text)
    assert match and int(match[1]) == row, text
    assert float(match[2]) == pytest.approx(w[row], rel=1e-5) and len(match[2]) >= 7, text
    s.settle()
    assert len(s.sent) == sent  # hovering sends nothing

    # γ moved from the keyboard: once it rests, a hover reads the new value, exactly.
    s.control("gamma").focus()
    for _ in range(4):
        s.page.keyboard.press("ArrowRight")
    wait_until_synced(s.page, s.page.locator(".ntm-ap-root").first)
    w = s.weights("sharpened")
    s.page.mouse.move(1, 1)
    s.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 4 + (row + 0.5) * cell)
    label.wait_for(timeout=10_000)
    text = label.text_content()
    match = re.fullmatch(r"row (\d+)w = ([0-9.e-]+)", text)
    assert match and int(match[1]) == row and float(match[2]) == pytest.approx(w[row], rel=1e-5), text


#: Each outline's box on screen (the argmax rectangles in stage order, then any guesses), and
#: whether they lie between Plotly.js's plot and its hover labels.
OUTLINES_JS = """root => {
    const svg = root.querySelector(".stage-outlines");
    const box = r => { const b = r.getBoundingClientRect();
        return {x: b.x, y: b.y, width: b.width, height: b.height, shown: r.getAttribute("visibility") !== "hidden"}; };
    const layers = [...svg.parentNode.children];
    const at = sel => layers.findIndex(c => c.querySelector(sel) !== null);
    const me = layers.indexOf(svg);
    return {argmax: [...svg.querySelectorAll("rect.argmax-outline")].map(box),
            underHover: me < at(".hoverlayer"), overPlot: at(".heatmaplayer") >= 0 && at(".heatmaplayer") < me,
            // the grid and the values in the cells too: nothing covers a hover label
            othersUnderHover: [".figure-overlay", ".cell-values"].map(
                sel => layers.indexOf(root.querySelector(sel))).every(i => i > me && i < at(".hoverlayer"))};
}"""


def test_outlines_mark_each_stages_largest_weight(session):
    """Each stage's outline lies round its largest weight's cell, inside the stage's column, over
    the heatmap and under the hover labels (as are the grid and the values in the cells); it
    follows when a control moves."""
    s = session
    for move in range(2):
        outlines = s.page.locator(".ntm-ap-root").first.evaluate(OUTLINES_JS)
        assert outlines["underHover"] and outlines["overPlot"], outlines
        assert outlines["othersUnderHover"], outlines
        assert len(outlines["argmax"]) == len(STAGES)
        for stage, rect in zip(STAGES, outlines["argmax"], strict=True):
            w = s.weights(stage)
            row = max(range(len(w)), key=w.__getitem__)
            box = s.stage(stage).bounding_box()
            cell = (box["height"] - 8) / len(w)
            centre_y = box["y"] + 4 + (row + 0.5) * cell
            assert rect["shown"], stage
            assert abs(rect["y"] + rect["height"] / 2 - centre_y) < cell / 4, (stage, row, rect)
            assert rect["height"] <= cell + 3 and rect["x"] >= box["x"] - 3
            assert rect["x"] + rect["width"] <= box["x"] + box["width"] + 3, (stage, rect, box)
        if move == 0:  # one step on: the previous focus is the last result, the outlines move
            s.page.locator("button[data-control=apply]").click()
            s.settle()


def test_moving_frames_are_painted_in_plotlys_colours(session):
    """While a control moves, each frame is painted on the canvas over the figure, before
    Plotly.js's figure holds it; once the controls rest the figure takes the last frame and the
    canvas goes. What it painted was Plotly.js's own: byte for byte against Plotly.js's image for
    the same z, and pixel for pixel on screen."""
    s = session
    root = s.page.locator(".ntm-ap-root").first
    root.evaluate(RECORD_FRAMES_JS)
    s.control("gamma").focus()
    for _ in range(12):  # a held key
        s.page.keyboard.down("ArrowRight")
        s.page.wait_for_timeout(30)
    s.page.keyboard.up("ArrowRight")
    frames = s.page.evaluate("() => window.__frames")
    assert len(frames) >= 10 and all(f["canvas"] for f in frames), frames
    assert any(not f["figureHolds"] for f in frames), "every frame went through Plotly.restyle"
    check_canvas_is_plotly(s.page, root, s.page.locator(".ntm-ap-root .stage-figure").first)
    for stage in STAGES:  # and the figure's data are the exact weights
        assert root.evaluate(
            "(root, c) => root.querySelector('.plotly-figure').data[0].z.map(row => row[c])",
            STAGES.index(stage)) == s.weights(stage)
    s.offline_ok()


def test_large_memory_and_screenshot(page, panel_url):
    s = Session(page, panel_url, "N=128&M=20&seed=3")
    for stage in STAGES:
        w = s.weights(stage)
        assert len(w) == 128 and abs(sum(w) - 1) < 1e-9
        assert s.figure_z(stage) == w
        assert ALT_TEXT.match(s.stage(stage).get_attribute("aria-label"))
    s.control("beta").focus()  # N = 128 rows painted in Plotly.js's colours too
    for _ in range(3):
        s.page.keyboard.press("ArrowLeft")
    check_canvas_is_plotly(page, page.locator(".ntm-ap-root").first,
                           page.locator(".ntm-ap-root .stage-figure").first)
    s.offline_ok()

    s2 = Session(page, panel_url, "N=16&labels=1")
    s2.page.set_viewport_size({"width": 1600, "height": 1250})
    s2.page.wait_for_timeout(300)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    s2.page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert "(item 5)" in s2.stage("content").get_attribute("aria-label")


def test_a_narrow_column_keeps_the_five_stages_side_by_side(page, panel_url):
    """On a narrow main column (a 1024-px screen with the sidebar open leaves about 560 px) the
    five stage cards narrow instead of scrolling sideways: every stage's column is on screen,
    and the figure still puts each stage over its own card."""
    page.set_viewport_size({"width": 700, "height": 900})
    s = Session(page, panel_url)
    grid = s.page.locator(".ntm-ap-root .stages").first.evaluate(
        "g => ({client: g.clientWidth, scroll: g.scrollWidth, right: g.getBoundingClientRect().right})")
    assert grid["client"] < 700 and grid["scroll"] <= grid["client"], grid
    for stage in STAGES:
        box = s.stage(stage).bounding_box()
        assert box["width"] >= 80 and box["x"] + box["width"] <= grid["right"] + 1, (stage, box)
    outlines = s.page.locator(".ntm-ap-root").first.evaluate(OUTLINES_JS)
    for stage, rect in zip(STAGES, outlines["argmax"], strict=True):
        box = s.stage(stage).bounding_box()
        assert box["x"] - 3 <= rect["x"] and rect["x"] + rect["width"] <= box["x"] + box["width"] + 3
    s.offline_ok()
