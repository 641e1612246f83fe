"""Is a good result a lucky seed? Train one recipe with several seeds and keep, per seed, the
learning curve and the generalisation table -- small JSON, not the checkpoints (this made
assets/models/copy.seeds.json):

    python -m ntm.seeds --seeds 0,1,2,3,4 --jobs 2 --output runs/seeds/copy2.seeds.json \
        --runs runs/seeds/copy2 --lengths 10,20,30,50,80,100,120 --sequences 1000 -- \
        --task copy --target-bit-errors 0 --max-sequences 50000 --eval-every 4000 \
        --eval-sequences 400 --threads 1 --then --lr-decay-below 1e9 --lr-decay 0.3 \
        --max-sequences 100000

Everything after ``--`` is ``python -m ntm.train``'s command line, without ``--seed`` and
``--output`` (each seed gets its own); ``--then`` starts another stage that continues the run
with ``--resume`` (e.g. a learning-rate cut). A seed whose checkpoint already holds a finished
run is not trained again and an interrupted one is resumed, so a stopped command can simply be
rerun. Each seed is scored with
``python -m ntm.evaluate``'s seeding, so the tables are reproducible and comparable with the
shipped model's. The Generalisation page draws the median and the min-max band over seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .checkpoint import CheckpointError, load_model, read_checkpoint
from .evaluate import DEFAULT_SEED, _ints, size_columns

FORMAT = "ntm-seeds/1"
#: Fields of a learning-curve point that are kept (the rest is bulk).
CURVE_FIELDS = ("sequences", "wall_time", "bit_errors", "cost")
FINISHED = ("converged", "budget")
THEN = "--then"
#: ``ntm.train`` options that belong to the process, not to the saved run: every stage gets the
#: first stage's unless it gives its own (a resumed run on two threads would fight the others).
RUN_OPTIONS = ("--threads",)
#: Options a resumed run takes from its command (``ntm.training.cli.FROM_COMMAND_ON_RESUME``).
CONTINUING = ("--max-sequences", "--max-seconds", "--device", "--engine", "--cuda-graph",
              *RUN_OPTIONS)
#: The trainings running now, and whether SIGTERM asked to stop: each child then saves its run
#: as interrupted (rerunning the command resumes it) and no further seed starts.
CHILDREN: set[subprocess.Popen] = set()
STOPPING = threading.Event()


def _stop(signum, frame) -> None:
    STOPPING.set()
    for child in list(CHILDREN):
        child.send_signal(signal.SIGTERM)


def split_stages(train_args: list[str]) -> list[list[str]]:
    """``python -m ntm.train``'s options, split at each ``--then`` into stages: the first starts
    the run, each later one continues it with ``--resume`` (a schedule, e.g. a learning-rate
    cut with ``--lr-decay-below 1e9 --lr-decay 0.1 --max-sequences 120000``)."""
    stages: list[list[str]] = [[]]
    for arg in train_args:
        if arg == THEN:
            stages.append([])
        else:
            stages[-1].append(arg)
    for stage in stages[1:]:  # options of the process, not of the run: a resume does not keep them
        for name in RUN_OPTIONS:
            if name in stages[0] and name not in stage:
                i = stages[0].index(name)
                stage += stages[0][i:i + 2]
    return stages


def _metadata(path: Path) -> dict | None:
    try:
        return read_checkpoint(path)["metadata"]
    except (CheckpointError, OSError):
        return None


def finished(path: Path) -> bool:
    """Whether ``path`` holds a run that ended (converged or spent its budget)."""
    meta = _metadata(path)
    return meta is not None and meta.get("status") in FINISHED


def stage_path(runs: Path, seed: int, stage: int, stages: int) -> Path:
    """Where a seed's stage ends: ``seed-S.pt`` for the last, ``seed-S.stageK.pt`` before."""
    return runs / (f"seed-{seed}.pt" if stage == stages - 1 else f"seed-{seed}.stage{stage + 1}.pt")


def started(output: Path, previous: Path | None) -> bool:
    """Whether a stage has saved its own run: its file exists and, after the first stage, holds
    more commands than the stage it continues (a copied file that never ran does not count)."""
    meta = _metadata(output)
    if meta is None or previous is None:
        return meta is not None
    before = _metadata(previous) or {}
    return len(meta.get("commands", [])) > len(before.get("commands", []))


