"""Generalisation: train on short sequences, test on long ones (Graves et al. 2014, section 4.1).

Pure functions behind the Generalisation page: run a model on one sequence of a given length
(the paper's Figures 4 and 5), re-evaluate on fresh sequences with a progress callback, and pick
and chart the models of the other tasks. The checkpoints and their stored evaluation tables are
:mod:`ntm.catalogue`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .evaluate import DEFAULT_SEED, evaluate, size_columns
from .stepper import episode
from .tasks import Task, task_of

#: Lengths of the paper's Figures 4 and 5.
FIGURE_LENGTHS = (10, 20, 30, 50, 120)


@dataclass
class Sample:
    """One model's answer on one sequence: scored steps only, batch element 0."""

    steps: np.ndarray  #: (S,) time steps that are scored
    targets: np.ndarray  #: (S, C)
    outputs: np.ndarray  #: (S, C), sigmoid
    wrong: np.ndarray  #: (S, C) bool

    @property
    def bit_errors(self) -> int:
        return int(self.wrong.sum())


@torch.no_grad()
def sample(model: nn.Module, task: Task, seed: int, **sizes: int) -> Sample:
    """Run ``model`` on one seeded sequence (the same sequence for every model)."""
    batch = episode.random_batch(task, seed, **sizes)
    param = next(model.parameters())
    logits = model(batch.inputs.to(device=param.device, dtype=param.dtype))[:, 0].cpu()
    scored = batch.mask[:, 0] > 0
    steps = torch.nonzero(scored).flatten()
    target = batch.targets[steps, 0]
    return Sample(
        steps=steps.numpy(),
        targets=target.numpy(),
        outputs=torch.sigmoid(logits[steps]).numpy(),
        wrong=((logits[steps] > 0).float() != target).numpy(),
    )


def reevaluate(
    model: nn.Module,
    points: Sequence[dict],
    sequences: int,
    progress: Callable[[int, int, dict], None] | None = None,
    seed: int = DEFAULT_SEED,
) -> list[dict]:
    """Evaluate on ``sequences`` fresh sequences per point (same seeding as
    ``python -m ntm.evaluate``), calling ``progress(done, total, point)`` after each point."""
    device = next(model.parameters()).device
    return evaluate(model, task_of(model), list(points), sequences, seed, device=device,
                    progress=progress)


def other_tasks(models: Mapping[str, nn.Module], task: Task) -> dict[str, Task]:
    """The models trained on a task other than ``task``, with their tasks: name -> task."""
    tasks = {name: task_of(m) for name, m in models.items()}
    return {name: t for name, t in tasks.items() if t.name != task.name}


@dataclass(frozen=True)
class Chart:
    """How the page charts one task's evaluation table."""

    kind: str  #: "curve" (one size: ``error_curve``) or "heat" (two: ``evaluation_heatmap``)
    caption: str
    options: dict  #: keyword arguments of that figure builder


def chart_for(task: Task) -> Chart:
    """An error curve over a task's one size, or a heatmap over its two."""
    (x, (_, x_max)), *rest = task.training_range().items()
    if not rest:
        return Chart("curve", f"Bit errors per sequence against {x}; the shaded band is the "
                     f"training range ({x} up to {x_max}).", {"x": x, "train_max": x_max})
    (y, (_, y_max)), *_ = rest
    return Chart("heat", f"% of scored bits wrong for each {x} and {y}; the green "
                 "box is the training range, the rest is generalisation to larger sizes.",
                 {"x": x, "y": y, "train_max": (x_max, y_max)})


def table(rows: Sequence[dict]) -> list[dict]:
    """Evaluation rows as display records with readable column names."""
    keys = size_columns(list(rows))
    return [
        {**{k: r[k] for k in keys},
         "bit errors per sequence": round(r["bit_errors"], 4),
         "% bits wrong": round(r.get("bits_wrong_pct", float("nan")), 4),
         "% sequences perfect": round(r.get("perfect_pct", float("nan")), 2),
         "cost (bits per sequence)": round(r.get("cost_bits", float("nan")), 3),
         "sequences": r.get("sequences")}
        for r in rows
    ]


def seed_table(doc: Mapping) -> list[dict]:
    """An ``ntm.seeds`` document as display records: one row per size, one column per seed
    (bit errors per sequence), then the median, min and max."""
    keys = size_columns(doc["summary"])
    out = []
    for i, row in enumerate(doc["summary"]):
        record = {k: row[k] for k in keys if k not in ("median", "min", "max")}
        for rec in doc["seeds"]:
            record[f"seed {rec['seed']}"] = round(rec["rows"][i]["bit_errors"], 4)
        out.append({**record, **{k: round(row[k], 4) for k in ("median", "min", "max")}})
    return out


def seeds_line(name: str, doc: Mapping) -> str:
    """How long each seed of a recipe trained, how many learnt their training range and how
    many still make under 0.1 bit errors per sequence at the last (longest) size scored, e.g.
    "NTM, 100,000 sequences per seed: 5 of 5 seeds ended under 0.1 bit errors per sequence on
    the training lengths, 1 of 5 at length 120"."""
    finals = [rec["curve"][-1].get("bit_errors") for rec in doc["seeds"] if rec["curve"]]
    good = sum(1 for b in finals if isinstance(b, (int, float)) and b < 0.1)
    seen = [rec.get("sequences_seen") for rec in doc["seeds"]]
    budget = (f", {max(seen):,} sequences per seed" if all(isinstance(n, int) for n in seen)
              else "")
    last = doc["seeds"][0]["rows"][-1]
    where = " and ".join(f"{k} {last[k]}" for k in size_columns(doc["seeds"][0]["rows"]))
    far = sum(1 for rec in doc["seeds"] if rec["rows"][-1]["bit_errors"] < 0.1)
    n = len(doc["seeds"])
    return (f"{name}{budget}: {good} of {n} seeds ended under 0.1 bit errors per sequence on "
            f"the training lengths, {far} of {n} at {where}")


def fine_tune_note(name: str, metadata: Mapping) -> str | None:
    """For a model fine-tuned from earlier weights (``--init-from``), a sentence saying that its
    stored learning curve is of the fine-tune alone, so it starts from a trained model; else
    None."""
    start = metadata.get("init_from")
    if not isinstance(start, Mapping):
        return None
    seen = start.get("sequences_seen")
    before = f" that had already seen {seen:,} sequences" if isinstance(seen, int) else ""
    return (f"{name}'s curve is its last fine-tune alone, from weights{before}: it starts "
            "trained")
