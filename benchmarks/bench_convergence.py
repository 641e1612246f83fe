"""How fast does the copy NTM converge on this machine? (benchmark, not a test)

    python benchmarks/bench_convergence.py [--seeds 0,1,2,3,4] [--paper-cap 1200] [--threads 1] [--jobs 2]

Every run goes through ``ntm.training.cli.train``, i.e. the same loop (``ntm.training.loop.fit``)
as ``python -m ntm.train`` and the live page.

For each seed, trains copy (Graves et al. 2014, section 4.1; L in [1, 20], N = 128, M = 20)
with ``python -m ntm.train``'s defaults until the held-out bit errors per sequence fall below
0.1, and prints wall time and sequences seen. Then runs the paper's recipe (batch 1, RMSProp
lr 1e-4, momentum 0.9, each gradient element clipped to +-10) for the same seeds, capped at
``--paper-cap`` seconds ("not converged by" when it runs out), and prints the ratio of the
medians. Last, training throughput (sequences/s) at the default batch size against batch 1.

Timings are wall-clock on a shared machine: other jobs on the same cores make them noisy.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch

from ntm.training import TrainConfig, cli
from ntm.training.loop import make_model, make_optimizer, make_task, train_step

PAPER = ["--batch-size", "1", "--optimizer", "rmsprop", "--lr", "1e-4", "--momentum", "0.9",
         "--clip-grad-value", "10", "--clip-grad-norm", "0", "--lr-decay-below", "0"]


def run(seed: int, extra: list[str], cap_s: float, out: Path, eval_every: int,
        threads: int = 0) -> dict:
    if threads:
        torch.set_num_threads(threads)
    argv = ["--task", "copy", "--seed", str(seed), "--max-seconds", str(cap_s),
            "--max-sequences", "10000000", "--eval-every", str(eval_every), "--no-progress",
            "--output", str(out), "--device", "cpu", *extra]
    return cli.train(argv)


def throughput(batch_size: int, seconds: float = 20.0) -> float:
    """Training sequences per second (forward, backward, optimiser step) at ``batch_size``."""
    config = TrainConfig(batch_size=batch_size, device="cpu")
    task = make_task(config)
    torch.manual_seed(0)
    model = make_model(config, task)
    opt = make_optimizer(config, model)
    gen = torch.Generator().manual_seed(0)
    seen, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        train_step(config, model, opt, task.sample(batch_size, gen))
        seen += batch_size
    return seen / (time.perf_counter() - start)


def fmt(r: dict) -> str:
    if r["status"] == "converged":
        return f"{r['wall_time']:8.1f} s {r['sequences_seen']:>9} seq"
    return f"not converged by {r['wall_time']:.0f} s ({r['sequences_seen']} seq)"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--cap", type=float, default=900.0, help="seconds allowed per default-recipe run")
    p.add_argument("--paper-cap", type=float, default=1200.0, help="seconds allowed per paper-recipe run")
    p.add_argument("--paper-seeds", help="seeds for the paper's recipe (default: --seeds)")
    p.add_argument("--skip-paper", action="store_true")
    p.add_argument("--throughput-seconds", type=float, default=20.0,
                   help="seconds of training per throughput measurement")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--jobs", type=int, default=1,
                   help="trainings at once, each in its own process (use at most one per core, "
                        "with --threads 1, or the timings measure contention)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    tmp = Path(tempfile.mkdtemp(prefix="bench_convergence_"))
    jobs = [("default", s, [], args.cap) for s in seeds]
    if not args.skip_paper:
        jobs += [("paper", int(s), PAPER, args.paper_cap)
                 for s in (args.paper_seeds or args.seeds).split(",")]
    results: dict[str, dict[int, dict]] = {"default": {}, "paper": {}}
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run, s, extra, cap, tmp / f"{kind}_{s}.pt", 1000, args.threads):
                   (kind, s) for kind, s, extra, cap in jobs}
        for future in as_completed(futures):
            kind, s = futures[future]
            results[kind][s] = future.result()
            print(f"{kind:>7} recipe seed {s}: {fmt(results[kind][s])}", flush=True)
    ours, paper = results["default"], results["paper"]

    print("\n| seed | default: wall time (s) | default: sequences | paper: wall time (s) | paper: sequences |")
    print("|---:|---:|---:|---:|---:|")
    for s in sorted(set(seeds) | set(paper)):
        o, q = ours.get(s), paper.get(s)

        def cell(r):
            if r is None:
                return "-", "-"
            if r["status"] == "converged":
                return f"{r['wall_time']:.0f}", f"{r['sequences_seen']}"
            return f"not converged by {r['wall_time']:.0f}", f"> {r['sequences_seen']}"

        print(f"| {s} | {' | '.join(cell(o))} | {' | '.join(cell(q))} |")
    times = [r["wall_time"] for r in ours.values() if r["status"] == "converged"]
    if times:
        med = statistics.median(r["wall_time"] if r["status"] == "converged" else float("inf")
                                for r in ours.values())
        print(f"\ndefault recipe: median {med:.0f} s, worst {max(r['wall_time'] for r in ours.values()):.0f} s "
              f"({len(times)}/{len(seeds)} converged; target: median <= 120 s, every seed <= 300 s)")
        if paper:
            pmed = statistics.median(r["wall_time"] if r["status"] == "converged" else float("inf")
                                     for r in paper.values())
            bound = "" if all(r["status"] == "converged" for r in paper.values()) else " at least"
            print(f"paper recipe: median{bound} {min(pmed, max(r['wall_time'] for r in paper.values())):.0f} s; "
                  f"speed-up of the default recipe:{bound} "
                  f"{min(pmed, max(r['wall_time'] for r in paper.values())) / med:.1f}x")
    b = TrainConfig().batch_size
    t_default = throughput(b, args.throughput_seconds)
    t_one = throughput(1, args.throughput_seconds)
    print("\n| batch size | training throughput (sequences/s) |")
    print("|---:|---:|")
    print(f"| {b} (default) | {t_default:.0f} |")
    print(f"| 1 | {t_one:.0f} |")
    print(f"ratio: {t_default / t_one:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
