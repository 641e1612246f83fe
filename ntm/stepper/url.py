"""The stepper's URL parameters and the values each may take.

The page checks its link twice (:func:`ntm.app.query.checked_query`): first what does not
depend on the model, with every size checked against the widest range any task allows; then,
once the model and so its task are known, the sizes against that task's own ranges (repeat
copy stops at length 20 where copy goes to 120) and the input modes it offers.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..tasks import TASKS, Task

#: Parameters whose limits do not depend on the model.
FIXED_LIMITS = {"seed": (0, 10**6), "t": (0, 10**6)}
INPUT_MODES = ("random", "typed")


def any_task_limits() -> dict[str, tuple[int, int]]:
    """Each size any registered task offers, with the widest range over those tasks."""
    limits: dict[str, tuple[int, int]] = {}
    for cls in TASKS.values():
        for name, size in cls().stepper_sizes().items():
            lo, hi = limits.get(name, (size.low, size.high))
            limits[name] = (min(lo, size.low), max(hi, size.high))
    return limits


def task_limits(task: Task) -> dict[str, tuple[int, int]]:
    """The sizes this task's stepper input offers, with their (min, max)."""
    return {name: (size.low, size.high) for name, size in task.stepper_sizes().items()}


def input_modes(task: Task) -> list[str]:
    """A random sequence always; a typed one where the task can encode it."""
    return list(INPUT_MODES) if task.typed_input else ["random"]


def kept_out_of_range(state: Mapping[str, object], task: Task) -> list[str]:
    """Notices for sizes a previous model left in the session that this task's ranges do not
    allow (switching from copy at length 50 to repeat copy): the widget starts again at its
    default, which the user should not have to find out alone."""
    notices = []
    for name, size in task.stepper_sizes().items():
        value = state.get(name)
        if isinstance(value, int) and not size.low <= value <= size.high:
            notices.append(f"{name} {value} is outside {size.low}–{size.high} for this model; "
                           f"using {size.default} instead.")
    return notices
