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

from .. import limits
from .base import Batch, SizeRange, Task, randint, random_bits, register_task
from .focus import Focus, Note, moves_phrase


@register_task
@dataclass(frozen=True)
class CopyTask(Task):
    bits: int = 8
    min_length: int = 1
    max_length: int = 20

    name = "copy"

    def __post_init__(self) -> None:
        """Integers within :mod:`ntm.limits` (task parameters come from checkpoints too)."""
        limits.check_int("bits", self.bits, 1, limits.MAX_BITS)
        limits.check_int("max_length", self.max_length, 1, limits.MAX_SEQUENCE_LENGTH)
        limits.check_int("min_length", self.min_length, 1, self.max_length)

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
        return self._encoded(random_bits((length, batch_size, self.bits), generator))

    def encode(self, bits: object) -> Batch:
        """One given sequence, ``(L, bits)`` 0/1 values (the stepper's typed input), encoded as
        :meth:`batch` encodes random ones."""
        seq = torch.as_tensor(bits, dtype=torch.float32).clamp(0, 1).round()
        if seq.ndim != 2 or seq.shape[0] < 1:
            raise ValueError("type at least one row of bits")
        if seq.shape[1] != self.bits:
            raise ValueError(f"each row needs {self.bits} bits, got {seq.shape[1]}")
        return self._encoded(seq.unsqueeze(1))

    def _encoded(self, seq: torch.Tensor) -> Batch:
        """The batch that asks for a copy of ``seq``, ``(L, B, bits)``."""
        length, batch_size, _ = seq.shape
        steps = 2 * length + 1
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

    def evaluation_grid(self) -> dict[str, list[int]]:
        return {"length": [10, 20, 30, 50, 80, 120]}

    def stepper_sizes(self) -> dict[str, SizeRange]:
        return {"length": SizeRange(1, 120, min(20, self.max_length))}

    def phase(self, info: dict, inputs: object, t: int) -> str:
        length = info["length"]
        if t < length:
            return f"input: vector {t + 1} of {length}"
        if t == length:
            return "delimiter: now write the sequence back"
        return f"output: vector {t - length} of {length}"

    def narrate(self, focus: Focus) -> list[Note]:
        return copy_notes(focus)


def copy_notes(focus: Focus) -> list[Note]:
    """Copy and repeat copy: the sequence stored row by row, the read head's jump back to the
    row of the first vector, then the rows read back in order."""
    length, read = focus.info["length"], focus.read
    notes: list[Note] = []
    off, share = focus.write.typical_offset(range(1, length))
    if length > 1:
        notes.append((f"While the input arrives (steps 0–{length - 1}) the write head "
                      f"{moves_phrase(off)} on {share:.0%} of the steps, storing one vector "
                      "per memory location.", 0))
    first_row = int(focus.write.rows[0])
    back = [t for t in range(length, focus.steps) if read.rows[t] == first_row]
    if back:
        t0 = back[0]
        gate, share = float(read.gate[t0]), float(read.content_share[t0])
        how = (f", by content (g = {gate:.2f}; {share:.0%} of the new row's weight came from "
               "the content lookup)" if share > 0.5 else f" (g = {gate:.2f})")
        notes.append((f"At step {t0} the read head's focus jumps to row {first_row}, the row "
                      f"the first vector was written to — back to the start{how}.", t0))
    elif jumps := read.jumps(start=length):
        j = jumps[0]
        notes.append((f"At step {j} the read head jumps from row {read.from_rows[j]} to row "
                      f"{read.rows[j]} (g = {read.gate[j]:.2f}).", j))
    out_steps = range(length + 2, focus.steps)
    off, share = read.typical_offset(out_steps)
    if len(out_steps) > 0:
        notes.append((f"While it writes the copy back, the read head {moves_phrase(off)} on "
                      f"{share:.0%} of the output steps, reading the vectors in order.",
                      length + 1))
    if focus.writes is not None and length > 0 and focus.steps > length + 1:
        storing = float(focus.writes[:length].mean())
        answering = float(focus.writes[length + 1:].mean())
        if answering < 0.1 * storing:
            amount = "under 0.001" if answering < 1e-3 else f"{answering:.3f}"
            notes.append(("Meanwhile the write head writes almost nothing: its erase and add "
                          f"vectors are near zero (mean erase + mean add² {amount} per step, "
                          f"against {storing:.2f} while the input arrived), so the rows still "
                          "to be read stay as they were written.", length + 1))
    return notes
