"""The paper's algorithmic tasks (Graves, Wayne & Danihelka 2014, section 4) and their metrics.

Every generator takes a :class:`torch.Generator`, so the same seed gives the same batch, and
returns a :class:`~ntm.tasks.base.Batch`: time-major ``inputs`` ``(T, B, C_in)``, ``targets``
``(T, B, C_out)`` and a ``mask`` ``(T, B)`` that is 1 on the output steps that are scored.

* :class:`CopyTask` -- copy (section 4.1), the encoding fixed by the design contract;
* :class:`RepeatCopyTask` -- repeat copy (section 4.2);
* :class:`AssociativeRecallTask` -- associative recall (section 4.3).

The two metrics, named the same everywhere (per sequence, summed over scored steps and bits):
:func:`bit_errors` (logit > 0 against the target) and :func:`cost_bits` (binary cross-entropy
in bits, the paper's "cost per sequence (bits)").
"""

from .associative_recall import AssociativeRecallTask
from .base import Batch, Task, bit_errors, cost_bits, masked_bce_loss
from .copy import CopyTask
from .repeat_copy import RepeatCopyTask

TASKS: dict[str, type[Task]] = {
    "copy": CopyTask,
    "repeat-copy": RepeatCopyTask,
    "associative-recall": AssociativeRecallTask,
}


def make_task(name: str, **params) -> Task:
    """Build a task by name (``copy``, ``repeat-copy``, ``associative-recall``)."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return TASKS[name](**params)


__all__ = [
    "TASKS",
    "AssociativeRecallTask",
    "Batch",
    "CopyTask",
    "RepeatCopyTask",
    "Task",
    "bit_errors",
    "cost_bits",
    "make_task",
    "masked_bce_loss",
]
