"""Take the README's screenshots in headless Chromium: ``python scripts/screenshots.py``.

Starts ``streamlit run explorer_app.py`` on a free loopback port, opens each page like a user
and writes PNGs to ``assets/screenshots/`` (``--out`` elsewhere). Needs Debian's ``chromium``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from ntm.devtools.local_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    free_port,
    start_server,
    stop_server,
    wait_healthy,
)

#: The stepper's screenshots: URL query -> file (the mid-episode one is also taken whole).
STEPPER_SHOTS = [
    ("", "stepper-default.png"),
    ("?t=24", "stepper-mid-episode.png"),
    ("?length=120&t=160", "stepper-L120.png"),
    ("?model=repeat-copy&length=5&repeats=3&t=12", "stepper-repeat-copy.png"),
    ("?model=associative-recall&items=5&t=26", "stepper-associative-recall.png"),
]


def settle(page, ms: int = 1500) -> None:
    """Wait until Streamlit has finished running and the charts are drawn."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=60_000)
    deadline = time.monotonic() + 60
    quiet = 0
    while time.monotonic() < deadline and quiet < 4:
        quiet = quiet + 1 if page.locator('[data-testid="stStatusWidget"]').count() == 0 else 0
        page.wait_for_timeout(250)
    page.wait_for_timeout(ms)


def full(page, path: Path, width: int = 1600) -> None:
    """A screenshot of the whole page (Streamlit scrolls inside its main container)."""
    height = page.evaluate(
        "() => (document.querySelector('[data-testid=stMain]') || document.body).scrollHeight")
    page.set_viewport_size({"width": width, "height": min(int(height) + 40, 8000)})
    page.wait_for_timeout(1500)
    page.screenshot(path=path)
    page.set_viewport_size({"width": width, "height": 1000})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots")
    parser.add_argument("--only", default="", help="comma-separated: stepper,generalisation,train")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            if not only or "stepper" in only:
                for query, name in STEPPER_SHOTS:
                    page.goto(f"{url}/stepper{query}")
                    settle(page)
                    page.wait_for_selector(".ntm-tp[data-ready=true]", timeout=120_000)
                    page.screenshot(path=out / name)
                    if name == "stepper-mid-episode.png":
                        full(page, out / "stepper-mid-episode-full.png")
            if not only or "generalisation" in only:
                page.goto(f"{url}/generalisation")
                settle(page, 3000)
                full(page, out / "generalisation.png")
            if not only or "train" in only:
                page.goto(f"{url}/train")
                settle(page)
                page.get_by_role("button", name="Start").click()
                frames = 0
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline:  # the default preset: about 6 s of training
                    page.wait_for_timeout(1000)
                    done = page.get_by_text("Converged:").count() or page.get_by_text(
                        "training budget without").count()
                    if done:
                        settle(page)
                        full(page, out / "train-converged.png")  # the curves, probe, stepper
                        break
                    frames += 1
                    full(page, out / f"train-{frames}.png")  # whole pages: the curves too
                print(f"train: {frames} frames")
            browser.close()
    finally:
        stop_server(proc)
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
