"""Where a playground frame's time goes while the mouse drags β, in headless Chromium. A script,
not a timed test: it prints one small table.

It starts the app, opens ``/playground?N=<n>``, drags β back and forth for 3 s (mouse moves as
fast as Playwright sends them; Chromium delivers them once per animation frame) and divides
Chromium's main-thread counters (CDP ``Performance.getMetrics``) by the frames the panel drew.
A frame that needs more than one 16.7 ms animation frame of work halves the frame rate.

    python benchmarks/profile_drag.py [--n 128] [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_browser_latency import metrics, sweep  # noqa: E402  (this folder is on the path)

from ntm.devtools.local_server import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_server,
    stop_server,
    wait_healthy,
)

COUNTERS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
BETA = "input[data-control=beta]"


def drag(page, seconds: float) -> tuple[int, float, dict[str, float]]:
    """Drag β for ``seconds``; the frames drawn, the time taken and the counters' growth."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.locator(BETA).first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)

    def mark() -> tuple[int, dict[str, float], float]:
        frame = page.locator(".ntm-ap-root").first.evaluate("root => Number(root.dataset.frame)")
        return frame, metrics(cdp), time.monotonic()

    (f0, c0, t0), (f1, c1, t1) = sweep(page, BETA, seconds, mark)
    return f1 - f0, t1 - t0, {k: c1[k] - c0[k] for k in COUNTERS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=128, help="memory rows N")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="profile_drag_")) / "app.log"
    proc = start_server(port, log=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{url}/playground?N={args.n}")
            page.wait_for_selector(".ntm-ap-root[data-plotted]", timeout=120_000)
            page.wait_for_timeout(3000)
            load = os.getloadavg()[0]
            frames, elapsed, grown = drag(page, args.seconds)
            browser.close()
    finally:
        stop_server(proc)
    print(f"Drag of β at N = {args.n}, {args.seconds:g} s, load average {load:.2f}: "
          f"{frames} frames drawn, {frames / elapsed:.1f} frames/s\n")
    print("| main-thread counter | per drawn frame |\n|---|---:|")
    for name in COUNTERS:
        print(f"| {name} | {grown[name] * 1000 / max(frames, 1):.2f} ms |")


if __name__ == "__main__":
    main()
