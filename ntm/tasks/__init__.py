"""The paper's algorithmic tasks (Graves, Wayne & Danihelka 2014, section 4) and their metrics.

Every generator takes a :class:`torch.Generator`, so the same seed gives the same batch, and
returns a :class:`~ntm.tasks.base.Batch`: time-major ``inputs`` ``(T, B, C_in)``, ``targets``
``(T, B, C_out)`` and a ``mask`` ``(T, B)`` that is 1 on the output steps that are scored.

* :class:`CopyTask` -- copy (section 4.1), the encoding fixed by the design contract;
* :class:`RepeatCopyTask` -- repeat copy (section 4.2);
* :class:`AssociativeRecallTask` -- associative recall (section 4.3).

A task knows itself (see :class:`~ntm.tasks.base.Task`): its sizes, phases, evaluation points
and narration. A new task is one file in this folder whose class is decorated with
:func:`register_task`; every module here is imported below, so the CLIs (``--task``) and the
pages find it by name with nothing else to edit.

The two metrics, named the same everywhere (per sequence, summed over scored steps and bits):
:func:`bit_errors` (logit > 0 against the target) and :func:`cost_bits` (binary cross-entropy
in bits, the paper's "cost per sequence (bits)").
"""

import importlib
import pkgutil

from .associative_recall import AssociativeRecallTask
from .base import (
    TASKS,
    Batch,
    SizeRange,
    Task,
    bit_errors,
    cost_bits,
    make_task,
    masked_bce_loss,
    register_task,
    task_of,
    unregister_task,
)
from .copy import CopyTask
from .focus import Focus, HeadFocus
from .repeat_copy import RepeatCopyTask

# A task file registers itself when imported; importing them all here is what makes "one file"
# enough.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "TASKS",
    "AssociativeRecallTask",
    "Batch",
    "CopyTask",
    "Focus",
    "HeadFocus",
    "RepeatCopyTask",
    "SizeRange",
    "Task",
    "bit_errors",
    "cost_bits",
    "make_task",
    "masked_bce_loss",
    "register_task",
    "task_of",
    "unregister_task",
]
