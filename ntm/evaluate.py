"""Evaluate a trained model on fresh sequences: ``python -m ntm.evaluate``.

    python -m ntm.evaluate --model assets/models/copy.pt --lengths 10,20,30,50,80,120 \
        --sequences 1000 [--json result.json]

prints, per length (or number of items, or length x repeats), the mean **bit errors per
sequence**, the percentage of output bits that are wrong and the percentage of sequences
reproduced perfectly, plus the **cost in bits per sequence** -- the measures of Graves et al.
(2014), Figures 3-14. Sequences come from a seeded generator (``--seed``), so a table is
reproducible; the default seed differs from the training seeds, so the sequences are held out.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from .checkpoint import load_model
from .tasks import Task, bit_errors, cost_bits, task_of  # task_of: others import it from here

DEFAULT_SEED = 20140101  # fixed, and unlike any training seed
#: The measures of a table row; its other columns are the sizes of the point.
MEASURES = ("sequences", "bit_errors", "bits_wrong_pct", "perfect_pct", "cost_bits")


@torch.no_grad()
def evaluate_point(
    model: nn.Module,
    task: Task,
    point: dict,
    sequences: int,
    generator: torch.Generator,
    batch_size: int = 250,
    device: torch.device | str = "cpu",
) -> dict:
    """Score ``sequences`` fresh sequences of one size (``point``, e.g. ``{"length": 50}``)."""
    errors, costs, scored_bits = [], [], 0
    left = sequences
    while left > 0:
        b = min(batch_size, left)
        batch = task.batch(b, generator, **point).to(device)
        logits = model(batch.inputs)
        errors.append(bit_errors(logits, batch).cpu())
        costs.append(cost_bits(logits, batch).cpu())
        scored_bits += int(batch.mask.sum().item()) * batch.targets.shape[-1]
        left -= b
    err = torch.cat(errors)
    return {
        **point,
        "sequences": sequences,
        "bit_errors": float(err.mean()),
        "bits_wrong_pct": 100.0 * float(err.sum()) / max(scored_bits, 1),
        "perfect_pct": 100.0 * float((err == 0).float().mean()),
        "cost_bits": float(torch.cat(costs).mean()),
    }


def evaluate(
    model: nn.Module,
    task: Task,
    points: list[dict],
    sequences: int = 1000,
    seed: int = DEFAULT_SEED,
    batch_size: int = 250,
    device: torch.device | str = "cpu",
    progress: Callable[[int, int, dict], None] | None = None,
) -> list[dict]:
    """One row per point; each point gets its own seeded generator (``seed`` + index).
    ``progress(done, total, point)`` is called after each point."""
    model.eval()
    rows = []
    for i, point in enumerate(points):
        gen = torch.Generator().manual_seed(seed + i)
        rows.append(evaluate_point(model, task, point, sequences, gen, batch_size, device))
        if progress is not None:
            progress(i + 1, len(points), point)
    return rows


def held_out_score(
    model: nn.Module,
    task: Task,
    sequences: int,
    generator: torch.Generator,
    device: torch.device | str = "cpu",
    points: list[dict] | None = None,
) -> tuple[float, float]:
    """Mean bit errors and cost (bits) per sequence over the task's whole training range.

    The ``sequences`` are spread evenly over :meth:`Task.training_points` (at least one per
    point), so every training length counts equally; used for the training convergence test.
    ``points`` narrows the range (a curriculum stage).
    """
    was_training = model.training
    model.eval()
    points = points or task.training_points()
    per_point = max(1, -(-sequences // len(points)))
    errs, costs = [], []
    with torch.no_grad():
        for point in points:
            batch = task.batch(per_point, generator, **point).to(device)
            logits = model(batch.inputs)
            errs.append(bit_errors(logits, batch).mean().item())
            costs.append(cost_bits(logits, batch).mean().item())
    model.train(was_training)
    return sum(errs) / len(errs), sum(costs) / len(costs)


def size_columns(rows: list[dict]) -> list[str]:
    """The size columns of an evaluation table (``length``, ``repeats``, ``items`` ...)."""
    return [k for k in rows[0] if k not in MEASURES] if rows else []


def format_table(rows: list[dict]) -> str:
    keys = size_columns(rows)
    head = "".join(f"{k:>8}" for k in keys) + (
        f"{'sequences':>11}{'bit errors/seq':>16}{'% bits wrong':>14}{'% perfect':>11}{'cost (bits)':>13}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            "".join(f"{r[k]:>8}" for k in keys)
            + f"{r['sequences']:>11}{r['bit_errors']:>16.4f}{r['bits_wrong_pct']:>14.4f}"
            f"{r['perfect_pct']:>11.2f}{r['cost_bits']:>13.4f}"
        )
    return "\n".join(lines)


def markdown_table(rows: list[dict]) -> str:
    keys = size_columns(rows)
    head = keys + ["sequences", "bit errors / sequence", "% bits wrong", "% sequences perfect",
                   "cost (bits / sequence)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in rows:
        cells = [str(r[k]) for k in keys] + [
            str(r["sequences"]), f"{r['bit_errors']:.4f}", f"{r['bits_wrong_pct']:.4f}",
            f"{r['perfect_pct']:.2f}", f"{r['cost_bits']:.4f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: The saved training options a model card lists (so a card stays true when defaults change).
CARD_SETTINGS = ("controller", "controller_size", "memory_rows", "memory_width", "batch_size",
                 "optimizer", "lr", "momentum", "clip_grad_norm", "clip_grad_value",
                 "lr_decay_below", "lr_decay", "curriculum", "curriculum_threshold",
                 "gate_bias", "answer_write_penalty", "lstm_hidden", "lstm_layers")


def _settings_line(args: dict) -> list[str]:
    """The card's "Settings" line: the run's own options, as saved in the checkpoint."""
    if not args:
        return []
    skip = {"momentum"} if args.get("optimizer") != "rmsprop" else set()
    if args.get("model") == "lstm":
        skip |= {"controller", "controller_size", "memory_rows", "memory_width", "gate_bias",
                 "answer_write_penalty"}
    else:
        skip |= {"lstm_hidden", "lstm_layers"}
    shown = [f"`{k}={args[k]}`" for k in CARD_SETTINGS if k not in skip and args.get(k) is not None]
    return ["- Settings as saved in the checkpoint (the run's options after its last command, "
            "whatever today's defaults are): " + ", ".join(shown)]


def _origin_line(origin: object) -> list[str]:
    """The card's "Fine-tuned from" line, for a run started with ``--init-from``."""
    if not isinstance(origin, dict):
        return []
    wall = origin.get("wall_time")
    spent = f", {wall:.0f} s" if isinstance(wall, (int, float)) else ""
    return [f"- Fine-tuned: the `--init-from` command started from the weights of "
            f"`{origin.get('path')}` ({origin.get('sequences_seen')} sequences{spent} of "
            "training, by the commands above it); the sequences, steps and wall time below "
            "count the fine-tuning alone"]


