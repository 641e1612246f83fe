"""The associative recall task (Graves et al. 2014, section 4.3).

"We define an item as a sequence of binary vectors that is bounded on the left and right by
delimiter symbols. After several items have been propagated to the network, we query by showing
a random item, and we ask the network to produce the next item."

Our exact encoding, with ``bits = 6``, ``item_length = 3`` vectors per item and ``k`` items
(inputs ``bits + 2`` channels, outputs ``bits``; ``T = 4k + 5 + 3`` steps for the defaults):

* for each item ``j = 0 .. k-1``: one delimiter row (channel ``bits`` = 1), then the
  ``item_length`` rows of the item's bits (channels ``0 .. bits-1``);
* the query: one query-delimiter row (channel ``bits + 1`` = 1), the ``item_length`` rows of a
  copy of item ``q`` (``q`` uniform in ``0 .. k-2``, so a next item exists), and a closing
  query-delimiter row (channel ``bits + 1`` = 1);
* then ``item_length`` all-zero rows, on which the target is item ``q + 1``: the only scored
  rows.

Training draws ``k`` from ``[min_items, max_items]`` (the paper: 2 to 6), one ``k`` per batch.
Items are independent random vectors; with ``6 x 3 = 18`` bits, two equal items (which would
make the answer ambiguous) are rare enough to ignore.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import Batch, Task, randint, random_bits


@dataclass(frozen=True)
class AssociativeRecallTask(Task):
    bits: int = 6
    item_length: int = 3
    min_items: int = 2
    max_items: int = 6

    name = "associative-recall"

    def __post_init__(self) -> None:
        if self.bits < 1 or self.item_length < 1 or not 2 <= self.min_items <= self.max_items:
            raise ValueError(f"invalid associative recall task parameters: {self}")

    @property
    def input_size(self) -> int:
        return self.bits + 2

    @property
    def output_size(self) -> int:
        return self.bits

    def batch(self, batch_size: int, generator: torch.Generator, items: int = 4) -> Batch:
        """A batch of sequences of exactly ``items`` items; the query differs per sequence."""
        if items < 2:
            raise ValueError(f"associative recall needs at least 2 items, got {items}")
        b, n = self.bits, self.item_length
        stride = n + 1
        data = random_bits((items, n, batch_size, b), generator)
        query = torch.randint(0, items - 1, (batch_size,), generator=generator)
        answer_start = items * stride + n + 2
        steps = answer_start + n
        inputs = torch.zeros(steps, batch_size, b + 2)
        for j in range(items):
            inputs[j * stride, :, b] = 1.0
            inputs[j * stride + 1 : (j + 1) * stride, :, :b] = data[j]
        cols = torch.arange(batch_size)
        q0 = items * stride
        inputs[q0, :, b + 1] = 1.0
        inputs[q0 + 1 : q0 + 1 + n, :, :b] = data[query, :, cols].transpose(0, 1)
        inputs[q0 + 1 + n, :, b + 1] = 1.0
        targets = torch.zeros(steps, batch_size, b)
        targets[answer_start:] = data[query + 1, :, cols].transpose(0, 1)
        mask = torch.zeros(steps, batch_size)
        mask[answer_start:] = 1.0
        return Batch(inputs, targets, mask, {"items": items, "query": query.tolist()})

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        return self.batch(
            batch_size, generator, items=randint(self.min_items, self.max_items, generator)
        )

    def training_points(self) -> list[dict]:
        return [{"items": k} for k in range(self.min_items, self.max_items + 1)]
