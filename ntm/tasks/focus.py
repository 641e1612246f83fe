"""Where a model's heads looked on one sequence, as plain arrays: what a task's narration reads.

The stepper (:mod:`ntm.stepper.narration`) builds a :class:`Focus` from a model's trace; each
task's :meth:`~ntm.tasks.base.Task.narrate` turns it into sentences about its own algorithm. The
type lives here, beside the tasks, so that a task never imports the stepper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: One narrated sentence and the time step it talks about (``None``: the whole sequence).
Note = tuple[str, int | None]


@dataclass(frozen=True)
class HeadFocus:
    """One head's focus (the argmax row of its weighting) at every step of one sequence."""

    rows: np.ndarray  #: (T,) int: the focus after step t's addressing
    from_rows: np.ndarray  #: (T,) int: the focus of the previous weighting (eq 7's w_{t-1})
    offsets: np.ndarray  #: (T,) int: signed circular move from ``from_rows``, in (-N/2, N/2]
    gate: np.ndarray  #: (T,) float: the interpolation gate g
    #: (T,) float: of the weight eq. 7 gave the new focus row i, the share that came from the
    #: content weighting, ``g w^c(i) / (g w^c(i) + (1 - g) w_{t-1}(i))``. Above 0.5 the head
    #: got there by content. A small g can still land by content when the old focus was spread
    #: thin, and a large one by location when the content weighting lies elsewhere.
    content_share: np.ndarray

    @classmethod
    def of(cls, weights: np.ndarray, previous: np.ndarray, gate: np.ndarray,
           content: np.ndarray) -> HeadFocus:
        """From a head's ``(T, N)`` weightings, previous weightings (eq 7's ``w_{t-1}``) and
        content weightings (eq 5), and its ``(T,)`` gates."""
        n = weights.shape[-1]
        rows, from_rows = weights.argmax(-1), previous.argmax(-1)
        offsets = (rows - from_rows) % n
        offsets = np.where(offsets > n // 2, offsets - n, offsets)
        gate = np.asarray(gate, dtype=float)
        at = np.arange(len(rows))
        by_content = gate * content[at, rows]
        by_location = (1 - gate) * previous[at, rows]
        share = by_content / np.maximum(by_content + by_location, 1e-30)
        return cls(rows, from_rows, offsets, gate, share)

    def typical_offset(self, steps: range) -> tuple[int, float]:
        """The most common offset over ``steps`` and the share of those steps that have it."""
        offsets = [int(self.offsets[t]) for t in steps if 0 <= t < len(self.offsets)]
        if not offsets:
            return 0, 0.0
        values, counts = np.unique(offsets, return_counts=True)
        i = int(counts.argmax())
        return int(values[i]), float(counts[i] / len(offsets))

    def jumps(self, min_distance: int = 2, start: int = 0) -> list[int]:
        """The steps from ``start`` on where the focus moved ``min_distance`` rows or more."""
        return [t for t in range(start, len(self.offsets)) if abs(self.offsets[t]) >= min_distance]


@dataclass(frozen=True)
class Focus:
    """The first read and first write head on one sequence, with what the generator chose."""

    info: dict  #: the batch's sizes (``length``, ``repeats``, ``items``, ``query`` ...)
    steps: int
    read: HeadFocus
    write: HeadFocus
    outputs: np.ndarray  #: (T, C_out) sigmoid outputs
    #: (T,) how hard the first write head writes: mean erase + mean add² (what
    #: ``--answer-write-penalty`` trains down on the answer steps); None when not traced
    writes: np.ndarray | None = None


def moves_phrase(offset: int) -> str:
    """A typical offset in words: 'moves down 1 row each step'."""
    if offset == 0:
        return "stays on the same row from one step to the next"
    direction = "down" if offset > 0 else "up"
    n = abs(offset)
    return f"moves {direction} {n} row{'s' if n > 1 else ''} each step"
