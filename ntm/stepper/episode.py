"""One recorded run of a trained model on one sequence: what the Model Stepper page steps through.

An :class:`Episode` bundles the task's input, target and scored steps with the model's
:class:`~ntm.model.Trace`, as plain numpy arrays for batch element 0; :func:`focus_window`
picks the memory rows worth drawing. No Streamlit here: the page calls these functions and
caches nothing mutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..figures.style import as_array
from ..model import NTM, Trace
from ..tasks import Batch, Task

#: Longest input the stepper accepts, per size argument (keeps one run well under a second).
SIZE_LIMITS = {"length": 120, "repeats": 20, "items": 20}


def size_arguments(task: Task) -> dict[str, tuple[int, int, int]]:
    """The task's free sizes with (minimum, maximum allowed here, default)."""
    if task.name == "copy":
        return {"length": (1, SIZE_LIMITS["length"], min(20, task.max_length))}
    if task.name == "repeat-copy":
        return {
            "length": (1, 20, min(5, task.max_length)),
            "repeats": (1, SIZE_LIMITS["repeats"], min(3, task.max_repeats)),
        }
    if task.name == "associative-recall":
        return {"items": (2, SIZE_LIMITS["items"], min(6, task.max_items))}
    raise ValueError(f"no stepper sizes for task {task.name!r}")


def training_range(task: Task) -> dict[str, tuple[int, int]]:
    """The sizes the model saw in training (to flag inputs beyond it)."""
    ranges = {}
    for name in ("length", "repeats", "items"):
        lo, hi = getattr(task, f"min_{name}", None), getattr(task, f"max_{name}", None)
        if lo is not None:
            ranges[name] = (lo, hi)
    return ranges


def random_batch(task: Task, seed: int, **sizes: int) -> Batch:
    """One sequence (batch of 1) of the given sizes, reproducible from ``seed``."""
    return task.batch(1, torch.Generator().manual_seed(int(seed)), **sizes)


def copy_batch(bits: np.ndarray) -> Batch:
    """A copy-task sequence from a user-typed ``(L, 8)`` 0/1 matrix (DESIGN.md's encoding)."""
    seq = torch.as_tensor(np.asarray(bits, dtype=np.float32)).clamp(0, 1).round()
    if seq.ndim != 2 or seq.shape[0] < 1:
        raise ValueError("type at least one row of bits")
    length, width = seq.shape
    steps = 2 * length + 1
    inputs = torch.zeros(steps, 1, width + 1)
    inputs[:length, 0, :width] = seq
    inputs[length, 0, width] = 1.0
    targets = torch.zeros(steps, 1, width)
    targets[length + 1 :, 0] = seq
    mask = torch.zeros(steps, 1)
    mask[length + 1 :] = 1.0
    return Batch(inputs, targets, mask, {"length": length})


@dataclass
class Episode:
    """A model's run on one sequence (batch element 0), ready for the figures."""

    task: Task
    inputs: np.ndarray  #: (T, C_in)
    targets: np.ndarray  #: (T, C_out)
    scored: np.ndarray  #: (T,) bool: steps whose output is scored
    trace: Trace
    info: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return self.inputs.shape[0]

    @property
    def outputs(self) -> np.ndarray:
        """sigmoid(logits), (T, C_out)."""
        return self.trace.outputs[:, 0]

    @property
    def predicted(self) -> np.ndarray:
        """Output bits (logit > 0), (T, C_out)."""
        return (self.trace.logits[:, 0] > 0).astype(np.float32)

    @property
    def wrong(self) -> np.ndarray:
        """(T, C_out) bool: scored bits the model got wrong."""
        return (self.predicted != self.targets) & self.scored[:, None]

    @property
    def bit_errors(self) -> int:
        """Bit errors per sequence (the design contract's metric)."""
        return int(self.wrong.sum())

    @property
    def cost_bits(self) -> float:
        """Cost in bits per sequence: binary cross-entropy in log2 over the scored bits."""
        logits = torch.from_numpy(self.trace.logits[:, 0]).double()
        target = torch.from_numpy(self.targets).double()
        bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        return float((bce * torch.from_numpy(self.scored)[:, None]).sum() / np.log(2))

    def grid_rows(self) -> list[int]:
        """The memory rows the whole-episode figure zooms onto: where the first read and write
        heads focus (see :func:`focus_window`)."""
        tr = self.trace
        return focus_window(np.concatenate([tr.write.weights[:, 0, 0], tr.read.weights[:, 0, 0]]))

    def phase(self, t: int) -> str:
        """What the sequence is doing at step ``t``, in words."""
        return phase_label(self.task, self.info, self.inputs, t)