def continuing(args: list[str]) -> list[str]:
    """The options of a stage that also apply when an interrupted run of it is resumed: its
    budget and hardware (the rest, e.g. a learning-rate cut, was saved and must not repeat)."""
    out, i = [], 0
    while i < len(args):
        name = args[i].split("=")[0]
        width = 1 if "=" in args[i] else 2
        if name in CONTINUING:
            out += args[i:i + width]
        i += width if name in CONTINUING else 1
    return out


def stage_command(args: list[str], k: int, seed: int, output: Path, previous: Path | None
                  ) -> list[str]:
    """The ``ntm.train`` command that starts, continues or resumes stage ``k`` of a seed."""
    base = [sys.executable, "-m", "ntm.train", "--output", str(output), "--no-progress"]
    if started(output, previous):
        return [*base, *continuing(args), "--resume"]
    if k == 0:
        return [*base, *args, "--seed", str(seed), "--force"]
    shutil.copyfile(previous, output)
    return [*base, *args, "--resume"]


def train_seed(train_args: list[str], seed: int, runs: Path) -> Path:
    """Train one seed through every stage (resuming an interrupted one, skipping finished
    ones); returns its final checkpoint."""
    stages = split_stages(train_args)
    log = runs / f"seed-{seed}.log"
    for k, args in enumerate(stages):
        output = stage_path(runs, seed, k, len(stages))
        previous = stage_path(runs, seed, k - 1, len(stages)) if k else None
        if started(output, previous) and finished(output):
            continue
        if STOPPING.is_set():
            raise RuntimeError(f"seed {seed}: not started, the command was stopped")
        with log.open("a") as out:
            child = subprocess.Popen(stage_command(args, k, seed, output, previous),
                                     stdout=out, stderr=subprocess.STDOUT)
            CHILDREN.add(child)
            code = child.wait()
            CHILDREN.discard(child)
        if code != 0 or not finished(output):
            raise RuntimeError(f"seed {seed}: training stage {k + 1} did not finish "
                               f"(exit {code}); see {log}")
    return stage_path(runs, seed, len(stages) - 1, len(stages))


