"""The Model stepper's trace player in Chromium, offline: at random steps its figures hold exactly
the trace's numbers (read back from the Plotly graph divs and the SVG bar charts); Next, Back, First, Last, the keys,
the slider and the narration's "go to step" buttons move it without a word to the server; Play
at 8 steps a second draws at least 90% of the steps with every figure in place; where the
cursor stops goes into the URL once, and that link opens there."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from ntm import catalogue
from ntm.app import plotly_js
from ntm.evaluate import task_of
from ntm.figures import episode as episode_figures
from ntm.figures.style import scale_colors
from ntm.stepper import episode

from .conftest import wait_for_app
from .offline import block_internet

pytestmark = pytest.mark.browser

PLAYER = ".ntm-tp"

#: Everything the figures show, read back from the Plotly graph divs.
READ_BACK_JS = """() => {
    const root = document.querySelector(".ntm-tp");
    const arr = (a) => (a === undefined || a === null ? null : Array.from(a, (v) => (v && typeof v === "object" && "length" in v ? Array.from(v) : v)));
    const out = {t: Number(root.dataset.t), heading: root.querySelector("h4").textContent,
                 metrics: [...root.querySelectorAll(".metric-value")].map((e) => e.textContent),
                 bits: root.querySelector(".bits").textContent, figures: {}};
    for (const gd of root.querySelectorAll("[data-figure]")) {
        const svg = gd.querySelector("svg.svgbars");
        if (svg) {  // a bar chart drawn as SVG: the bars' exact values, fills and labels
            const bars = [...svg.querySelectorAll("rect.bar")];
            const labels = [...svg.querySelectorAll("text.label")].map((e) => e.textContent);
            out.figures[gd.dataset.figure] = {
                data: [{y: bars.map((b) => Number(b.dataset.value)), color: bars.map((b) => b.getAttribute("fill")),
                        text: labels.length ? labels : null}],
                shapes: [], yrange: svg.dataset.range.split(",").map(Number)};
            continue;
        }
        out.figures[gd.dataset.figure] = {
            data: gd.data.map((tr) => ({name: tr.name, z: arr(tr.z), y: arr(tr.y), text: arr(tr.text),
                                        zmin: tr.zmin ?? null, zmax: tr.zmax ?? null,
                                        color: Array.isArray(tr.marker?.color) ? tr.marker.color : null})),
            shapes: (gd.layout.shapes || []).map((s) => ({xref: s.xref, x0: s.x0, x1: s.x1, y0: s.y0, y1: s.y1,
                                                          visible: s.visible !== false})),
            yrange: gd.layout.yaxis?.range ?? null,
        };
        const box = gd.parentElement;
        if (box.querySelector(".layer-picture")) {  // drawn in layers: outlines and axes over the plot
            out.figures[gd.dataset.figure].shapes = [...box.querySelectorAll("rect.layer-outline")]
                .filter((r) => r.style.display !== "none")
                .map((r) => ({xref: r.dataset.xref, x0: Number(r.dataset.x0), x1: Number(r.dataset.x1),
                              y0: Number(r.dataset.y0), y1: Number(r.dataset.y1), visible: true}));
            out.figures[gd.dataset.figure].staleImages = box.querySelectorAll(".layer-picture image").length;
            out.figures[gd.dataset.figure].separators = box.querySelectorAll(".layer-picture .shapelayer path").length;
            out.figures[gd.dataset.figure].tickLabels = [...box.querySelectorAll(".layer-picture .ytick text")]
                .map((e) => e.textContent);
        }
    }
    return out;
}"""


@pytest.fixture(scope="module")
def copy_episode():
    """The episode the page runs for ``?seed=3&length=12`` (the shipped copy model)."""
    model = catalogue.load_ntm(catalogue.MODELS_DIR / "copy.pt")
    task = task_of(model)
    return episode.run_episode(model, task, episode.random_batch(task, 3, length=12))


class Player:
    """One tab on the stepper, offline, counting the websocket frames it sends."""

    def __init__(self, page, url: str, query: str = "seed=3&length=12"):
        self.page = page
        self.aborted = block_internet(page)
        self.sent: list[float] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda _frame: self.sent.append(1)))
        page.goto(f"{url}/stepper?{query}")
        wait_for_app(page)
        page.wait_for_selector(f"{PLAYER}[data-ready=true]", timeout=120_000)

    @property
    def t(self) -> int:
        return int(self.page.locator(PLAYER).get_attribute("data-t"))

    def settled(self, t: int) -> None:
        """Wait until every figure shows step ``t`` (out-of-view ones catch up in idle time)."""
        self.page.wait_for_selector(f"{PLAYER}[data-t='{t}'][data-settled=true]", timeout=30_000)

    def button(self, name: str):
        return self.page.locator(f"{PLAYER} [data-action={name}]")

    def read_back(self) -> dict:
        return self.page.evaluate(READ_BACK_JS)


def check_step(shown: dict, ep: episode.Episode, t: int) -> None:
    """The figures at step ``t`` hold the trace's numbers, and the outlines and cursor lines
    the builders would draw."""
    tr, rows = ep.trace, ep.head_rows()
    figs = shown["figures"]
    assert shown["t"] == t
    assert shown["heading"] == f"t = {t} of {ep.steps - 1} · {ep.phase(t)}"
    stages = figs["stages"]  # one figure, a subplot per head: the write head's, then the read's
    for k, (kind, head) in enumerate((("write", tr.write), ("read", tr.read))):
        stack = np.stack([getattr(head, s)[t, 0, 0] for s in
                          ("previous", "content", "gated", "shifted", "weights")])
        np.testing.assert_allclose(np.array(stages["data"][k]["z"]), stack[:, rows].T, atol=1e-7,
                                   err_msg=f"{kind} stages at t = {t}")
        built = episode_figures.stage_panel(*stack, rows=rows)
        xref = "x" if k == 0 else f"x{k + 1}"
        assert [(s["x0"], s["x1"], s["y0"], s["y1"]) for s in stages["shapes"] if s["xref"] == xref] \
            == [(s.x0, s.x1, s.y0, s.y1) for s in built.layout.shapes if s.type == "rect"]
        # the axes and separators drawn once over the plot: the builder's row labels and lines
        assert stages["separators"] == 2 * len([s for s in built.layout.shapes if s.type == "line"])
        assert str(rows[0]) in stages["tickLabels"]
        assert stages["staleImages"] == 0  # the picture over the plot holds no data
        key = figs[f"{kind}0.key"]["data"][0]
        np.testing.assert_allclose(key["y"], head.key[t, 0, 0], atol=1e-7)
        assert key["color"] == ["#5aae61" if v >= 0 else "#9970ab" for v in key["y"]]
        kernel = figs[f"{kind}0.shift"]
        np.testing.assert_allclose(kernel["data"][0]["y"], head.shift[t, 0, 0], atol=1e-7)
        assert kernel["data"][0]["text"] == [f"{v:.2f}" for v in head.shift[t, 0, 0]]
        assert kernel["yrange"] == pytest.approx([0, max(0.5, head.shift[t, 0, 0].max()) * 1.3])
    np.testing.assert_allclose(figs["write0.erase"]["data"][0]["y"], tr.write.erase[t, 0, 0], atol=1e-7)
    np.testing.assert_allclose(figs["write0.add"]["data"][0]["y"], tr.write.add[t, 0, 0], atol=1e-7)
    np.testing.assert_allclose(figs["read0.vector"]["data"][0]["y"], tr.reads[t, 0, 0], atol=1e-7)
    # memory after the write and the change, rebuilt in the browser from M_0 and the writes
    after, before = tr.memory[t, 0], tr.memory_before(t)[0]
    memory = figs["memory"]
    np.testing.assert_allclose(np.array(memory["data"][0]["z"]), after[rows], atol=1e-4)
    np.testing.assert_allclose(np.array(memory["data"][1]["z"]), (after - before)[rows], atol=1e-4)
    built = episode_figures.memory_change(before, after, rows=rows,
                                          mark_rows=[int(tr.write.weights[t, 0, 0].argmax())])
    for shown_trace, built_trace in zip(memory["data"], built.data, strict=True):
        assert shown_trace["zmax"] == pytest.approx(built_trace.zmax, rel=1e-3)
        assert shown_trace["zmin"] == pytest.approx(built_trace.zmin, rel=1e-3)
    assert [(s["xref"], s["y0"], s["y1"]) for s in memory["shapes"]] == \
        [(s.xref, s.y0, s.y1) for s in built.layout.shapes]
    # the cursor lines: every panel of the episode grid; the target / output figure on scored
    # steps only, at the step's position on its category axis
    assert {(s["x0"], s["x1"]) for s in figs["grid"]["shapes"]} == {(t, t)}
    scored = np.flatnonzero(ep.scored).tolist()
    lines = figs["targets"]["shapes"]
    assert len(lines) == 2 and all(s["visible"] == (t in scored) for s in lines)
    if t in scored:
        assert {(s["x0"], s["x1"]) for s in lines} == {(scored.index(t), scored.index(t))}
    # β, g, γ of each head; this step's bits
    want = [f"{v:.2f}" for head in (tr.write, tr.read)
            for v in (head.beta[t, 0, 0], head.gate[t, 0, 0], head.gamma[t, 0, 0])]
    assert shown["metrics"] == want
    assert "".join(str(int(v)) for v in ep.inputs[t]) in shown["bits"]


def test_the_player_shows_the_traces_numbers_at_random_steps(page, app_url, copy_episode):
    player = Player(page, app_url)
    last = copy_episode.steps - 1
    player.settled(0)
    check_step(player.read_back(), copy_episode, 0)
    rng = np.random.default_rng(14)
    for t in [*rng.choice(np.arange(1, last), 4, replace=False).tolist(), last, 0]:
        page.locator(f"{PLAYER} .slider").fill(str(t))
        player.settled(t)
        check_step(player.read_back(), copy_episode, t)
    assert not [u for u in player.aborted if "plotly" in u]


def test_buttons_keys_slider_and_go_to_step(page, app_url, copy_episode):
    player = Player(page, app_url)
    last = copy_episode.steps - 1
    frames = len(player.sent)
    for _ in range(3):
        player.button("next").click()
    assert player.t == 3
    player.button("back").click()
    assert player.t == 2
    page.keyboard.press("End")  # the focus is on the Back button, inside the player
    assert player.t == last
    page.keyboard.press("Home")
    assert player.t == 0
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert player.t == 1
    player.button("last").click()
    assert player.t == last and player.button("next").is_disabled()
    player.button("first").click()
    assert player.t == 0 and player.button("back").is_disabled()
    goto = page.locator(f"{PLAYER} [data-goto]")
    assert goto.count() >= 2
    for i in range(goto.count()):
        step = int(goto.nth(i).get_attribute("data-goto"))
        goto.nth(i).click()
        assert player.t == step
    page.locator(f"{PLAYER} .slider").fill("7")
    assert player.t == 7
    # keys typed into another widget are not the player's
    seed = page.get_by_label("Seed")
    seed.focus()
    page.keyboard.press("ArrowRight")
    assert player.t == 7
    # every move happened in the page: one message to the server once the cursor stopped
    page.wait_for_url(re.compile(r"[?&]t=7(&|$)"), timeout=30_000)
    page.wait_for_timeout(500)
    assert len(player.sent) - frames <= 3, "the cursor moves must not each talk to the server"
    # labelled, focusable controls with a visible focus ring
    for name in ("first", "back", "next", "last", "play"):
        assert player.button(name).inner_text().strip()
    next_button = player.button("next")
    next_button.focus()
    ring = next_button.evaluate("b => getComputedStyle(b).outlineStyle")
    assert ring == "solid"
    assert page.locator(f"{PLAYER} .slider").get_attribute("aria-label") == "Time step"
    assert all(page.locator(f"{PLAYER} figcaption.sr-only").all_inner_texts())


def test_play_at_8_steps_a_second_draws_every_step_with_no_blank_figure(browser, console,
                                                                      app_url, artifacts):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    console.watch(context)
    page = context.new_page()
    try:
        player = Player(page, app_url, "seed=1&length=60")
        page.locator(f"{PLAYER} [data-speed='8']").click()
        # Sample the page at every animation frame: the cursor, and any figure in view that is
        # missing its plot or has collapsed.
        page.evaluate("""() => {
            const root = document.querySelector(".ntm-tp");
            window.__samples = [];
            const sample = (now) => {
                const broken = [...root.querySelectorAll("[data-figure]")].filter((gd) => {
                    const box = gd.getBoundingClientRect();
                    if (box.bottom < 0 || box.top > innerHeight) return false;
                    return !gd.querySelector(".main-svg, svg.svgbars") || box.height < 100 || box.width < 100;
                }).map((gd) => gd.dataset.figure);
                window.__samples.push([now, Number(root.dataset.t), broken]);
                if (window.__sampling) requestAnimationFrame(sample);
            };
            window.__sampling = true;
            requestAnimationFrame(sample);
        }""")
        frames = len(player.sent)
        player.button("play").click()
        start = page.evaluate("document.querySelector('.ntm-tp').ntmPlayer.playStart")
        page.wait_for_timeout(3000)
        end = page.evaluate("performance.now()")
        during = len(player.sent) - frames
        shot = page.screenshot()  # still playing
        player.button("play").click()  # pause
        page.evaluate("window.__sampling = false")
        log = page.evaluate("document.querySelector('.ntm-tp').ntmPlayer.stats.log")
        samples = page.evaluate("window.__samples")
        seconds = (end - start) / 1000
        shown = {t for t, at in log if start < at <= end}
        expected = int(seconds * 8)  # new steps since Play
        assert len(shown) >= 0.9 * expected, f"{len(shown)} of {expected} steps drawn in {seconds:.2f} s"
        assert all(not broken for _, _, broken in samples), [s for s in samples if s[2]][:3]
        cursor = [t for _, t, _ in samples]
        assert cursor == sorted(cursor), "the cursor only moves forward while playing"
        assert during == 0, "playing must not talk to the server"
        (artifacts / "stepper_playing.png").write_bytes(shot)
        assert_figures_not_blank(page, shot)
        # the pause is a stop: the URL gets the step, with one message
        t = player.t
        page.wait_for_url(re.compile(rf"[?&]t={t}(&|$)"), timeout=30_000)
    finally:
        context.close()


def assert_figures_not_blank(page, png: bytes) -> None:
    """Every figure in view in the screenshot has drawn content: not one flat colour."""
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    boxes = page.evaluate("""() => [...document.querySelectorAll(".ntm-tp [data-figure]")].map((gd) => {
        const b = gd.getBoundingClientRect();
        return [gd.dataset.figure, b.left, b.top, b.right, b.bottom];
    })""")
    checked = 0
    for name, left, top, right, bottom in boxes:
        top, bottom = max(0, int(top)), min(image.shape[0], int(bottom))
        left, right = max(0, int(left)), min(image.shape[1], int(right))
        if bottom - top < 80 or right - left < 80:
            continue  # out of view
        crop = image[top:bottom, left:right]
        assert crop.std() > 10 and (crop < 200).mean() > 0.02, f"figure {name} looks blank"
        checked += 1
    assert checked >= 1


def test_a_stop_goes_into_the_url_once_and_the_link_opens_there(browser, console, app_url):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    console.watch(context)
    try:
        page = context.new_page()
        player = Player(page, app_url)
        frames = len(player.sent)
        page.evaluate("""() => {  // four quick steps, as a student tapping Next
            const next = document.querySelector(".ntm-tp [data-action=next]");
            for (let i = 0; i < 4; i++) next.click();
        }""")
        page.wait_for_url(re.compile(r"[?&]t=4(&|$)"), timeout=30_000)
        page.wait_for_timeout(800)
        assert len(player.sent) - frames == 1, "four quick steps, one message when they stop"
        link = page.url
        second = context.new_page()
        again = Player(second, link.split("/stepper?")[0], link.split("/stepper?")[1])
        assert again.t == 4
        assert second.locator(f"{PLAYER} h4").inner_text().startswith("t = 4 of 24")
    finally:
        context.close()


def test_offline_the_player_loads_plotly_from_this_server(page, app_url):
    player = Player(page, app_url, "seed=2&length=5")
    source = page.evaluate(
        "[...document.scripts].map((s) => s.src).find((s) => /plotly[^/]*\\.min\\.js$/.test(s))")
    assert source.startswith(app_url) and "/component/" in source
    assert source.endswith(plotly_js.SCRIPT_FILE)  # the partial bundle, when it is the package's version
    assert page.locator(f"{PLAYER} .main-svg, {PLAYER} svg.svgbars").count() >= 10
    assert not [u for u in player.aborted if "plot" in u or u.endswith(".js")], player.aborted


def test_reduced_motion_plays_slowly(browser, console, app_url):
    context = browser.new_context(reduced_motion="reduce")
    console.watch(context)
    try:
        page = context.new_page()
        Player(page, app_url, "seed=2&length=5")
        pressed = page.locator(f"{PLAYER} .speed[aria-pressed=true]")
        assert pressed.get_attribute("data-speed") == "1"
    finally:
        context.close()


#: Each argmax outline of the stage figure: its centre on the page, and the value of its cell.
OUTLINED_CELLS_JS = """() => {
    const box = document.querySelector('[data-figure-box="stages"]');
    const gd = box.querySelector("[data-figure]");
    return {colorscale: gd.data[0].colorscale, cells: [...box.querySelectorAll("rect.layer-outline")]
        .filter((r) => r.style.display !== "none").map((r) => {
            const b = r.getBoundingClientRect();
            const trace = r.dataset.xref === "x" ? 0 : 1;
            const z = gd.data[trace].z[Number(r.dataset.y0) + 0.5][Number(r.dataset.x0) + 0.5];
            return {x: b.left + b.width / 2, y: b.top + b.height / 2, z};
        })};
}"""


def test_the_stage_figure_shows_the_step_on_screen_and_exports_it_as_a_png(page, app_url, artifacts):
    """The stage figure draws its axes once, as a picture over the plot: on screen, each
    outlined cell has the colour of this step's value (the picture holds no stale data). Its
    camera button saves the builder's whole figure (axes, separators, outlines) at the cursor.
    Every figure's PNG is named after it and the step."""
    from PIL import Image

    player = Player(page, app_url)
    box = page.locator('[data-figure-box="stages"]')
    box.scroll_into_view_if_needed()
    for t in (9, 1):  # away from the opening step and back
        player.page.evaluate(f"() => document.querySelector('.ntm-tp').ntmPlayer.move({t})")
        player.settled(t)
        page.wait_for_timeout(200)
        shown = page.evaluate(OUTLINED_CELLS_JS)
        image = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"), dtype=float)
        for cell in shown["cells"]:
            want = scale_colors([cell["z"]], shown["colorscale"], 0.0, 1.0)[0]
            want = [float(v) for v in re.findall(r"[\d.]+", want)]
            got = image[round(cell["y"]), round(cell["x"])]
            assert np.abs(got - want).max() < 16, f"t = {t}: cell of {cell['z']:.3f} drawn as {got}"
        assert len(shown["cells"]) >= 5
    box.hover()
    with page.expect_download() as info:
        box.locator('.modebar-btn[data-title="Download plot as a PNG"]').click()
    download = info.value
    assert download.suggested_filename == "ntm_stages_t1.png"
    png = Path(download.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = (int.from_bytes(png[i:i + 4], "big") for i in (16, 20))
    shown = box.locator("[data-figure]").bounding_box()
    assert (width, height) == (2 * round(shown["width"]), 2 * round(shown["height"]))
    (artifacts / "stepper_stages_export.png").write_bytes(png)
    memory = page.locator('[data-figure-box="memory"]')
    memory.scroll_into_view_if_needed()
    memory.hover()
    with page.expect_download() as info:
        memory.locator('.modebar-btn[data-title="Download plot as a PNG"]').click()
    assert info.value.suggested_filename == "ntm_memory_t1.png"
    # nothing offers to upload a figure (Plotly.js's "Share chart..." sends it to its cloud)
    titles = page.locator(".ntm-tp .modebar-btn").evaluate_all("bs => bs.map((b) => b.dataset.title)")
    assert titles and not [t for t in titles if "Share" in t or "Cloud" in t]