def phase_label(task: Task, info: dict, inputs: np.ndarray, t: int) -> str:
    if task.name == "copy":
        length = info["length"]
        if t < length:
            return f"input: vector {t + 1} of {length}"
        if t == length:
            return "delimiter: now write the sequence back"
        return f"output: vector {t - length} of {length}"
    if task.name == "repeat-copy":
        length = info["length"]
        if t < length:
            return f"input: vector {t + 1} of {length}"
        if t == length:
            return f"delimiter and repeat count ({info.get('repeats', '?')} copies)"
        k = t - length - 1
        if k < length * info.get("repeats", 0):
            return f"output: copy {k // length + 1}, vector {k % length + 1}"
        return "output: end marker"
    if task.name == "associative-recall":
        bits = task.bits
        row = inputs[t]
        if row[bits] > 0.5:
            return "item delimiter"
        if row[bits + 1] > 0.5:
            return "query delimiter"
        if row[:bits].any():
            return "item or query vector"
        return "output: recall the item after the query"
    return ""


@torch.no_grad()
def run_episode(model: NTM, task: Task, batch: Batch) -> Episode:
    """Trace ``model`` on sequence 0 of ``batch``; never changes the model (no state on it)."""
    device = next(model.parameters()).device
    x = batch.inputs[:, :1].to(device=device, dtype=next(model.parameters()).dtype)
    trace = model.trace(x)
    return Episode(
        task=task,
        inputs=batch.inputs[:, 0].numpy(),
        targets=batch.targets[:, 0].numpy(),
        scored=(batch.mask[:, 0] > 0).numpy(),
        trace=trace,
        info={k: (v[0] if isinstance(v, list) else v) for k, v in batch.info.items()},
    )


def focus_window(weights: Any, threshold: float = 0.1, margin: int = 2, min_rows: int = 10
                 ) -> list[int]:
    """The memory rows a head focuses on, as one circular window.

    A row counts when, at some step, it carries more than ``threshold`` weight and at least
    half of that step's peak weight: a blurred step (a learned initial weighting spread over
    a few far-apart rows, say) does not stretch the window over rows nothing happens in.
    ``weights`` is ``(T, N)`` (stack several heads' weightings along T to cover them all).
    Memory is circular, so a model that writes rows 110..127 and then 0..5 gets the window
    ``[108, ..., 127, 0, ..., 7]``, in that order. Used to zoom whole-episode plots onto the rows
    a model actually uses, as the paper's Figure 6 does.
    """
    w = as_array(weights)
    n = w.shape[1]
    strong = (w > threshold) & (w >= 0.5 * w.max(axis=1, keepdims=True))
    used = np.flatnonzero(strong.any(axis=0))
    if used.size == 0:
        return list(range(n))
    gaps = np.diff(np.append(used, used[0] + n))  # circular gaps between used rows
    k = int(gaps.argmax())
    start = int(used[(k + 1) % used.size])
    length = (int(used[k]) - start) % n + 1
    length = max(length + 2 * margin, min_rows)
    if length >= n:
        return list(range(n))
    start -= (length - ((int(used[k]) - start) % n + 1)) // 2
    return [(start + i) % n for i in range(length)]

