"""The repeat copy task (Graves et al. 2014, section 4.2).

"The network receives an input sequence of random binary vectors followed by a scalar value
indicating the desired number of copies, which appears on a separate input channel. To emit
the end marker at the correct time the network must be both able to interpret the extra input
and keep count of the number of copies it has performed so far."

Our exact encoding, with ``bits = 8``, sequence length ``L`` and ``n`` repeats
(``T = L + 1 + n L + 1`` steps, inputs ``bits + 2`` channels, outputs ``bits + 1``):

* input rows ``0 .. L-1``: the random bit vectors in channels ``0 .. bits-1``;
* input row ``L``: the delimiter (channel ``bits`` = 1) and, on channel ``bits + 1``, the
  number of repeats normalised to mean 0 and variance 1 over the training range:
  ``(n - mean) / std`` with the mean and standard deviation of the uniform distribution on
  ``[min_repeats, max_repeats]`` (the paper normalises the same way);
* input rows ``L+1 .. T-1``: all zero;
* target rows ``L+1 .. L+nL``: the sequence ``n`` times (end-marker channel 0); target row
  ``T-1``: the end marker alone (channel ``bits`` = 1, all bits 0). All of rows
  ``L+1 .. T-1`` are scored, every channel, so emitting the end marker early or late costs bits.

Training draws ``L`` from ``[min_length, max_length]`` and ``n`` from
``[min_repeats, max_repeats]`` (the paper: both 1 to 10), one pair per batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .. import limits
from .base import Batch, SizeRange, Task, randint, random_bits, register_task
from .copy import copy_notes
from .focus import Focus, Note


@register_task
@dataclass(frozen=True)
class RepeatCopyTask(Task):
    bits: int = 8
    min_length: int = 1
    max_length: int = 10
    min_repeats: int = 1
    max_repeats: int = 10

    name = "repeat-copy"

    def __post_init__(self) -> None:
        """Integers within :mod:`ntm.limits` (task parameters come from checkpoints too)."""
        limits.check_int("bits", self.bits, 1, limits.MAX_BITS)
        limits.check_int("max_length", self.max_length, 1, limits.MAX_SEQUENCE_LENGTH)
        limits.check_int("min_length", self.min_length, 1, self.max_length)
        limits.check_int("max_repeats", self.max_repeats, 1, limits.MAX_REPEATS)
        limits.check_int("min_repeats", self.min_repeats, 1, self.max_repeats)

    @property
    def input_size(self) -> int:
        return self.bits + 2

    @property
    def output_size(self) -> int:
        return self.bits + 1

    def normalised_repeats(self, repeats: int) -> float:
        """The repeat count as fed to the network: ``(n - mean) / std`` of the training range."""
        lo, hi = self.min_repeats, self.max_repeats
        mean = (lo + hi) / 2
        std = math.sqrt(((hi - lo + 1) ** 2 - 1) / 12) or 1.0
        return (repeats - mean) / std

    def batch(
        self, batch_size: int, generator: torch.Generator, length: int = 5, repeats: int = 5
    ) -> Batch:
        """A batch of sequences of exactly ``length`` vectors, each to be repeated ``repeats`` times."""
        if length < 1 or repeats < 1:
            raise ValueError(f"length and repeats must be >= 1, got {length}, {repeats}")
        b = self.bits
        steps = length + 1 + repeats * length + 1
        seq = random_bits((length, batch_size, b), generator)
        inputs = torch.zeros(steps, batch_size, b + 2)
        inputs[:length, :, :b] = seq
        inputs[length, :, b] = 1.0
        inputs[length, :, b + 1] = self.normalised_repeats(repeats)
        targets = torch.zeros(steps, batch_size, b + 1)
        targets[length + 1 : steps - 1, :, :b] = seq.repeat(repeats, 1, 1)
        targets[steps - 1, :, b] = 1.0
        mask = torch.zeros(steps, batch_size)
        mask[length + 1 :] = 1.0
        return Batch(inputs, targets, mask, {"length": length, "repeats": repeats})

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        length = randint(self.min_length, self.max_length, generator)
        repeats = randint(self.min_repeats, self.max_repeats, generator)
        return self.batch(batch_size, generator, length=length, repeats=repeats)

    def training_points(self) -> list[dict]:
        return [
            {"length": n, "repeats": r}
            for n in range(self.min_length, self.max_length + 1)
            for r in range(self.min_repeats, self.max_repeats + 1)
        ]

    def evaluation_grid(self) -> dict[str, list[int]]:
        return {"length": [5, 10, 20], "repeats": [5, 10, 20]}

    def stepper_sizes(self) -> dict[str, SizeRange]:
        return {"length": SizeRange(1, 20, min(5, self.max_length)),
                "repeats": SizeRange(1, 20, min(3, self.max_repeats))}

    def phase(self, info: dict, inputs: object, t: int) -> str:
        length = info["length"]
        if t < length:
            return f"input: vector {t + 1} of {length}"
        if t == length:
            return f"delimiter and repeat count ({info.get('repeats', '?')} copies)"
        k = t - length - 1
        if k < length * info.get("repeats", 0):
            return f"output: copy {k // length + 1}, vector {k % length + 1}"
        return "output: end marker"

    def narrate(self, focus: Focus) -> list[Note]:
        """The copy's story, then the jumps back before each further copy and the end marker."""
        notes = copy_notes(focus)
        length, repeats, rows = focus.info["length"], focus.info["repeats"], focus.read.rows
        first_row = int(focus.write.rows[0])
        returns = [t for t in range(length + 1, focus.steps - 1)
                   if rows[t] == first_row and rows[t - 1] != first_row]
        if returns:
            shown = ", ".join(str(t) for t in returns[:6]) + (" …" if len(returns) > 6 else "")
            notes.append((f"It jumps back to row {first_row} {len(returns)} more time"
                          f"{'s' if len(returns) != 1 else ''} (steps {shown}), once before "
                          f"each further copy; {repeats} cop"
                          f"{'ies were' if repeats != 1 else 'y was'} asked for.", returns[0]))
        end = focus.steps - 1
        marker = float(focus.outputs[end, -1])
        said = "emits" if marker > 0.5 else "misses"
        notes.append((f"At the last step ({end}) it {said} the end marker (output "
                      f"{marker:.2f}); to time it, it must count the copies it has made.", end))
        return notes
