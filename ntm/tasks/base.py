"""Shared pieces of the tasks: the :class:`Batch`, the :class:`Task` interface and the metrics.

Metrics (design contract; Graves et al. 2014 report "cost per sequence (bits)" in Figures 3-14):

* **bit errors per sequence**: output bits whose logit sign disagrees with the target
  (logit > 0 means 1), summed over the scored steps and channels of each sequence;
* **cost in bits per sequence**: binary cross-entropy of the sigmoid outputs in log base 2,
  summed the same way.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass
class Batch:
    """One batch of sequences, time-major like ``nn.LSTM``.

    ``mask[t, b] = 1`` where step ``t`` of sequence ``b`` is scored (all output channels of
    that step count); the target is zero (and unscored) elsewhere. ``info`` holds what the
    generator chose (length, repeats, items, ...).
    """

    inputs: Tensor  #: (T, B, C_in)
    targets: Tensor  #: (T, B, C_out)
    mask: Tensor  #: (T, B), float 0/1
    info: dict

    def to(self, device: torch.device | str) -> Batch:
        return Batch(
            self.inputs.to(device), self.targets.to(device), self.mask.to(device), self.info
        )

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[1]

    @property
    def scored_steps(self) -> Tensor:
        """Indices of the steps scored in sequence 0 (all sequences of a batch share them)."""
        return torch.nonzero(self.mask[:, 0] > 0).flatten()


def bit_errors(logits: Tensor, batch: Batch) -> Tensor:
    """Bit errors per sequence, ``(B,)``: ``sum over scored (t, c) of [logit > 0] != target``."""
    wrong = ((logits > 0).to(batch.targets.dtype) != batch.targets).to(logits.dtype)
    return (wrong * batch.mask.unsqueeze(-1)).sum(dim=(0, 2))


def cost_bits(logits: Tensor, batch: Batch) -> Tensor:
    """Cost in bits per sequence, ``(B,)``: binary cross-entropy in log2, summed over scored bits."""
    bce = F.binary_cross_entropy_with_logits(logits, batch.targets, reduction="none")
    return (bce * batch.mask.unsqueeze(-1)).sum(dim=(0, 2)) / math.log(2)


def masked_bce_loss(logits: Tensor, batch: Batch) -> Tensor:
    """Training loss: mean binary cross-entropy (nats) over the scored bits of the batch."""
    bce = F.binary_cross_entropy_with_logits(logits, batch.targets, reduction="none")
    mask = batch.mask.unsqueeze(-1).expand_as(bce)
    return (bce * mask).sum() / mask.sum().clamp_min(1)


def random_bits(shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
    """Independent fair coin flips (0.0 / 1.0), drawn from ``generator``."""
    return torch.randint(0, 2, shape, generator=generator).float()


def randint(low: int, high: int, generator: torch.Generator) -> int:
    """One integer uniform in ``[low, high]`` (both ends included)."""
    return int(torch.randint(low, high + 1, (1,), generator=generator))


@dataclass(frozen=True)
class Task:
    """A task: its parameters (a frozen dataclass, stored in checkpoints) and its generator.

    Subclasses define ``name``, ``input_size``, ``output_size``, :meth:`batch` (one batch with
    every free size fixed by keyword), :meth:`sample` (one training batch, sizes drawn from the
    training range) and :meth:`training_points` (the keyword sets that cover the training range,
    used for held-out evaluation).
    """

    name = "task"

    @property
    def input_size(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def output_size(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def batch(self, batch_size: int, generator: torch.Generator, **sizes) -> Batch:
        raise NotImplementedError  # pragma: no cover - abstract

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        raise NotImplementedError  # pragma: no cover - abstract

    def training_points(self) -> list[dict]:
        raise NotImplementedError  # pragma: no cover - abstract

    def curriculum(self, stages: int) -> list[list[dict]]:
        """Nested subsets of :meth:`training_points`, easiest first; the last is all of them.

        Stage ``s`` of ``stages`` keeps the points whose every size (length, repeats, items) is
        at most ``min + ceil((max - min) * s / stages)``: for copy on ``L`` in ``[1, 20]`` with 4
        stages, lengths up to 6, 11, 16 and 20. Stages that would repeat the previous one are
        dropped. Used by ``python -m ntm.train --curriculum`` (short sequences first: each
        step is cheaper and the addressing pattern is learned before the counting is).
        """
        if stages < 1:
            raise ValueError(f"stages must be >= 1, got {stages}")
        points = self.training_points()
        keys = list(points[0])
        lo = {k: min(p[k] for p in points) for k in keys}
        hi = {k: max(p[k] for p in points) for k in keys}
        out: list[list[dict]] = []
        for s in range(1, stages + 1):
            cap = {k: lo[k] + math.ceil((hi[k] - lo[k]) * s / stages) for k in keys}
            subset = [p for p in points if all(p[k] <= cap[k] for k in keys)]
            if not out or len(subset) > len(out[-1]):
                out.append(subset)
        return out

    def sample_from(self, batch_size: int, generator: torch.Generator, points: list[dict]) -> Batch:
        """A training batch whose sizes are one of ``points``, chosen uniformly."""
        return self.batch(batch_size, generator, **points[randint(0, len(points) - 1, generator)])

    def params(self) -> dict:
        """The task's parameters as plain data (what a checkpoint stores)."""
        return asdict(self)

    @classmethod
    def from_params(cls, params: dict) -> Task:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in params.items() if k in known})
