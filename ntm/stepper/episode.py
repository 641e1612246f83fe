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


def random_batch(task: Task, seed: int, **sizes: int) -> Batch:
    """One sequence (batch of 1) of the given sizes, reproducible from ``seed``."""
    return task.batch(1, torch.Generator().manual_seed(int(seed)), **sizes)


def typed_batch(task: Task, bits: Any) -> Batch:
    """The sequence a user typed, ``(L, bits)`` 0/1 values, cut to the longest the stepper
    allows for this task."""
    longest = min(size.high for size in task.stepper_sizes().values())
    return task.encode(np.asarray(bits)[:longest])


def beyond_training(task: Task, sizes: dict[str, int]) -> list[str]:
    """The chosen sizes above the training range, as ``"length = 50"`` (a generalisation test)."""
    ranges = task.training_range()
    return [f"{k} = {v}" for k, v in sizes.items() if k in ranges and v > ranges[k][1]]


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

    def head_rows(self) -> list[int]:
        """The memory rows the per-head figures zoom onto: where any head focuses."""
        tr = self.trace
        n = tr.memory.shape[2]
        return focus_window(np.concatenate([tr.write.weights[:, 0].reshape(-1, n),
                                            tr.read.weights[:, 0].reshape(-1, n)]))

    def step_text(self, t: int) -> str:
        """Step ``t``'s input bits and, where scored, its target and output bits (markdown)."""
        def bits(row: np.ndarray) -> str:
            return "".join(str(int(v)) for v in row)

        lines = [f"- input: `{bits(self.inputs[t])}`"]
        if self.scored[t]:
            lines += [f"- target: `{bits(self.targets[t])}`",
                      f"- output: `{bits(self.predicted[t])}` ({int(self.wrong[t].sum())} wrong)"]
        else:
            lines.append("- output not scored at this step")
        return "\n".join(lines)

    def phase(self, t: int) -> str:
        """What the sequence is doing at step ``t``, in words."""
        return self.task.phase(self.info, self.inputs, t)


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

