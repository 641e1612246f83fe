"""The shipped models: where they live, their names, their stored evaluations, loading one for
the stepper, its model card as plain data, the warnings to show about a loaded model, and whether
an episode of it is small enough to step on this server.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from . import limits
from .checkpoint import CheckpointError, load_model
from .model import NTM
from .tasks import task_of

#: Where the shipped checkpoints live (``NTM_MODELS_DIR`` overrides it, e.g. in tests).
MODELS_DIR = Path(os.environ.get("NTM_MODELS_DIR") or Path(__file__).resolve().parents[1] / "assets" / "models")


#: Display names of the shipped NTMs the stepper offers, in menu order (file ``<key>.pt``).
SHIPPED = {
    "copy": "Copy (NTM)",
    "repeat-copy": "Repeat copy (NTM)",
    "associative-recall": "Associative recall (NTM)",
}


#: The Generalisation page's comparison on the copy task: display name -> checkpoint file.
COPY_MODELS = {"NTM": "copy.pt", "LSTM": "copy-lstm.pt"}
#: Every shipped model with an evaluation table: display name -> checkpoint file.
ALL_MODELS = {
    "Copy NTM": "copy.pt",
    "Copy LSTM (no memory)": "copy-lstm.pt",
    "Repeat copy NTM": "repeat-copy.pt",
    "Associative recall NTM": "associative-recall.pt",
}


@dataclass(frozen=True)
class ModelEntry:
    """A checkpoint the user can pick."""

    key: str  #: short name, used in the URL (``copy``, ``repeat-copy`` ...)
    label: str
    path: Path


def shipped_models(directory: Path | None = None) -> list[ModelEntry]:
    """The shipped NTM checkpoints that exist on disk, in menu order."""
    directory = Path(directory or MODELS_DIR)
    found = []
    for key, label in SHIPPED.items():
        path = directory / f"{key}.pt"
        if path.is_file():
            found.append(ModelEntry(key, label, path))
    return found


def load_ntm(path: str | Path, device: str | torch.device | None = None) -> NTM:
    """Load a checkpoint for stepping: it must be an NTM (not the memory-less baseline)
    trained on a known task."""
    model = load_model(path, device=device)
    if not isinstance(model, NTM):
        raise CheckpointError(f"{path}: this is an LSTM baseline; it has no memory to step through")
    try:
        task = task_of(model)
    except (CheckpointError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    if (task.input_size, task.output_size) != (model.config.input_size, model.config.output_size):
        raise CheckpointError(
            f"{path}: the model's {model.config.input_size} inputs / {model.config.output_size} "
            f"outputs do not fit the {task.name} task"
        )
    return model


def available(files: Mapping[str, str], directory: Path | None = None) -> dict[str, Path]:
    """The named checkpoints (name -> file name) that exist on disk, as name -> path."""
    directory = Path(directory or MODELS_DIR)
    return {name: directory / f for name, f in files.items() if (directory / f).is_file()}


def evaluation_path(checkpoint: Path) -> Path:
    """Where a checkpoint's evaluation table lives: ``<name>.eval.json`` beside it."""
    return checkpoint.with_name(checkpoint.stem + ".eval.json")


def load_evaluation(checkpoint: Path) -> list[dict]:
    """The stored evaluation rows of a checkpoint (``[]`` when there are none or they are
    unreadable). Each row has the sizes (``length``, ``repeats``, ``items`` ...), ``bit_errors``,
    ``bits_wrong_pct``, ``perfect_pct``, ``cost_bits`` and ``sequences``."""
    path = evaluation_path(checkpoint)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    rows = data.get("rows", data) if isinstance(data, dict) else data
    return [r for r in rows if isinstance(r, dict) and "bit_errors" in r] if isinstance(rows, list) else []


#: The seeds of the copy recipes (``python -m ntm.seeds``): display name -> file.
COPY_SEEDS = {"NTM": "copy.seeds.json", "LSTM": "copy-lstm.seeds.json"}