def model_card(model: nn.Module, path: str, rows: list[dict], eval_command: str, notes: str = "") -> str:
    """A markdown model card: what was trained, how, for how long, and how well it does."""
    from .baseline import parameter_count

    meta = model.metadata
    curve = meta.get("curve") or []
    # curve points may lack a field (clean_metadata only checks the types of those present)
    first = next((p for p in curve if isinstance(p.get("bit_errors"), (int, float))
                  and p["bit_errors"] < 0.1), None)
    reached = (
        f"{first.get('sequences', '?')} sequences, {first.get('wall_time') or 0:.0f} s"
        if first else "never during training"
    )
    wall = meta.get("wall_time")
    lines = [
        f"# {meta.get('task', '?')}: {model.model_type.upper()} ({Path(path).name})",
        "",
        f"- Model: `{model.model_type}` {model.config.to_dict()}, "
        f"{parameter_count(model)} parameters",
        f"- Task: `{meta.get('task')}` {meta.get('task_params')}",
        "- Trained with (from the repository root):",
        "",
        *[f"      {c}" for c in meta.get("commands", [meta.get("command", "?")])],
        "",
        *_origin_line(meta.get("init_from")),
        *_settings_line(meta.get("args") or {}),
        f"- Seed: {meta.get('seed')}",
        f"- Sequences seen: {meta.get('sequences_seen')} ({meta.get('steps')} steps)",
        f"- Wall time: {wall:.0f} s on a shared 2-core CPU (other jobs ran beside it, "
        "so this is an upper bound)" if wall is not None else "- Wall time: unknown",
        f"- Held-out bit errors per sequence first below 0.1 after: {reached}",
        f"- Final held-out point: {curve[-1] if curve else 'none'}",
        "",
        "## Evaluation",
        "",
        f"    {eval_command}",
        "",
        markdown_table(rows),
        "",
    ]
    if notes:
        lines += ["## Notes", "", notes.strip(), ""]
    return "\n".join(lines)


