"""The copy task (Graves et al. 2014, section 4.1), in the encoding fixed by the design contract.

With ``bits = 8`` and a sequence of length ``L``, the input is ``(2L + 1, B, bits + 1)``:

* rows ``0 .. L-1``: the random bit vectors in channels ``0 .. bits-1`` (delimiter channel 0);
* row ``L``: the delimiter, channel ``bits`` = 1, all bits 0;
* rows ``L+1 .. 2L``: all zero -- the network must now write the sequence back.

The target is ``(2L + 1, B, bits)``: the ``L`` bit rows placed on rows ``L+1 .. 2L`` (the only
scored rows), zero elsewhere. Training draws ``L`` uniformly from ``[min_length, max_length]``
(the paper: 1 to 20), one ``L`` per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import Batch, Task, randint, random_bits


@dataclass(frozen=True)
class CopyTask(Task):
    bits: int = 8
    min_length: int = 1
    max_length: int = 20

    name = "copy"

    def __post_init__(self) -> None:
        if self.bits < 1 or not 1 <= self.min_length <= self.max_length:
            raise ValueError(f"invalid copy task parameters: {self}")

    @property
    def input_size(self) -> int:
        return self.bits + 1

    @property
    def output_size(self) -> int:
        return self.bits

    def batch(self, batch_size: int, generator: torch.Generator, length: int = 10) -> Batch:
        """A batch of ``batch_size`` sequences of exactly ``length`` bit vectors."""
        if length < 1:
            raise ValueError(f"length must be >= 1, got {length}")
        steps = 2 * length + 1
        seq = random_bits((length, batch_size, self.bits), generator)
        inputs = torch.zeros(steps, batch_size, self.bits + 1)
        inputs[:length, :, : self.bits] = seq
        inputs[length, :, self.bits] = 1.0
        targets = torch.zeros(steps, batch_size, self.bits)
        targets[length + 1 :] = seq
        mask = torch.zeros(steps, batch_size)
        mask[length + 1 :] = 1.0
        return Batch(inputs, targets, mask, {"length": length})

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        length = randint(self.min_length, self.max_length, generator)
        return self.batch(batch_size, generator, length=length)

    def training_points(self) -> list[dict]:
        return [{"length": n} for n in range(self.min_length, self.max_length + 1)]
