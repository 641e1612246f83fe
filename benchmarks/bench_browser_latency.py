"""How fast the playground's stages follow a control, in headless Chromium, against Streamlit's
floor (issue 13). A script, not a timed test: it prints a markdown table.

It starts the app (``explorer_app.py``) and, in the same run, ``benchmarks/floor_app.py`` -- one
slider and one ``N × 1`` heatmap, every move a server round trip -- and drives both in headless
Chromium (Debian's, through Playwright):

* **latency**: from the input event (the key press, ``keydown``) to the figure's data drawn
  (its heatmap image rewritten, or the playground's canvas over it painted), measured inside
  the page with ``performance.now()``; p50 / p95
  over ``--moves`` moves of β (the playground's key strength slider in the addressing panel,
  held as a key is held; the floor's slider, pressed once per move, each move waited for), at
  N = 16 and N = 128;
* **updates per second** of the figure while the mouse drags β for 3 s (Streamlit's slider sends
  its value only on release, so the floor's figure does not move while dragged);
* **main-thread work per move**: Chromium's ``TaskDuration`` (CDP ``Performance.getMetrics``)
  over the moves, divided by their number;
* **page open**: from navigation to every figure drawn, in a fresh browser context (median of
  ``--opens``, the two apps taking turns), N = 16: the playground's memory figure, its stage figure and its read and write
  figures; the floor's one chart.

Then the ratios (playground / floor) and the issue's targets, with the load average: the
numbers move with the machine's load, so read them beside it.

    python benchmarks/bench_browser_latency.py [--moves 200] [--opens 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ntm.devtools.local_server import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_server,
    stop_server,
    wait_healthy,
)

FLOOR = ROOT / "benchmarks" / "floor_app.py"
SIZES = (16, 128)
DRAG_S = 3.0
VIEWPORT = {"width": 1600, "height": 1000}

#: Installed in the page on the figure's element: each key press starts a clock, the next redraw
#: of the figure's heatmap image stops it; every redraw is counted.
INSTALL_JS = """figure => {
    const b = window.__bench = {t0: null, latencies: [], updates: 0};
    window.addEventListener("keydown", () => { if (b.t0 === null) b.t0 = performance.now(); },
                            true);
    // A heatmap is drawn as an SVG <image>: its data changed when the image is rewritten or
    // a new one is added. The playground paints a moving control's frames on a canvas over
    // that image (its data-frame counts them) and hands the last one to Plotly.js when the
    // control rests: once a canvas frame was painted, only canvas frames count (the handover
    // changes no pixel on screen).
    const hasImage = node => node.nodeName === "image"
        || (node.querySelector !== undefined && node.querySelector("image") !== null);
    const painted = () => figure.querySelector("canvas[data-frame]") !== null;
    const redrawn = r => r.type === "attributes" && r.target.nodeName === "CANVAS"
        ? r.attributeName === "data-frame"
        : !painted() && ((r.type === "attributes" && r.target.nodeName === "image")
            || (r.type === "childList" && Array.from(r.addedNodes).some(hasImage)));
    new MutationObserver(records => {
        if (!records.some(redrawn)) return;
        b.updates++;
        if (b.t0 !== null) { b.latencies.push(performance.now() - b.t0); b.t0 = null; }
    }).observe(figure, {subtree: true, childList: true, attributes: true});
}"""


@dataclass
class App:
    """How the benchmark finds one app's figure and slider."""

    name: str
    path: str  #: page path; ``?N=`` is appended
    figure: str  #: the figure whose redraws are timed
    slider: str  #: the β control that is moved (focused, then arrow keys)
    track: str  #: where the mouse drags it
    held: bool  #: hold the key (no release between moves), or press it once per move
    drawn: tuple[tuple[str, int], ...]  #: (selector, count) that must exist once the page is open


