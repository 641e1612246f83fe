"""Server-side time of the Model stepper: run + trace the shipped copy model, and one cursor step.

    python benchmarks/bench_stepper.py [--repeats 5] [--threads 1]

Rows: ``run_episode`` (the model traced on one sequence) at L = 20 and L = 120; building every
figure of one step; and one whole cursor step as the server runs it (AppTest clicking "Next",
which reruns the page's fragment). Targets (issue 5): a step under 0.3 s, an L = 120 run under 1 s.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from ntm import catalogue
from ntm.evaluate import task_of
from ntm.figures import episode as episode_figures
from ntm.stepper import episode

ROOT = Path(__file__).resolve().parents[1]


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def step_figures(ep: episode.Episode, t: int) -> None:
    tr = ep.trace
    rows = episode.focus_window(np.concatenate([tr.write.weights[:, 0, 0], tr.read.weights[:, 0, 0]]))
    episode_figures.episode_grid(ep.inputs, ep.outputs, tr.write.add[:, 0, 0], tr.reads[:, 0, 0],
                    tr.write.weights[:, 0, 0], tr.read.weights[:, 0, 0], cursor=t,
                            rows=ep.grid_rows())
    for head in (tr.read, tr.write):
        episode_figures.stage_panel(head.previous[t, 0, 0], head.content[t, 0, 0], head.gated[t, 0, 0],
                       head.shifted[t, 0, 0], head.weights[t, 0, 0], rows=rows)
        episode_figures.vector_bars(head.key[t, 0, 0], title="k")
    episode_figures.memory_change(tr.memory_before(t)[0], tr.memory[t, 0], rows=rows)
    episode_figures.target_output(ep.targets, ep.outputs, ep.wrong, steps=np.flatnonzero(ep.scored), cursor=t)


def apptest_step(length: int, repeats: int) -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "stepper.py"), default_timeout=120)
    at.query_params.update({"length": str(length)})
    at.run()
    button = next(b for b in at.button if b.label == "Next")

    def step():
        button.click().run()

    return median_time(step, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    path = catalogue.MODELS_DIR / "copy.pt"
    model = catalogue.load_ntm(path)
    task = task_of(model)
    load = os.getloadavg()[0]
    print(f"copy model {path.name}: N={model.config.memory_rows}, M={model.config.memory_width}, "
          f"{model.config.controller} {model.config.controller_size}; torch {torch.__version__}, "
          f"{args.threads} thread(s), load average {load:.1f}")
    print()
    print("| what | L = 20 | L = 120 |")
    print("|---|---:|---:|")
    eps = {n: episode.run_episode(model, task, episode.random_batch(task, 1, length=n)) for n in (20, 120)}
    run = {n: median_time(lambda n=n: episode.run_episode(model, task, episode.random_batch(task, 1, length=n)),
                          args.repeats) for n in (20, 120)}
    figs = {n: median_time(lambda n=n: step_figures(eps[n], n + 3), args.repeats) for n in (20, 120)}
    rerun = {n: apptest_step(n, args.repeats) for n in (20, 120)}
    print(f"| run + trace the whole episode | {run[20] * 1000:.0f} ms | {run[120] * 1000:.0f} ms |")
    print(f"| build all figures of one step | {figs[20] * 1000:.0f} ms | {figs[120] * 1000:.0f} ms |")
    print(f"| one cursor step, whole server rerun (AppTest) | {rerun[20] * 1000:.0f} ms | "
          f"{rerun[120] * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
