"""The shipped models: where they live, their menu names, and loading one for the stepper.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from .checkpoint import CheckpointError, load_model
from .evaluate import task_of
from .model import NTM

#: Where the shipped checkpoints live (``NTM_MODELS_DIR`` overrides it, e.g. in tests).

#: Where the shipped checkpoints live (``NTM_MODELS_DIR`` overrides it, e.g. in tests).
MODELS_DIR = Path(os.environ.get("NTM_MODELS_DIR") or Path(__file__).resolve().parents[1] / "assets" / "models")


#: Display names of the shipped models, in menu order.
SHIPPED = {
    "copy": "Copy (NTM)",
    "repeat-copy": "Repeat copy (NTM)",
    "associative-recall": "Associative recall (NTM)",
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
