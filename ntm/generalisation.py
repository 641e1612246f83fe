"""Generalisation: train on short sequences, test on long ones (Graves et al. 2014, section 4.1).

Pure functions behind the Generalisation page: find the shipped NTM and LSTM-baseline
checkpoints and their stored evaluation tables, run a model on one sequence of a given length
(the paper's Figures 4 and 5), and re-evaluate on fresh sequences with a progress callback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import catalogue
from .evaluate import DEFAULT_SEED, evaluate, task_of
from .stepper import episode
from .tasks import Task

#: The copy models compared on the page: display name -> checkpoint file name.
COPY_MODELS = {"NTM": "copy.pt", "LSTM": "copy-lstm.pt"}
#: Every shipped model with an evaluation table: display name -> checkpoint file name.
ALL_MODELS = {
    "Copy NTM": "copy.pt",
    "Copy LSTM (no memory)": "copy-lstm.pt",
    "Repeat copy NTM": "repeat-copy.pt",
    "Associative recall NTM": "associative-recall.pt",
}
#: Lengths of the paper's Figures 4 and 5.
FIGURE_LENGTHS = (10, 20, 30, 50, 120)


def models_dir() -> Path:
    return Path(catalogue.MODELS_DIR)


def evaluation_path(checkpoint: Path) -> Path:
    """Where a checkpoint's evaluation table lives: ``<name>.eval.json`` beside it."""
    return checkpoint.with_name(checkpoint.stem + ".eval.json")


def load_evaluation(checkpoint: Path) -> list[dict]:
    """The stored evaluation rows of a checkpoint (``[]`` when there are none or they are
    unreadable). Each row has the size (``length``, ``repeats`` or ``items``), ``bit_errors``,
    ``bits_wrong_pct``, ``perfect_pct``, ``cost_bits`` and ``sequences``."""
    path = evaluation_path(checkpoint)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    rows = data.get("rows", data) if isinstance(data, dict) else data
    return [r for r in rows if isinstance(r, dict) and "bit_errors" in r] if isinstance(rows, list) else []


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


def size_key(rows: Sequence[dict]) -> str:
    """The size column of an evaluation table: ``length`` or ``items``."""
    return "items" if rows and "items" in rows[0] else "length"


def table(rows: Sequence[dict]) -> list[dict]:
    """Evaluation rows as display records with readable column names."""
    keys = [k for k in ("length", "repeats", "items") if rows and k in rows[0]]
    return [
        {**{k: r[k] for k in keys},
         "bit errors per sequence": round(r["bit_errors"], 4),
         "% bits wrong": round(r.get("bits_wrong_pct", float("nan")), 4),
         "% sequences perfect": round(r.get("perfect_pct", float("nan")), 2),
         "cost (bits per sequence)": round(r.get("cost_bits", float("nan")), 3),
         "sequences": r.get("sequences")}
        for r in rows
    ]
