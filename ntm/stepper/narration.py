"""The stepper's narrated reading, derived from the trace itself.

:func:`focus` reads where the first read and write heads looked at every step; the task turns
that into sentences about its own algorithm (:meth:`ntm.tasks.Task.narrate`: "the write head
moves down one row per step; at step 21 the read head jumps back to row 3"), and
:func:`describe_episode` adds what holds for every task.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..heads import write_strength
from ..model import Trace
from ..tasks import Focus, HeadFocus
from ..tasks.focus import Note
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


def head_focus(trace: Trace, kind: str, h: int = 0, b: int = 0) -> HeadFocus:
    """Head ``h`` of ``kind`` (``"read"`` or ``"write"``) of batch element ``b``."""
    head = getattr(trace, kind)
    return HeadFocus.of(head.weights[:, b, h], head.previous[:, b, h], head.gate[:, b, h],
                        head.content[:, b, h])


def focus_moves(trace: Trace, b: int = 0) -> list[FocusMove]:
    """The focus of every head at every step, compared with the step before."""
    moves = []
    for kind in ("read", "write"):
        weights = getattr(trace, kind).weights  # (T, B, H, N)
        heads = [head_focus(trace, kind, h, b) for h in range(weights.shape[2])]
        for t in range(weights.shape[0]):
            for h, f in enumerate(heads):
                moves.append(FocusMove(t, kind, h, int(f.from_rows[t]), int(f.rows[t]),
                                       int(f.offsets[t]), float(f.gate[t])))
    return moves


def focus(ep: Episode) -> Focus:
    """What a task's narration reads: the first read and write heads on this episode."""
    writes = write_strength(ep.trace.write.erase[:, 0, 0], ep.trace.write.add[:, 0, 0])
    return Focus(info=ep.info, steps=ep.steps, read=head_focus(ep.trace, "read"),
                 write=head_focus(ep.trace, "write"), outputs=ep.outputs, writes=writes)


def describe_episode(ep: Episode) -> list[Note]:
    """A narrated reading of what the model does, as (sentence, step to jump to or None).

    Derived from the trace itself, not written in advance: it reports what this model did on
    this sequence.
    """
    errors = ep.bit_errors
    return [*ep.task.narrate(focus(ep)),
            (f"{errors} bit error{'s' if errors != 1 else ''} on this sequence "
             f"(cost {ep.cost_bits:.2f} bits).", None)]