def load_seeds(files: Mapping[str, str], directory: Path | None = None
               ) -> tuple[dict[str, dict], list[str]]:
    """The seeds documents that exist and are well formed (name -> document), and one line per
    file that exists but cannot be used."""
    from .seeds import check_document

    directory = Path(directory or MODELS_DIR)
    docs, problems = {}, []
    for name, file in files.items():
        path = directory / file
        if not path.is_file():
            continue
        try:
            docs[name] = check_document(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            problems.append(f"{file}: {exc}")
    return docs, problems


# ------------------------------------------------------------------------------ model cards

UNKNOWN = "unknown"


@dataclass(frozen=True)
class ModelCard:
    """A model's card as the stepper shows it. Metadata comes from a file that may be old, hand
    edited or uploaded, so a fact that is missing or of the wrong type reads "unknown"."""

    task: str
    metrics: dict[str, str]  #: label -> value, in display order
    final_bit_errors: float | None  #: held-out bit errors per sequence when training ended
    lines: list[str]  #: the final error; training range, heads and command

    @property
    def learned(self) -> bool:
        """False when training ended at one bit error per sequence or more."""
        return self.final_bit_errors is None or self.final_bit_errors < 1


def _number(value: object) -> float | None:
    """A finite int or float (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        return None
    return number if math.isfinite(number) else None


def _final_bit_errors(curve: object) -> float | None:
    """The last point of a training curve, if the curve is a list ending in a point."""
    if isinstance(curve, list) and curve and isinstance(curve[-1], dict):
        return _number(curve[-1].get("bit_errors"))
    return None


def model_card(model: NTM) -> ModelCard:
    """The facts of a loaded NTM's card: its size, controller, training and command."""
    meta = model.metadata if isinstance(model.metadata, dict) else {}
    c = model.config
    seen, wall = _number(meta.get("sequences_seen")), _number(meta.get("wall_time"))
    final = _final_bit_errors(meta.get("curve"))
    try:
        task = task_of(model)
    except (ValueError, TypeError):
        task = None
    trained = [f"{k} {lo}–{hi}" for k, (lo, hi) in task.training_range().items()] if task else []
    command = meta.get("command")
    details = [
        "Trained on " + (", ".join(trained) or f"{UNKNOWN} sizes"),
        f"{c.read_heads} read / {c.write_heads} write head(s)",
        f"shift range ±{c.shift_range}",
        *([f"command: `{command.replace('`', chr(39))}`"] if isinstance(command, str) and command
          else []),
    ]
    return ModelCard(
        task=task.name if task else UNKNOWN,
        metrics={
            "Memory N × M": f"{c.memory_rows} × {c.memory_width}",
            "Controller": f"{c.controller.upper()} {c.controller_size}",
            "Sequences seen": f"{seen:,.0f}" if seen is not None else UNKNOWN,
            "Training time": f"{wall / 60:.1f} min" if wall is not None else UNKNOWN,
        },
        final_bit_errors=final,
        lines=["Final held-out bit errors per sequence: "
               + (f"{final:.3f}" if final is not None else UNKNOWN), " · ".join(details)],
    )


# ------------------------------------------------------------------------- loading warnings


def _names(value: object) -> list[str]:
    """A list of names as set by :func:`ntm.checkpoint.load_model` (anything else: none)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list | tuple) else []


def _listed(names: list[str], most: int = 5) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def load_warnings(model: object) -> list[str]:
    """Plain-language warnings about a loaded model, one sentence each (``[]`` when all is well).

    They cover the weights that hold NaN or infinity (``model.nonfinite_weights``) and the
    metadata fields that were malformed and replaced (``model.metadata_problems``), both set by
    :func:`ntm.checkpoint.load_model`. The names in them are parameter and metadata-field names
    the loader checked, never free text from the file.
    """
    warnings = []
    bad = _names(getattr(model, "nonfinite_weights", []))
    if bad:
        warnings.append(
            f"This model has weights that are NaN or infinite (in {_listed(bad)}), so its outputs "
            "and costs are NaN or meaningless: its training probably diverged. Retrain it, for "
            "example with a lower learning rate."
        )
    problems = _names(getattr(model, "metadata_problems", []))
    if problems:
        warnings.append(
            f"Some facts in this checkpoint's metadata were malformed and are shown as "
            f"{UNKNOWN}: {_listed(problems)}."
        )
    return warnings


# --------------------------------------------------------------------------- episode size


class EpisodeTooLarge(CheckpointError):
    """An episode of this model would record more than :data:`ntm.limits.MAX_EPISODE_VALUES`."""


#: Weightings each head records per step and memory row: content, gated, shifted, final and
#: previous (``ntm.model.HeadTrace``).
WEIGHTINGS_PER_HEAD = 5


def episode_values(model: NTM, steps: int) -> int:
    """How many values an episode of ``steps`` steps records: the memory after every step and
    each head's addressing stages, ``steps x rows x (width + 5 x heads)``."""
    c = model.config
    heads = c.read_heads + c.write_heads
    return int(steps) * c.memory_rows * (c.memory_width + WEIGHTINGS_PER_HEAD * heads)


def max_episode_steps(model: NTM) -> int:
    """The longest episode of ``model`` this server steps (see :func:`check_episode_size`)."""
    return limits.MAX_EPISODE_VALUES // max(1, episode_values(model, 1))


def check_episode_size(model: NTM, steps: int) -> None:
    """Raise :class:`EpisodeTooLarge` (a :class:`CheckpointError`) with a message for the user
    if an episode of ``steps`` steps is too large to step here (call it before running one)."""
    values = episode_values(model, steps)
    if values <= limits.MAX_EPISODE_VALUES:
        return
    c, longest = model.config, max_episode_steps(model)
    heads = c.read_heads + c.write_heads
    shorter = (f"Choose a sequence of at most {longest:,} steps" if longest
               else "No sequence of this model fits")
    raise EpisodeTooLarge(
        f"This model's memory ({c.memory_rows} × {c.memory_width}, {heads} heads) over {steps:,} "
        f"steps is too large to step here: the episode would record {values:,} values, more than "
        f"the {limits.MAX_EPISODE_VALUES:,} this server allows. {shorter}, or step it on your own "
        "machine with `ntm.load_model(path).trace(inputs)`."
    )
