"""Shared pieces of the tasks: the :class:`Batch`, the :class:`Task` interface and the metrics.

Metrics (design contract; Graves et al. 2014 report "cost per sequence (bits)" in Figures 3-14):

* **bit errors per sequence**: output bits whose logit sign disagrees with the target
  (logit > 0 means 1), summed over the scored steps and channels of each sequence;
* **cost in bits per sequence**: binary cross-entropy of the sigmoid outputs in log base 2,
  summed the same way.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, fields
from typing import NamedTuple, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .focus import Focus, Note


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


class SizeRange(NamedTuple):
    """One free size of a task (``length``, ``repeats``, ``items`` ...) as the stepper offers it."""

    low: int
    high: int  #: the largest the stepper allows (one traced run stays well under a second)
    default: int


@dataclass(frozen=True)
class Task:
    """A task: its parameters (a frozen dataclass, stored in checkpoints), its generator, and what
    the CLIs and pages need to know about it, so that a new task is one file.

    A subclass defines ``name``, ``input_size``, ``output_size`` and :meth:`batch` (one batch
    with every free size fixed by keyword), and sets its training range with ``min_<size>`` /
    ``max_<size>`` parameters. The rest has a default that a task may refine:

    * :meth:`training_range`, :meth:`training_points`, :meth:`sample`, :meth:`curriculum`:
      what training draws;
    * :meth:`evaluation_grid`: the sizes ``python -m ntm.evaluate`` tests when given none;
    * :meth:`stepper_sizes`, :meth:`phase`, :meth:`narrate`: the Model Stepper's inputs, the
      line over its cursor, and its narrated reading of the trace;
    * :meth:`encode` (see :attr:`typed_input`): a batch from a sequence the user typed.

    :func:`register_task` makes a subclass known by its ``name``.
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

    @classmethod
    def range_parameters(cls) -> tuple[str, ...]:
        """The parameters that set the training range (``min_length``, ``max_length`` ...) in
        declaration order: what ``python -m ntm.train`` sets from ``--min-length`` and so on."""
        return tuple(f.name for f in fields(cls) if f.name.startswith(("min_", "max_")))

    def training_range(self) -> dict[str, tuple[int, int]]:
        """The sizes training draws from, ``{size: (min, max)}``: ``{"length": (1, 20)}`` for copy."""
        sizes = [p.removeprefix("min_") for p in self.range_parameters() if p.startswith("min_")]
        return {n: (getattr(self, f"min_{n}"), getattr(self, f"max_{n}")) for n in sizes}

    def training_points(self) -> list[dict]:
        """Every combination of sizes in the training range (held-out evaluation covers them)."""
        ranges = self.training_range()
        grid = itertools.product(*(range(lo, hi + 1) for lo, hi in ranges.values()))
        return [dict(zip(ranges, sizes, strict=True)) for sizes in grid]

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        """One training batch, its sizes drawn uniformly from :meth:`training_points`."""
        return self.sample_from(batch_size, generator, self.training_points())

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

    def evaluation_grid(self) -> dict[str, list[int]]:
        """The sizes ``python -m ntm.evaluate`` tests by default, ``{size: values}``; the points
        are their product. By default each size's training minimum, maximum and twice the
        maximum (generalisation is the question)."""
        return {n: sorted({lo, hi, 2 * hi}) for n, (lo, hi) in self.training_range().items()}

    def stepper_sizes(self) -> dict[str, SizeRange]:
        """The sizes a stepper user may choose; by default from the training minimum to twice
        the maximum, starting at the maximum."""
        return {n: SizeRange(lo, 2 * hi, hi) for n, (lo, hi) in self.training_range().items()}

    def phase(self, info: dict, inputs: np.ndarray, t: int) -> str:
        """What one sequence is doing at step ``t``, in words. ``inputs`` is its ``(T, C_in)``
        input, ``info`` the sizes its batch was drawn with."""
        return ""

    def narrate(self, focus: Focus) -> list[Note]:
        """Sentences about how the heads carried out this task on one sequence, each with the
        step it talks about. The stepper adds the generic ones (the bit errors)."""
        return []

    def encode(self, bits: object) -> Batch:
        """A batch of one given sequence: ``bits`` is an ``(L, self.bits)`` array of 0/1 (the
        stepper's typed input). Tasks that accept typed input override this."""
        raise NotImplementedError(f"the {self.name} task takes no typed input")

    @property
    def typed_input(self) -> bool:
        """Whether this task can :meth:`encode` a typed sequence."""
        return type(self).encode is not Task.encode

    def params(self) -> dict:
        """The task's parameters as plain data (what a checkpoint stores)."""
        return asdict(self)

    @classmethod
    def from_params(cls, params: dict) -> Task:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in params.items() if k in known})


#: Every known task by name, filled by :func:`register_task`.
TASKS: dict[str, type[Task]] = {}
T = TypeVar("T", bound=type[Task])


def register_task(cls: T) -> T:
    """Class decorator: make a task known by its ``name`` to :func:`make_task`,
    :func:`task_of`, the CLIs and the pages.

    A name already taken by another class is refused. The same class registered again is
    allowed: Streamlit's file watcher re-imports a module that changed.
    """
    known = TASKS.get(cls.name)
    if known is not None and (known.__module__, known.__qualname__) != (
        cls.__module__, cls.__qualname__
    ):
        raise ValueError(f"task name {cls.name!r} is already taken by {known.__qualname__}")
    TASKS[cls.name] = cls
    return cls


def unregister_task(name: str) -> None:
    """Forget a task (a test that registered its own task cleans up with this)."""
    TASKS.pop(name, None)


def make_task(name: str, **params) -> Task:
    """Build a task by name (``copy``, ``repeat-copy``, ``associative-recall`` ...)."""
    if not isinstance(name, str) or name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(sorted(TASKS))}")
    return TASKS[name](**params)


def task_of(model: object) -> Task:
    """The task a checkpoint was trained on, rebuilt from its metadata."""
    meta = getattr(model, "metadata", None) or {}
    if "task" not in meta:
        raise ValueError("the model's metadata names no task")
    params = meta.get("task_params", {})
    if not isinstance(params, dict):
        raise ValueError(f"the model's task_params are not a mapping: {params!r}")
    return make_task(meta["task"], **params)
