"""Model stepper speed: the server's work per episode, and the trace player in headless Chromium
against the page it replaced.

    python benchmarks/bench_stepper.py [--repeats 5] [--threads 1]
    python benchmarks/bench_stepper.py --no-browser          # the server rows only
    python benchmarks/bench_stepper.py --baseline-ref <git ref>  # which old page to compare

Server rows (the shipped copy model, one thread): ``run_episode`` (run and trace the whole
sequence) and packing the trace player's payload (every figure built once, the arrays), at
L = 20 and L = 120, and the payload's size.

Browser rows (Debian's Chromium driven by Playwright; one ``streamlit run`` per version on a
loopback port, each warmed up by one visit; a fresh tab per first render):

* **first render**: from opening ``/stepper?length=L`` to every figure drawn (the player: its
  ``data-ready``; the old page: 8 Plotly charts, step 0's heading and the script run ended);
* **Next → figure data updated**, p50 / p95: the player's figures hold the new step's data
  when its click handler returns (measured in the page with ``performance.now()``); "→ painted"
  adds the frame that shows it. The old page: click to the new heading with the script run
  ended (Python wall clock). Both with the page at the top (the episode grid in view), and the
  player also scrolled to the heads (stages, key, shift, erase and add in view) and to the
  memory (the memory and its change, the read vector in view);
* **Play at 8 and 15 steps/s**: distinct steps drawn per second over 4 s (the player's frame
  log; the old page: its heading, sampled at every animation frame, at its fastest speed);
* **websocket bytes** the page received: on opening, and per Next.

The old page is the stepper of ``--baseline-ref`` (default: the last commit before the player),
unpacked with ``git archive`` into a temporary folder and served from there.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ntm import catalogue  # noqa: E402
from ntm.devtools.local_server import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    stop_server,
    wait_healthy,
)
from ntm.evaluate import task_of  # noqa: E402
from ntm.stepper import episode, player  # noqa: E402

#: The last commit whose stepper reran the page for every cursor move.
BASELINE_REF = "3849bc1"
LENGTHS = (20, 120)


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def pct(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q))


# ------------------------------------------------------------------ servers


def serve(folder: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """``streamlit run explorer_app.py`` from ``folder`` (its own ``ntm`` first on the path)."""
    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
           "PYTHONPATH": str(folder)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(folder / "explorer_app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=folder, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc)
    return proc, url


def unpack_ref(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


# ------------------------------------------------------------------ the two pages


class Tab:
    """A fresh tab, counting the websocket bytes it receives."""

    def __init__(self, browser, height: int = 1000):
        self.context = browser.new_context(viewport={"width": 1600, "height": height})
        self.page = self.context.new_page()
        self.received = 0
        self.page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        self.received += len(payload) if payload else 0

    def close(self) -> None:
        self.context.close()


def settle(page, timeout: float = 60.0) -> None:
    """Until the script run has ended (no status widget for three polls)."""
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline and quiet < 3:
        quiet = quiet + 1 if page.locator('[data-testid="stStatusWidget"]').count() == 0 else 0
        page.wait_for_timeout(100)


class NewPage:
    name = "trace player"

    @staticmethod
    def open(tab: Tab, url: str, length: int) -> float:
        start = time.perf_counter()
        tab.page.goto(f"{url}/stepper?length={length}")
        tab.page.wait_for_selector(".ntm-tp[data-ready=true]", timeout=180_000)
        return time.perf_counter() - start

    @staticmethod
    def next_latency(tab: Tab, clicks: int) -> tuple[list[float], list[float]]:
        out = tab.page.evaluate("""async (clicks) => {
            const button = document.querySelector(".ntm-tp [data-action=next]");
            const data = [], painted = [];
            for (let i = 0; i < clicks; i++) {
                const start = performance.now();
                button.click();
                data.push(performance.now() - start);
                await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
                painted.push(performance.now() - start);
                await new Promise((r) => setTimeout(r, 120));
            }
            return [data, painted];
        }""", clicks)
        return out[0], out[1]

    @staticmethod
    def play(tab: Tab, speed: int, seconds: float) -> float:
        page = tab.page
        page.evaluate("document.querySelector('.ntm-tp').ntmPlayer.move(0)")
        page.click(f".ntm-tp [data-speed='{speed}']")
        page.click(".ntm-tp [data-action=play]")
        start = page.evaluate("document.querySelector('.ntm-tp').ntmPlayer.playStart")
        page.wait_for_timeout(seconds * 1000)
        end = page.evaluate("performance.now()")
        page.click(".ntm-tp [data-action=play]")
        log = page.evaluate("document.querySelector('.ntm-tp').ntmPlayer.stats.log")
        last = page.evaluate("document.querySelector('.ntm-tp').ntmPlayer.last")
        end = min([end] + [at for t, at in log if t == last and at > start])  # it stops there
        return len({t for t, at in log if start < at <= end}) / ((end - start) / 1000)

    @staticmethod
    def scroll_to(tab: Tab, selector: str) -> None:
        """Put ``selector`` at the top of the view (under the sticky cursor bar)."""
        tab.page.locator(selector).first.scroll_into_view_if_needed()
        tab.page.evaluate(f"document.querySelector({selector!r}).scrollIntoView({{block: 'start'}})")
        tab.page.wait_for_timeout(500)

    @classmethod
    def scroll_to_heads(cls, tab: Tab) -> None:
        cls.scroll_to(tab, ".ntm-tp .heads-write h5")

    @classmethod
    def scroll_to_memory(cls, tab: Tab) -> None:
        cls.scroll_to(tab, ".ntm-tp .memory-row")


class OldPage:
    name = "old page (server rerun per step)"

    @staticmethod
    def open(tab: Tab, url: str, length: int) -> float:
        page = tab.page
        start = time.perf_counter()
        page.goto(f"{url}/stepper?length={length}")
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=stPlotlyChart] .main-svg').length >= 8"
            " && [...document.querySelectorAll('h4')].some(h => h.innerText.startsWith('t = 0 of'))",
            timeout=180_000)
        settle(page)
        return time.perf_counter() - start - 0.3  # the three quiet polls

    @staticmethod
    def heading(page) -> str:
        return page.locator("h4", has_text="t = ").first.inner_text()

    @classmethod
    def next_latency(cls, tab: Tab, clicks: int) -> list[float]:
        page, times = tab.page, []
        for _ in range(clicks):
            t = int(cls.heading(page).split()[2])
            start = time.perf_counter()
            page.get_by_role("button", name="Next").click()
            page.wait_for_function(
                "t => [...document.querySelectorAll('h4')].some(h => h.innerText.startsWith(`t = ${t} of`))",
                arg=t + 1, timeout=60_000)
            settle(page)
            times.append(time.perf_counter() - start - 0.3)
        return times

    @staticmethod
    def play(tab: Tab, seconds: float) -> float:
        page = tab.page
        page.get_by_role("button", name="First").click()
        settle(page)
        page.locator(".st-key-speed input").click()
        page.get_by_role("option", name="fast (8 steps/s)").click()
        settle(page)
        page.evaluate("""() => {
            window.__headings = new Set();
            window.__sampling = true;
            const sample = () => {
                const h = [...document.querySelectorAll('h4')].find(e => e.innerText.startsWith('t = '));
                if (h) window.__headings.add(h.innerText.split(' ')[2]);
                if (window.__sampling) requestAnimationFrame(sample);
            };
            requestAnimationFrame(sample);
        }""")
        page.get_by_role("button", name="Play").click()
        start = time.perf_counter()
        page.wait_for_timeout(max(8.0, seconds) * 1000)  # it starts slowly: as in the issue
        shown = page.evaluate("window.__sampling = false; window.__headings.size")
        elapsed = time.perf_counter() - start
        page.get_by_role("button", name="Pause").click()
        settle(page)
        return (shown - 1) / elapsed


def browser_rows(args) -> list[tuple[str, str, str]]:
    from playwright.sync_api import sync_playwright

    rows: list[tuple[str, str, str]] = []
    logs = Path(tempfile.mkdtemp(prefix="bench_stepper_"))
    old_tree = unpack_ref(args.baseline_ref, logs / "old") if args.baseline_ref else None
    servers = [serve(ROOT, logs / "new.log")]
    if old_tree:
        servers.append(serve(old_tree, logs / "old.log"))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS)
            new_url = servers[0][1]
            old_url = servers[1][1] if old_tree else None
            # warm-up: models loaded, scripts in the HTTP cache
            for kind, url in ((NewPage, new_url), (OldPage, old_url)):
                if url:
                    for length in LENGTHS:
                        tab = Tab(browser)
                        kind.open(tab, url, length)
                        tab.close()

            first: dict[tuple[str, int], list[float]] = {}
            opened_bytes: dict[tuple[str, int], int] = {}
            for _ in range(args.first_renders):
                for kind, url in ((NewPage, new_url), (OldPage, old_url)):
                    if not url:
                        continue
                    for length in LENGTHS:
                        tab = Tab(browser)
                        first.setdefault((kind.name, length), []).append(kind.open(tab, url, length))
                        opened_bytes[(kind.name, length)] = tab.received
                        tab.close()
            for kind in (NewPage, OldPage):
                if (kind.name, 20) in first:
                    rows.append((f"first render, {kind.name} (median of {args.first_renders})",
                                 *(f"{np.median(first[(kind.name, n)]):.2f} s" for n in LENGTHS)))
            for kind in (NewPage, OldPage):
                if (kind.name, 20) in opened_bytes:
                    rows.append((f"websocket bytes on opening, {kind.name}",
                                 *(f"{opened_bytes[(kind.name, n)] / 1e6:.2f} MB" for n in LENGTHS)))

            for length in LENGTHS:
                tab = Tab(browser)
                NewPage.open(tab, new_url, length)
                data, painted = NewPage.next_latency(tab, args.clicks)
                before = tab.received
                NewPage.next_latency(tab, 3)
                tab.page.wait_for_timeout(1500)
                per_next = (tab.received - before) / 3
                rows.append(("Next → data updated p50 / p95, player, grid in view",
                             f"{pct(data, 50):.1f} / {pct(data, 95):.1f} ms", str(length)))
                rows.append(("Next → painted p50 / p95, player, grid in view",
                             f"{pct(painted, 50):.1f} / {pct(painted, 95):.1f} ms", str(length)))
                fps = {s: NewPage.play(tab, s, args.play_seconds) for s in (8, 15)}
                NewPage.scroll_to_heads(tab)
                h_data, h_painted = NewPage.next_latency(tab, args.clicks)
                rows.append(("Next → data updated p50 / p95, player, heads in view",
                             f"{pct(h_data, 50):.1f} / {pct(h_data, 95):.1f} ms", str(length)))
                rows.append(("Next → painted p50 / p95, player, heads in view",
                             f"{pct(h_painted, 50):.1f} / {pct(h_painted, 95):.1f} ms", str(length)))
                h_fps = {s: NewPage.play(tab, s, args.play_seconds) for s in (8, 15)}
                NewPage.scroll_to_memory(tab)
                m_data, _ = NewPage.next_latency(tab, args.clicks)
                rows.append(("Next → data updated p50 / p95, player, memory in view",
                             f"{pct(m_data, 50):.1f} / {pct(m_data, 95):.1f} ms", str(length)))
                rows.append(("Play 8 / 15 steps/s → steps drawn per s, player, grid in view",
                             f"{fps[8]:.1f} / {fps[15]:.1f}", str(length)))
                rows.append(("Play 8 / 15 steps/s → steps drawn per s, player, heads in view",
                             f"{h_fps[8]:.1f} / {h_fps[15]:.1f}", str(length)))
                rows.append(("websocket bytes per Next, player (one URL sync per stop)",
                             f"{per_next / 1e3:.1f} kB", str(length)))
                tab.close()
                if old_url:
                    tab = Tab(browser)
                    OldPage.open(tab, old_url, length)
                    before = tab.received
                    times = OldPage.next_latency(tab, args.old_clicks)
                    per_next = (tab.received - before) / args.old_clicks
                    rows.append(("Next → figures updated p50 / p95, old page",
                                 f"{pct(times, 50) * 1000:.0f} / {pct(times, 95) * 1000:.0f} ms",
                                 str(length)))
                    rows.append(("Play fastest (8 steps/s) → steps drawn per s, old page",
                                 f"{OldPage.play(tab, args.play_seconds):.1f} / –", str(length)))
                    rows.append(("websocket bytes per Next, old page", f"{per_next / 1e3:.1f} kB",
                                 str(length)))
                    tab.close()
            browser.close()
    finally:
        for proc, _ in servers:
            stop_server(proc)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-browser", action="store_true", help="server rows only")
    parser.add_argument("--baseline-ref", default=BASELINE_REF,
                        help="git ref of the old page to compare ('' for none)")
    parser.add_argument("--first-renders", type=int, default=3)
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--old-clicks", type=int, default=6)
    parser.add_argument("--play-seconds", type=float, default=4.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    path = catalogue.MODELS_DIR / "copy.pt"
    model = catalogue.load_ntm(path)
    task = task_of(model)
    load = os.getloadavg()
    print(f"copy model {path.name}: N={model.config.memory_rows}, M={model.config.memory_width}, "
          f"{model.config.controller} {model.config.controller_size}; torch {torch.__version__}, "
          f"{args.threads} thread(s), {os.cpu_count()} CPUs, load average {load[0]:.1f}")
    print()
    print("| what | L = 20 | L = 120 |")
    print("|---|---:|---:|")
    eps = {n: episode.run_episode(model, task, episode.random_batch(task, 1, length=n))
           for n in LENGTHS}
    run = {n: median_time(lambda n=n: episode.run_episode(
        model, task, episode.random_batch(task, 1, length=n)), args.repeats) for n in LENGTHS}
    pack = {n: median_time(lambda n=n: player.episode_payload(eps[n], 0), args.repeats)
            for n in LENGTHS}
    size = {n: len(player.episode_payload(eps[n], 0)) for n in LENGTHS}
    print(f"| run + trace the whole episode | {run[20] * 1000:.0f} ms | {run[120] * 1000:.0f} ms |")
    print(f"| pack the player's payload (figures + arrays, once per episode) | "
          f"{pack[20] * 1000:.0f} ms | {pack[120] * 1000:.0f} ms |")
    print(f"| payload bytes | {size[20] / 1e6:.2f} MB | {size[120] / 1e6:.2f} MB |")
    if args.no_browser:
        return
    rows = browser_rows(args)
    merged: dict[str, dict[str, str]] = {}
    for what, a, b in rows:
        if b in ("20", "120"):  # one value per length
            merged.setdefault(what, {})[b] = a
        else:
            print(f"| {what} | {a} | {b} |")
    for what, cells in merged.items():
        print(f"| {what} | {cells.get('20', '–')} | {cells.get('120', '–')} |")
    end = os.getloadavg()
    print()
    print(f"load average at the end: {end[0]:.1f} {end[1]:.1f} {end[2]:.1f}")


if __name__ == "__main__":
    main()