PLAYGROUND = App(
    "playground", "/playground", ".ntm-ap-root .plotly-figure", "input[data-control=beta]",
    "input[data-control=beta]", True,
    ((".ntm-ap-root[data-plotted]", 1), (".ntm-live-figure[data-frame]", 3)),
)
FLOOR_APP = App(
    "floor", "/", '[data-testid="stMain"]', '[data-testid="stSlider"] input[type="range"]',
    '[data-testid="stSlider"] [data-orientation="horizontal"] > [data-orientation]', False,
    (('[data-testid="stPlotlyChart"] .main-svg', 1),),
)


@dataclass
class Result:
    latencies: dict[int, list[float]] = field(default_factory=dict)
    work_ms: dict[int, float] = field(default_factory=dict)
    updates_per_s: dict[int, float] = field(default_factory=dict)
    opens: list[float] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def wait_drawn(page, app: App, timeout: float = 120) -> float:
    """Poll until every figure of ``app`` is drawn; return the page's ``performance.now()``
    then (milliseconds since navigation started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(page.locator(sel).count() >= count for sel, count in app.drawn):
            return page.evaluate("() => performance.now()")
        page.wait_for_timeout(50)
    raise TimeoutError(f"{app.name}: figures not drawn after {timeout} s")


def open_app(page, url: str, app: App, n: int) -> None:
    page.goto(f"{url}{app.path}?N={n}")
    wait_drawn(page, app)
    page.wait_for_timeout(1500)  # let the first runs settle
    page.locator(app.figure).first.evaluate(INSTALL_JS)


def measure_moves(page, app: App, moves: int) -> tuple[list[float], float]:
    """Latencies of ``moves`` moves of the slider (half one way, half back) and the main-thread
    work per move (ms)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.locator(app.slider).first.focus()
    before = metrics(cdp)
    for i in range(moves):
        key = "ArrowLeft" if (i < moves // 2) == app.held else "ArrowRight"
        if app.held:
            page.keyboard.down(key)
        else:
            page.keyboard.press(key)
        page.wait_for_function("() => window.__bench.t0 === null", timeout=30_000)
        page.wait_for_timeout(30)
    work = (metrics(cdp)["TaskDuration"] - before["TaskDuration"]) * 1000 / moves
    if app.held:
        page.keyboard.up("ArrowLeft")
        page.keyboard.up("ArrowRight")
    cdp.detach()
    return page.evaluate("() => window.__bench.latencies"), work


def sweep(page, selector: str, seconds: float, mark):
    """Press the mouse on the slider ``selector`` and drag it back and forth over the middle 60 %
    of its track for ``seconds``, mouse events as fast as they go; ``mark()`` is read just after
    the press and just before the release, and both readings are returned."""
    track = page.locator(selector).first.bounding_box()
    y = track["y"] + track["height"] / 2
    x0, x1 = track["x"] + 0.2 * track["width"], track["x"] + 0.8 * track["width"]
    page.mouse.move(x0, y)
    page.mouse.down()
    start = mark()
    t_end = time.monotonic() + seconds
    forth = True
    while time.monotonic() < t_end:
        page.mouse.move(x1 if forth else x0, y, steps=40)
        forth = not forth
    end = mark()
    page.mouse.up()
    return start, end


def measure_drag(page, app: App) -> float:
    """Figure updates per second while the mouse drags the slider for DRAG_S seconds."""
    page.wait_for_timeout(1500)
    start, end = sweep(page, app.track, DRAG_S,
                       lambda: page.evaluate("() => [performance.now(), window.__bench.updates]"))
    return (end[1] - start[1]) / ((end[0] - start[0]) / 1000)


def run_app(browser, url: str, app: App, moves: int) -> Result:
    result = Result()
    for n in SIZES:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        open_app(page, url, app, n)
        result.latencies[n], result.work_ms[n] = measure_moves(page, app, moves)
        result.updates_per_s[n] = measure_drag(page, app)
        context.close()
        print(f"  {app.name} N={n}: p50 {percentile(result.latencies[n], 0.5):.1f} ms",
              file=sys.stderr)
    return result


def measure_opens(browser, runs: list[tuple[str, App, Result]], opens: int) -> None:
    """Page opens in fresh contexts, the apps taking turns, so both see the same load."""
    for _ in range(opens):
        for url, app, result in runs:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.goto(f"{url}{app.path}?N=16")
            result.opens.append(wait_drawn(page, app) / 1000)
            context.close()


def fmt_ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b > 0 else "–"


def table(play: Result, floor: Result) -> str:
    rows = []

    def add(name: str, get, unit: str, digits: int = 1) -> None:
        cells = []
        for n in SIZES:
            cells += [f"{get(play, n):.{digits}f} {unit}", f"{get(floor, n):.{digits}f} {unit}",
                      fmt_ratio(get(play, n), get(floor, n))]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")

    add("latency p50", lambda r, n: percentile(r.latencies[n], 0.5), "ms")
    add("latency p95", lambda r, n: percentile(r.latencies[n], 0.95), "ms")
    add("main-thread work per move", lambda r, n: r.work_ms[n], "ms")
    add("updates during a 3-s drag", lambda r, n: r.updates_per_s[n], "/s")
    head = ["| measure | " + " | ".join(f"playground N={n} | floor N={n} | ratio" for n in SIZES)
            + " |", "|---|" + "---:|" * 6]
    open_p, open_f = statistics.median(play.opens), statistics.median(floor.opens)
    rows.append(f"| page open, fresh context (N = 16, median of {len(play.opens)}) | "
                f"{open_p:.1f} s | {open_f:.1f} s | {fmt_ratio(open_p, open_f)} | | | |")
    return "\n".join(head + rows)


def targets(play: Result, floor: Result) -> str:
    p95 = percentile(play.latencies[128], 0.95)
    floor_p50 = percentile(floor.latencies[16], 0.5)
    drag = min(play.updates_per_s.values())
    opened = statistics.median(play.opens) / statistics.median(floor.opens)
    checks = [
        (f"latency p95 at N = 128 ≤ 50 ms: {p95:.1f} ms", p95 <= 50),
        (f"latency p95 at N = 128 ≤ 0.25 × the floor's p50 ({floor_p50:.0f} ms): "
         f"{p95 / floor_p50:.2f}×", p95 <= 0.25 * floor_p50),
        (f"≥ 30 updates/s while dragging: {drag:.0f}/s", drag >= 30),
        (f"page open ≤ 1.5 × the floor's: {opened:.2f}×", opened <= 1.5),
    ]
    return "\n".join(f"- {'met' if ok else 'MISSED'}: {text}" for text, ok in checks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=200, help="moves per size (default 200)")
    parser.add_argument("--opens", type=int, default=5,
                        help="fresh page opens per app, taking turns (default 5)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    logs = Path(tempfile.mkdtemp(prefix="bench_browser_"))
    ports = {"app": free_port(), "floor": free_port()}
    servers = {"app": start_server(ports["app"], logs / "app.log"),
               "floor": start_server(ports["floor"], logs / "floor.log", script=FLOOR)}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    try:
        for name, proc in servers.items():
            wait_healthy(urls[name], proc)
        load_before = os.getloadavg()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS)
            version = browser.version
            play = run_app(browser, urls["app"], PLAYGROUND, args.moves)
            floor = run_app(browser, urls["floor"], FLOOR_APP, args.moves)
            measure_opens(browser, [(urls["app"], PLAYGROUND, play),
                                    (urls["floor"], FLOOR_APP, floor)], args.opens)
            browser.close()
        load_after = os.getloadavg()
    finally:
        for proc in servers.values():
            stop_server(proc)
    load = ", ".join(f"{a:.2f}→{b:.2f}" for a, b in zip(load_before, load_after, strict=True))
    print(f"Browser latency, {args.moves} moves per size, headless Chromium {version}, "
          f"{os.cpu_count()} cores; load average (1, 5, 15 min, start→end): {load}\n")
    print(table(play, floor))
    print()
    print(targets(play, floor))


if __name__ == "__main__":
    main()
