"""How fast does the copy NTM converge on this machine? (benchmark, not a test)

    python benchmarks/bench_convergence.py [--seeds 0,1,2,3,4] [--threads 1] [--jobs 2]
    python benchmarks/bench_convergence.py --device cuda --skip-paper

Every run goes through ``ntm.training.cli.train``, i.e. the same loop (``ntm.training.loop.fit``)
as ``python -m ntm.train`` and the live page.

For each seed, trains copy (Graves et al. 2014, section 4.1; L in [1, 20], N = 128, M = 20) until
the held-out bit errors per sequence fall below 0.1, with three recipes in the same run:

* ``fast``: today's default, ``python -m ntm.train``'s defaults on the fused engine (on CUDA:
  ``GPU_RECIPE``'s batch size and learning rate and the CUDA-graph training step);
* ``previous``: the default before the fused engine, the reference engine (``--engine
  reference``) with batches of 8 at RMSProp 3e-4;
* ``paper``: the paper's recipe (batch 1, RMSProp lr 1e-4, momentum 0.9, each gradient element
  clipped to +-10), capped at ``--paper-cap`` seconds ("not converged by" when it runs out);
* ``live`` (with ``--live``): the *Train it yourself* page's default preset
  (``ntm.training.live.LIVE_DEFAULTS``: copy of lengths 1-8, N = 32, M = 8), to its own target.

It prints wall time and sequences seen per seed, the medians and the speed-ups, then the
training throughput (sequences/s) of the engines (on a CPU the fused one three ways: the whole
run as one Function over the C step, ``ntm.sequence``; one Function per step over the C step,
``--engine fused-step``; tensor operations only). Timings are wall-clock on a shared machine:
other jobs on the same cores make them noisy, so the load average (1 minute, at the end of the
run) and the process's CPU time (with ``--threads 1``: close to the wall time on an idle
machine) are printed beside them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shlex
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch

from ntm import native
from ntm.training import TrainConfig, cli
from ntm.training.config import GPU_RECIPE, flag
from ntm.training.live import LIVE_DEFAULTS
from ntm.training.loop import make_graphs, make_model, make_optimizer, make_task, train_step

PAPER = ["--batch-size", "1", "--optimizer", "rmsprop", "--lr", "1e-4", "--momentum", "0.9",
         "--clip-grad-value", "10", "--clip-grad-norm", "0", "--lr-decay-below", "0"]
PREVIOUS = ["--engine", "reference", "--batch-size", "8", "--lr", "3e-4"]
KINDS = ("fast", "candidate", "previous", "paper", "live")


def live_preset() -> list[str]:
    """The live page's default preset as ``ntm.train`` options: where it differs from the CLI's
    defaults, and its task sizes (the budget and device are the benchmark's)."""
    default, words = TrainConfig(), []
    for name, value in vars(LIVE_DEFAULTS).items():
        if name == "task_params":
            words += [w for k, v in value.items() for w in (flag(k), str(v))]
        elif value != getattr(default, name) and name not in ("max_seconds", "max_sequences",
                                                              "device"):
            words += [flag(name), str(value)]
    return words


def recipe(kind: str, device: str, candidate: str = "") -> list[str]:
    if kind == "live":
        return live_preset()
    if kind == "candidate":
        return shlex.split(candidate)
    if kind == "paper":
        return PAPER
    if kind == "previous":
        return PREVIOUS
    if device.startswith("cuda"):
        return ["--batch-size", str(GPU_RECIPE["batch_size"]), "--lr", str(GPU_RECIPE["lr"])]
    return []


def run(seed: int, extra: list[str], cap_s: float, out: Path, device: str,
        threads: int = 0) -> dict:
    if threads:
        torch.set_num_threads(threads)
    argv = ["--task", "copy", "--seed", str(seed), "--max-seconds", str(cap_s),
            "--max-sequences", "10000000", "--no-progress", "--force",
            "--output", str(out), "--device", device, *extra]
    cpu = time.process_time()
    result = cli.train(argv)
    result["load"], result["cpu_time"] = load(), time.process_time() - cpu
    return result


def throughput(config: TrainConfig, seconds: float) -> float:
    """Training sequences per second (forward, backward, optimiser step) under ``config``."""
    task = make_task(config)
    torch.manual_seed(0)
    device = torch.device(config.device)
    model = make_model(config, task).to(device)
    opt, graphs = make_optimizer(config, model), make_graphs(config, model, device)
    gen = torch.Generator().manual_seed(0)
    batches = [task.sample(config.batch_size, gen).to(device) for _ in range(20)]
    for batch in batches[:3]:  # warm-up (and CUDA graph capture)
        train_step(config, model, opt, batch, graphs=graphs)
    seen, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        train_step(config, model, opt, batches[seen // config.batch_size % 20], graphs=graphs)
        seen += config.batch_size
    return seen / (time.perf_counter() - start)


def load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def median_time(results: dict[int, dict]) -> float:
    return statistics.median(r["wall_time"] if r["status"] == "converged" else float("inf")
                             for r in results.values())


def cell(r: dict | None) -> str:
    if r is None:
        return "- | -"
    if r["status"] == "converged":
        return (f"{r['wall_time']:.1f} (CPU {r['cpu_time']:.1f}, load {r['load']:.1f}) | "
                f"{r['sequences_seen']}")
    return f"not converged by {r['wall_time']:.0f} | > {r['sequences_seen']}"


def report(results: dict[str, dict[int, dict]], kinds: list[str]) -> None:
    heads = " | ".join(f"{k}: wall time s | {k}: sequences" for k in kinds)
    print(f"\n| seed | {heads} |")
    print("|---:|" + "---:|" * 2 * len(kinds))
    for s in sorted(set().union(*(results[k] for k in kinds))):
        print(f"| {s} | " + " | ".join(cell(results[k].get(s)) for k in kinds) + " |")
    medians = {k: median_time(results[k]) for k in kinds if results[k]}
    print()
    for k, med in medians.items():
        done = sum(r["status"] == "converged" for r in results[k].values())
        print(f"{k}: median {med:.1f} s ({done}/{len(results[k])} converged)")
    if "fast" in medians:
        for k in ("candidate", "previous", "paper"):
            if k in medians and medians["fast"] > 0:
                bound = "" if medians[k] != float("inf") else " (at least; some did not converge)"
                print(f"speed-up of fast over {k}: {medians[k] / medians['fast']:.1f}x{bound}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--cap", type=float, default=300.0, help="seconds allowed per run")
    p.add_argument("--paper-cap", type=float, default=1200.0, help="seconds per paper run")
    p.add_argument("--paper-seeds", help="seeds for the paper's recipe (default: --seeds)")
    p.add_argument("--skip-paper", action="store_true")
    p.add_argument("--previous-seeds", help="seeds for the previous default (default: --seeds)")
    p.add_argument("--skip-previous", action="store_true")
    p.add_argument("--live", action="store_true",
                   help="also the live page's default preset (same seeds and cap)")
    p.add_argument("--skip-fast", action="store_true", help="not today's default recipe")
    p.add_argument("--candidate", default="",
                   help="a recipe to try beside the default, e.g. '--batch-size 32 --lr 1e-3' "
                        "(same seeds as the default)")
    p.add_argument("--throughput-seconds", type=float, default=10.0,
                   help="seconds of training per throughput measurement (0: skip)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--jobs", type=int, default=1,
                   help="trainings at once, each in its own process (use at most one per core, "
                        "with --threads 1, or the timings measure contention; 1 on CUDA)")
    args = p.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("--device cuda: no CUDA device here; skipped")
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else \
        f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {where}, load average {load():.2f}\n")
    tmp = Path(tempfile.mkdtemp(prefix="bench_convergence_"))
    kinds = [k for k in KINDS if not (k == "paper" and args.skip_paper)
             and not (k == "previous" and args.skip_previous)
             and not (k == "candidate" and not args.candidate)
             and not (k == "live" and not args.live) and not (k == "fast" and args.skip_fast)]
    jobs = [(k, s, args.cap) for k in kinds if k in ("fast", "candidate", "live") for s in seeds]
    if "previous" in kinds:
        jobs += [("previous", int(s), args.cap)
                 for s in (args.previous_seeds or args.seeds).split(",")]
    if "paper" in kinds:
        jobs += [("paper", int(s), args.paper_cap)
                 for s in (args.paper_seeds or args.seeds).split(",")]
    results: dict[str, dict[int, dict]] = {k: {} for k in KINDS}
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run, s, recipe(k, args.device, args.candidate), cap,
                               tmp / f"{k}_{s}.pt",
                               args.device, args.threads): (k, s) for k, s, cap in jobs}
        for future in as_completed(futures):
            kind, s = futures[future]
            results[kind][s] = future.result()
            print(f"{kind:>8} seed {s}: {cell(results[kind][s])}", flush=True)
    report(results, kinds)
    if args.throughput_seconds > 0:
        print_throughput(args)
    print(f"\nload average at the end: {load():.2f}")
    return 0


def print_throughput(args) -> None:
    print("\n| engine | batch size | training throughput (sequences/s) |")
    print("|---|---:|---:|")
    fast = cli.config_from(dict(device=args.device) | _flags(recipe("fast", args.device)), {})
    c_loops = not args.device.startswith("cuda") and native.library() is not None
    # (engine, C loops on, name): on a CPU with the C loops, the whole run (ntm.sequence), the
    # per-step Function and the tensor operations
    variants = ([("fused", True, "fused (whole run, C)"), ("fused-step", True, "fused-step (C)"),
                 ("fused", False, "fused (tensor ops)"), ("reference", True, "reference")]
                if c_loops else [("fused", True, "fused"), ("reference", True, "reference")])
    for batch in dict.fromkeys([fast.batch_size, 8]):
        for engine, c_step, name in variants:
            config = TrainConfig(device=args.device, engine=engine, batch_size=batch)
            native.enabled = c_step
            rate = throughput(config, args.throughput_seconds)
            native.enabled = True
            print(f"| {name} | {batch} | {rate:.0f} |", flush=True)


def _flags(words: list[str]) -> dict:
    """``["--batch-size", "32", "--lr", "1e-3"]`` as TrainConfig settings."""
    settings, _, _ = cli.parse(words)
    return settings


if __name__ == "__main__":
    sys.exit(main())
