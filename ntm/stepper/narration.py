"""The stepper's narrated reading, derived from the trace itself.

:func:`focus_moves` reads the trace the way a teacher would ("the write head moves down one
row per step; at step 21 the read head jumps back to row 3"), and :func:`describe_episode`
turns that into sentences, each with the step it talks about.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Trace
from .episode import Episode


@dataclass(frozen=True)
class FocusMove:
    """Where a head's focus (argmax row of its weighting) went at one step."""

    step: int
    head: str  #: "read" or "write"
    index: int  #: head number within its kind
    from_row: int
    to_row: int
    offset: int  #: signed circular distance, in (-N/2, N/2]
    gate: float  #: g at this step: near 1 means the jump was by content


def focus_moves(trace: Trace, b: int = 0) -> list[FocusMove]:
    """The focus of every head at every step, compared with the step before."""
    moves = []
    for kind, head in (("read", trace.read), ("write", trace.write)):
        weights = head.weights[:, b]  # (T, H, N)
        previous = head.previous[:, b]
        n = weights.shape[-1]
        for t in range(weights.shape[0]):
            for h in range(weights.shape[1]):
                a, z = int(previous[t, h].argmax()), int(weights[t, h].argmax())
                off = (z - a) % n
                off = off - n if off > n // 2 else off
                moves.append(FocusMove(t, kind, h, a, z, off, float(head.gate[t, b, h])))
    return moves


def jumps(trace: Trace, b: int = 0, min_distance: int = 2) -> list[FocusMove]:
    """Steps where a head's focus moved by ``min_distance`` rows or more (a content jump)."""
    return [m for m in focus_moves(trace, b) if abs(m.offset) >= min_distance]


def typical_offset(moves: list[FocusMove], head: str, steps: range) -> tuple[int, float]:
    """The most common focus offset of ``head`` over ``steps`` and the share of steps with it."""
    offsets = [m.offset for m in moves if m.head == head and m.index == 0 and m.step in steps]
    if not offsets:
        return 0, 0.0
    values, counts = np.unique(offsets, return_counts=True)
    i = int(counts.argmax())
    return int(values[i]), float(counts[i] / len(offsets))


def _rows(offset: int) -> str:
    """'moves down 1 row each step', in words."""
    if offset == 0:
        return "stays on the same row from one step to the next"
    direction = "down" if offset > 0 else "up"
    n = abs(offset)
    return f"moves {direction} {n} row{'s' if n > 1 else ''} each step"


def describe_episode(ep: Episode) -> list[tuple[str, int | None]]:
    """A narrated reading of what the model does, as (sentence, step to jump to or None).

    Derived from the trace itself, not written in advance: it reports what this model did on
    this sequence.
    """
    moves = focus_moves(ep.trace)
    notes: list[tuple[str, int | None]] = []
    if ep.task.name in ("copy", "repeat-copy"):
        length = ep.info["length"]
        off, share = typical_offset(moves, "write", range(1, length))
        if length > 1:
            notes.append((f"While the input arrives (steps 0–{length - 1}) the write head "
                          f"{_rows(off)} on {share:.0%} of the steps, storing one vector "
                          "per memory location.", 0))
        first_row = int(ep.trace.write.weights[0, 0, 0].argmax())
        read_rows = ep.trace.read.weights[:, 0, 0].argmax(-1)
        back = [t for t in range(length, ep.steps) if read_rows[t] == first_row]
        if back:
            t0 = back[0]
            gate = float(ep.trace.read.gate[t0, 0, 0])
            how = f", by content (g = {gate:.2f})" if gate > 0.5 else f" (g = {gate:.2f})"
            notes.append((f"At step {t0} the read head's focus jumps to row {first_row}, the row "
                          f"the first vector was written to — back to the start{how}.", t0))
        else:
            read_jumps = [m for m in moves if m.head == "read" and m.index == 0
                          and m.step >= length and abs(m.offset) >= 2]
            if read_jumps:
                j = read_jumps[0]
                notes.append((f"At step {j.step} the read head jumps from row {j.from_row} to row "
                              f"{j.to_row} (g = {j.gate:.2f}).", j.step))
        out_steps = range(length + 2, ep.steps)
        off, share = typical_offset(moves, "read", out_steps)
        if len(out_steps) > 0:
            notes.append((f"While it writes the copy back, the read head {_rows(off)} on "
                          f"{share:.0%} of the output steps, reading the vectors in order.",
                          length + 1))
        if ep.task.name == "repeat-copy":
            returns = [t for t in range(length + 1, ep.steps - 1)
                       if read_rows[t] == first_row and read_rows[t - 1] != first_row]
            repeats = ep.info["repeats"]
            if returns:
                shown = ", ".join(str(t) for t in returns[:6]) + (" …" if len(returns) > 6 else "")
                notes.append((f"It jumps back to row {first_row} {len(returns)} more time"
                              f"{'s' if len(returns) != 1 else ''} (steps {shown}), once before "
                              f"each further copy; {repeats} cop{'ies were' if repeats != 1 else 'y was'} "
                              "asked for.", returns[0]))
            end = ep.steps - 1
            marker = float(ep.outputs[end, -1])
            said = "emits" if marker > 0.5 else "misses"
            notes.append((f"At the last step ({end}) it {said} the end marker (output "
                          f"{marker:.2f}); to time it, it must count the copies it has made.",
                          end))
    else:
        notes += _recall_notes(ep, moves)
    errors = ep.bit_errors
    notes.append((f"{errors} bit error{'s' if errors != 1 else ''} on this sequence "
                  f"(cost {ep.cost_bits:.2f} bits).", None))
    return notes


def _recall_notes(ep: Episode, moves: list[FocusMove]) -> list[tuple[str, int | None]]:
    """Associative recall: where the items went, the lookup jump, and where the answer is read.

    The layout follows :class:`~ntm.tasks.AssociativeRecallTask`: item ``j`` is a delimiter at
    step ``(L+1) j`` followed by its ``L`` vectors; then the query and the ``L`` answer steps.
    """
    notes: list[tuple[str, int | None]] = []
    k, q, size = ep.info["items"], ep.info["query"], ep.task.item_length
    stride = size + 1
    off, share = typical_offset(moves, "write", range(1, k * stride))
    notes.append((f"While the {k} items arrive (steps 0–{k * stride - 1}) the write head "
                  f"{_rows(off)} on {share:.0%} of the steps, so each item's vectors lie in "
                  "consecutive rows.", 0))
    big = [m for m in jumps(ep.trace) if m.head == "read" and m.index == 0]
    if big:
        last = big[-1]
        notes.append((f"At step {last.step} the read head jumps from row {last.from_row} to row "
                      f"{last.to_row}: it found the queried item (item {q + 1} of {k}) by content "
                      "and moves on to the item stored after it.", last.step))
    write_rows = ep.trace.write.weights[:, 0, 0].argmax(-1)
    read_rows = ep.trace.read.weights[:, 0, 0].argmax(-1)
    stored = [int(write_rows[(q + 1) * stride + 1 + v]) for v in range(size)]
    answer = range(ep.steps - size, ep.steps)
    read = [int(read_rows[t]) for t in answer]
    first = (q + 1) * stride + 1
    notes.append((f"On the answer steps ({answer[0]}–{answer[-1]}) the read head is on rows "
                  f"{', '.join(map(str, read))}; item {q + 2}, the answer, was written to rows "
                  f"{', '.join(map(str, stored))} (steps {first}–{first + size - 1}).",
                  answer[0]))
    return notes