def _ints(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from exc


def points_for(task: Task, lengths=None, repeats=None, items=None) -> list[dict]:
    """The evaluation points from the CLI lists: the product over the task's sizes of the
    values given, or else of :meth:`Task.evaluation_grid`'s. A task without a ``length`` reads
    ``--lengths`` as its first size (associative recall: items)."""
    grid = task.evaluation_grid()
    given = {"length": lengths, "repeats": repeats, "items": items}
    if "length" not in grid:
        first = next(iter(grid))
        given[first] = given.get(first) or lengths
    values = [given.get(name) or default for name, default in grid.items()]
    return [dict(zip(grid, point, strict=True)) for point in itertools.product(*values)]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ntm.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="checkpoint saved by ntm.train / ntm.save_model")
    p.add_argument(
        "--lengths", type=_ints, help="comma-separated sequence lengths (associative recall: items)"
    )
    p.add_argument(
        "--repeats",
        type=_ints,
        help="repeat copy: comma-separated repeat counts (product with --lengths)",
    )
    p.add_argument(
        "--items", type=_ints, help="associative recall: comma-separated numbers of items"
    )
    p.add_argument(
        "--sequences", type=int, default=1000, help="fresh sequences per length (default 1000)"
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the evaluation sequences"
    )
    p.add_argument("--batch-size", type=int, default=250)
    p.add_argument("--device", default="cpu", help="cpu, cuda, or auto")
    p.add_argument(
        "--json", metavar="PATH", help="also write the table (and the model's details) as JSON"
    )
    p.add_argument("--card", metavar="PATH", help="also write a markdown model card")
    p.add_argument("--notes", default="", help="text for the model card's Notes section")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model = load_model(args.model, device=device)
    task = task_of(model)
    points = points_for(task, args.lengths, args.repeats, args.items)
    rows = evaluate(model, task, points, args.sequences, args.seed, args.batch_size, device)
    meta = model.metadata
    print(f"{args.model}: {model.model_type} trained on {task.name} {task.params()}")
    print(format_table(rows))
    if args.json:
        out = {
            "model": str(args.model),
            "model_type": model.model_type,
            "task": task.name,
            "task_params": task.params(),
            "sequences_seen": meta.get("sequences_seen"),
            "seed": args.seed,
            "sequences": args.sequences,
            "rows": rows,
        }
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.json}")
    if args.card:
        command = table_command(argv if argv is not None else sys.argv[1:])
        Path(args.card).write_text(model_card(model, args.model, rows, command, args.notes))
        print(f"wrote {args.card}")
    return 0


def table_command(argv: list[str]) -> str:
    """The command line that recomputes the table: ``argv`` without ``--card`` and ``--notes``
    (and their values), which only write the card."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--card", "--notes"):
            skip = True
        elif not arg.startswith(("--card=", "--notes=")):
            kept.append(arg)
    return "python -m ntm.evaluate " + shlex.join(kept)


if __name__ == "__main__":
    sys.exit(main())
