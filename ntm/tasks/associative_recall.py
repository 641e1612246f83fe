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

import numpy as np
import torch

from .. import limits
from .base import Batch, SizeRange, Task, randint, random_bits, register_task
from .focus import Focus, Note, moves_phrase


@register_task
@dataclass(frozen=True)
class AssociativeRecallTask(Task):
    bits: int = 6
    item_length: int = 3
    min_items: int = 2
    max_items: int = 6

    name = "associative-recall"

    def __post_init__(self) -> None:
        """Integers within :mod:`ntm.limits` (task parameters come from checkpoints too)."""
        limits.check_int("bits", self.bits, 1, limits.MAX_BITS)
        limits.check_int("item_length", self.item_length, 1, limits.MAX_ITEM_LENGTH)
        limits.check_int("max_items", self.max_items, 2, limits.MAX_ITEMS)
        limits.check_int("min_items", self.min_items, 2, self.max_items)

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

    def evaluation_grid(self) -> dict[str, list[int]]:
        return {"items": [2, 6, 10, 15, 20]}

    def stepper_sizes(self) -> dict[str, SizeRange]:
        return {"items": SizeRange(2, 20, min(6, self.max_items))}

    def phase(self, info: dict, inputs: np.ndarray, t: int) -> str:
        row, b = inputs[t], self.bits
        if row[b] > 0.5:
            return "item delimiter"
        if row[b + 1] > 0.5:
            return "query delimiter"
        if row[:b].any():
            return "item or query vector"
        return "output: recall the item after the query"

    def narrate(self, focus: Focus) -> list[Note]:
        """Where the items went, the lookup jump, and where the answer is read (item ``j`` is a
        delimiter at step ``(L+1) j`` and its ``L`` vectors; the answer is the last ``L`` steps)."""
        k, q, size = focus.info["items"], focus.info["query"], self.item_length
        stride = size + 1
        off, share = focus.write.typical_offset(range(1, k * stride))
        notes: list[Note] = [(f"While the {k} items arrive (steps 0–{k * stride - 1}) the write "
                              f"head {moves_phrase(off)} on {share:.0%} of the steps, so each "
                              "item's vectors lie in consecutive rows.", 0)]
        read = focus.read
        if jumps := read.jumps():
            t = jumps[-1]
            notes.append((f"At step {t} the read head jumps from row {read.from_rows[t]} to row "
                          f"{read.rows[t]}: it found the queried item (item {q + 1} of {k}) by "
                          "content and moves on to the item stored after it.", t))
        first = (q + 1) * stride + 1
        stored = [int(focus.write.rows[first + v]) for v in range(size)]
        answer = range(focus.steps - size, focus.steps)
        rows = [int(read.rows[t]) for t in answer]
        notes.append((f"On the answer steps ({answer[0]}–{answer[-1]}) the read head is on rows "
                      f"{', '.join(map(str, rows))}; item {q + 2}, the answer, was written to rows "
                      f"{', '.join(map(str, stored))} (steps {first}–{first + size - 1}).",
                      answer[0]))
        return notes
