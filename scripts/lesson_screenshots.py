"""Take the Lessons page's screenshots in headless Chromium: ``python scripts/lesson_screenshots.py``.

Starts ``streamlit run explorer_app.py`` on a free loopback port, opens every step of the lesson
from a link (answers included, some right and some wrong, so each step shows its reveal) and
writes small PNGs (a 256-colour palette) to ``assets/screenshots/lessons/``. Needs Debian's
``chromium``.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from PIL import Image
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

#: File name -> query. Answers mix right and wrong ones, so both feedbacks show.
SHOTS = {
    "step-01-rows.png": "step=1",
    "step-02-similarity.png": "step=2&q2=9",
    "step-03-beta.png": "step=3&q3a=0.8&q3b=100",
    "step-04-blend.png": "step=4&q4a=0.5&q4b=tea",
    "step-05-gate.png": "step=5&q5=0.5",
    "step-06-shift-question.png": "step=6",
    "step-06-shift.png": "step=6&q6a=2&q6b=blur",
    "step-07-sharpen.png": "step=7&q7a=6&q7b=3",
    "step-08-write.png": "step=8&q8=0.2",
    "step-09-copy.png": "step=9&q9a=116&q9b=content",
    "step-10-generalise.png": "step=10&q10a=20&q10b=low",
    "projector-step-07-cividis.png": "step=7&q7a=6&q7b=20&projector=true&colors=cividis",
}
WIDTH = 1440


def settle(page, ms: int = 1500) -> None:
    """Wait until Streamlit has finished running and the charts are drawn."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=120_000)
    deadline, quiet = time.monotonic() + 120, 0
    while time.monotonic() < deadline and quiet < 4:
        quiet = quiet + 1 if page.locator('[data-testid="stStatusWidget"]').count() == 0 else 0
        page.wait_for_timeout(250)
    if page.locator(".ntm-ap-root").count():  # a live addressing panel: its figure drawn
        page.locator(".ntm-ap-root[data-plotted]").wait_for(timeout=60_000)
    page.wait_for_timeout(ms)


def small_png(png: bytes, path: Path) -> None:
    """Save a screenshot with a 256-colour palette: a third of the size, same look."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def shoot(page, url: str, path: Path, projector: bool) -> None:
    page.set_viewport_size({"width": 1920 if projector else WIDTH, "height": 1080 if projector
                            else 900})
    page.goto(url)
    settle(page)
    if not projector:  # the whole page: Streamlit scrolls inside its own container
        height = page.evaluate("() => document.querySelector('[data-testid=stMain]')"
                               ".scrollHeight")
        page.set_viewport_size({"width": WIDTH, "height": min(int(height) + 20, 4000)})
        page.wait_for_timeout(1200)
    small_png(page.screenshot(), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots" / "lessons")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            for name, query in SHOTS.items():
                shoot(page, f"{url}/lessons?{query}", args.out / name, "projector" in query)
                print(name, f"{(args.out / name).stat().st_size // 1024} KB")
            browser.close()
    finally:
        stop_server(proc)
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
