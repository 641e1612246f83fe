"""Server-side time of one Addressing-playground rerun, at N = 16 and N = 128 rows.

    python benchmarks/bench_playground.py            # the README table
    python benchmarks/bench_playground.py --quick    # fewer repeats

Columns (medians, milliseconds):

* ``compute``: ``ntm.playground.compute`` -- memory, key, the four addressing stages
  (eqs. 5-9 via ``ntm.addressing``), the read and the write (eqs. 2-4);
* ``figures``: ``ntm.figures.playground.build_figures`` -- all nine Plotly figures;
* ``serialise``: ``plotly.io.to_json`` of those figures, as ``st.plotly_chart`` sends them;
* ``total``: the three together -- the library's share of one slider move;
* ``page rerun``: one whole page run under Streamlit's ``AppTest`` after moving the γ slider
  (widgets, the library, figures, Streamlit's protobuf messages; AppTest's own polling adds a
  few ms). In the app only the ``st.fragment`` reruns, so this is an upper bound.

Every state uses the defaults except N (and R = 3, M = 6). Wall-clock times on a shared machine:
other jobs on the same cores make them noisy; ``cpu`` is this process's CPU time for ``total``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import time
from pathlib import Path

import plotly.io as pio
import torch

from ntm import playground as pg
from ntm.figures.playground import build_figures

PAGE = Path(__file__).resolve().parents[1] / "pages" / "playground.py"


def median_ms(fn, repeats: int, clock=time.perf_counter) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times) * 1e3


def library_times(rows: int, repeats: int) -> dict[str, float]:
    settings = pg.Settings().updated(N=rows, R=3, s_m1=0.3, s_p1=0.2)
    result = pg.compute(settings)
    figs = build_figures(result)

    def total():
        for fig in build_figures(pg.compute(settings)).values():
            pio.to_json(fig, validate=False)

    return {
        "compute": median_ms(lambda: pg.compute(settings), repeats),
        "figures": median_ms(lambda: build_figures(result), repeats),
        "serialise": median_ms(
            lambda: [pio.to_json(f, validate=False) for f in figs.values()], repeats
        ),
        "total": median_ms(total, repeats),
        "cpu": median_ms(total, repeats, clock=time.process_time),
    }


def page_rerun_ms(rows: int, repeats: int) -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.query_params.update({"N": str(rows), "R": "3", "s_m1": "0.3", "s_p1": "0.2"})
    at.run()
    if at.exception:
        raise RuntimeError(at.exception)
    gammas = [2.0, 3.0]
    times = []
    for i in range(repeats + 1):
        slider = next(s for s in at.select_slider if s.key == "gamma")
        slider.set_value(gammas[i % 2])
        start = time.perf_counter()
        at.run()
        if i:  # the first is a warm-up
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--rows", default="16,128", help="comma-separated N values")
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    repeats = 10 if args.quick else 40
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs ({platform.machine()}), load average {load:.1f}"
    )
    print()
    print("| N | compute | figures | serialise | total (cpu) | page rerun (AppTest) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for rows in (int(n) for n in args.rows.split(",")):
        t = library_times(rows, repeats)
        page = page_rerun_ms(rows, max(5, repeats // 4))
        print(
            f"| {rows} | {t['compute']:.1f} ms | {t['figures']:.1f} ms | "
            f"{t['serialise']:.1f} ms | {t['total']:.1f} ms ({t['cpu']:.1f} ms) | "
            f"{page:.0f} ms |"
        )


if __name__ == "__main__":
    main()