def evaluate_seed(path: Path, lengths: list[int] | None, sequences: int, threads: str | None
                  ) -> list[dict]:
    """``python -m ntm.evaluate`` of one seed, in its own process (so seeds are scored side by
    side); its table is kept beside the checkpoint and reused while it fits the checkpoint."""
    table = path.with_suffix(".eval.json")
    meta = _metadata(path) or {}
    try:
        done = json.loads(table.read_text())
        if (done["sequences"], done["sequences_seen"]) == (sequences, meta.get("sequences_seen")) \
                and done.get("lengths") == lengths:
            return done["rows"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    command = [sys.executable, "-m", "ntm.evaluate", "--model", str(path), "--sequences",
               str(sequences), "--seed", str(DEFAULT_SEED), "--json", str(table)]
    if lengths:
        command += ["--lengths", ",".join(map(str, lengths))]
    env = {**os.environ, **({"OMP_NUM_THREADS": threads} if threads else {})}
    if subprocess.run(command, env=env, capture_output=True, check=False).returncode != 0:
        raise RuntimeError(f"evaluating {path} failed")
    done = json.loads(table.read_text())
    table.write_text(json.dumps({**done, "lengths": lengths}, indent=1) + "\n")
    return done["rows"]


def seed_record(path: Path, rows: list[dict]) -> dict:
    """One seed's curve, table and how it was made."""
    meta = _metadata(path) or {}
    curve = [{k: p[k] for k in CURVE_FIELDS if k in p} for p in meta.get("curve") or []]
    first = next((p for p in curve if p.get("bit_errors", 1e9) < 0.1), None)
    return {
        "seed": meta.get("seed"),
        "commands": meta.get("commands", []),
        "sequences_seen": meta.get("sequences_seen"),
        "wall_time": meta.get("wall_time"),
        "status": meta.get("status"),
        "below_0.1_after": first,
        "curve": curve,
        "rows": rows,
    }


def summary(records: list[dict], measure: str = "bit_errors") -> list[dict]:
    """Per evaluation point: median, min and max of ``measure`` over the seeds."""
    out = []
    for i, row in enumerate(records[0]["rows"]):
        values = [r["rows"][i][measure] for r in records]
        point = {k: row[k] for k in size_columns(records[0]["rows"])}
        out.append({**point, "median": statistics.median(values), "min": min(values),
                    "max": max(values)})
    return out


def run(seeds: list[int], train_args: list[str], runs: Path, lengths: list[int] | None,
        sequences: int, jobs: int = 1) -> dict:
    """Train and score every seed, ``jobs`` seeds at a time, at ``lengths`` (default: the
    task's evaluation grid); the JSON document."""
    runs.mkdir(parents=True, exist_ok=True)
    first = split_stages(train_args)[0]
    threads = first[first.index("--threads") + 1] if "--threads" in first[:-1] else None

    def one(seed: int) -> dict:
        path = train_seed(train_args, seed, runs)
        return seed_record(path, evaluate_seed(path, lengths, sequences, threads))

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        records = list(pool.map(one, seeds))
    model = load_model(runs / f"seed-{seeds[0]}.pt")  # the last stage's file
    sizes = size_columns(records[0]["rows"])
    points = [{k: r[k] for k in sizes} for r in records[0]["rows"]]
    return {
        "format": FORMAT,
        "task": model.metadata.get("task"),
        "task_params": model.metadata.get("task_params"),
        "model_type": model.model_type,
        "recipe": [("python -m ntm.train " + ("--resume " if k else "") + shlex.join(args))
                   for k, args in enumerate(split_stages(train_args))],
        "evaluation": {"sequences": sequences, "seed": DEFAULT_SEED, "points": points},
        "seeds": records,
        "summary": summary(records),
    }


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def check_document(doc: object) -> dict:
    """``doc`` if it is a well-formed seeds document (as :func:`run` writes); otherwise a
    ValueError saying what is wrong. The file may be old or hand-edited: check before drawing."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"not an {FORMAT} document")
    seeds, rows = doc.get("seeds"), doc.get("summary")
    if not isinstance(seeds, list) or not seeds or not isinstance(rows, list) or not rows:
        raise ValueError("it holds no seeds or no summary")
    for row in rows:
        if not isinstance(row, dict) or not all(_number(row.get(k)) for k in ("min", "median", "max")):
            raise ValueError(f"a summary row is malformed: {row!r:.80}")
        if not row["min"] <= row["median"] <= row["max"]:
            raise ValueError(f"a summary row is not ordered min <= median <= max: {row!r:.80}")
    for rec in seeds:
        curve = rec.get("curve") if isinstance(rec, dict) else None
        if not isinstance(curve, list) or not all(
                isinstance(p, dict) and _number(p.get("sequences")) for p in curve):
            raise ValueError(f"seed {rec.get('seed') if isinstance(rec, dict) else rec!r:.40}: "
                             "its learning curve is malformed")
    return doc


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ntm.seeds", description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=_ints, default=[0, 1, 2, 3, 4], help="comma-separated seeds")
    p.add_argument("--jobs", type=int, default=1, help="seeds trained at once")
    p.add_argument("--output", type=Path, required=True, help="the JSON file to write")
    p.add_argument("--runs", type=Path, required=True, help="folder for the seeds' checkpoints")
    p.add_argument("--lengths", type=_ints, help="evaluation sizes (default: the task's grid)")
    p.add_argument("--sequences", type=int, default=1000, help="fresh sequences per size")
    p.add_argument("train_args", nargs=argparse.REMAINDER,
                   help="-- then python -m ntm.train's options, without --seed and --output; "
                   "--then starts a stage that resumes the run with more options")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    train_args = args.train_args[1:] if args.train_args[:1] == ["--"] else args.train_args
    if not args.seeds or any(a.split("=")[0] in ("--seed", "--output") for a in train_args):
        print("python -m ntm.seeds: error: give --seeds, and no --seed or --output after --",
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop)
    try:
        doc = run(args.seeds, train_args, args.runs, args.lengths, args.sequences, args.jobs)
    except RuntimeError as exc:
        print(f"python -m ntm.seeds: error: {exc}", file=sys.stderr)
        return 1
    doc["command"] = "python -m ntm.seeds " + shlex.join(sys.argv[1:] if argv is None else argv)
    args.output.write_text(json.dumps(doc, indent=1) + "\n")
    for row in doc["summary"]:
        print(row)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
