"""The controls a lesson step may show, and how their values become playground settings.

A lesson step shows only a few controls (:data:`CONTROLS`); most are the playground's own
settings (same name, range, label and help as in :data:`ntm.playground.PARAMS`), plus three of the
lessons' own: ``kernel`` (a named shift kernel: "+1", "+3", ".3 / .5 / .2" ...), and for the
trained copy model ``length`` and ``moment``. Their names are also their URL parameters, and what
a teacher link hides or locks (``hide=gamma``, ``lock=beta:20``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import playground as pg
from ..plaintext import plain
from ..playground.settings import clamp_value

#: Named shift kernels over offsets −R..+R (R from the number of weights).
KERNELS: dict[str, tuple[float, ...]] = {
    "stay": (0.0, 1.0, 0.0),
    "p1": (0.0, 0.0, 1.0),
    "m1": (1.0, 0.0, 0.0),
    "p3": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
    "blur": (0.3, 0.5, 0.2),
    "mirror": (0.2, 0.5, 0.3),
    "split": (0.3, 0.2, 0.5),
    "wide": (0.05, 0.1, 0.15, 0.4, 0.15, 0.1, 0.05),
}
KERNEL_NAMES = {
    "stay": "0 (stay)",
    "p1": "+1",
    "m1": "−1",
    "p3": "+3",
    "blur": ".3 / .5 / .2",
    "mirror": ".2 / .5 / .3",
    "split": ".3 / .2 / .5",
    "wide": "wide blur",
}
#: The moments of the copy model's run that step 9 stops at (names of the step's ``moment``).
MOMENTS = {
    "write": "write head walking",
    "jump": "read head jumps back",
    "read": "read head walking",
}
MAX_COPY_LENGTH = 30
#: The lesson's steps for β and γ: log-like, so small and large values are one notch apart.
BETA_GRID = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 10.0, 20.0, 30.0, 50.0, 100.0)
GAMMA_GRID = (1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)


@dataclass(frozen=True)
class Control:
    """A control a step may show: its kind, range or choices, label and help."""

    name: str
    label: str
    kind: str  #: "grid" (nearest of ``choices``), "float", "int" or "choice"
    default: Any
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    names: Mapping[str, str] = field(default_factory=dict, compare=False)
    help: str | None = None
    step: float | None = None

    def parse(self, text: str) -> tuple[Any, str | None]:
        """The value ``text`` stands for, brought into range: ``(value, problem)``; ``value`` is
        None when ``text`` cannot be used, ``problem`` says what was changed or refused."""
        word = str(text).strip()
        if self.kind == "choice":
            if word in self.choices:
                return word, None
            return None, f"is not one of {', '.join(self.choices)}"
        try:
            number = float(word)
        except ValueError:
            return None, "is not a number"
        if not math.isfinite(number):
            return None, "is not a number"
        value = self.clamp(number)
        if not math.isclose(value, number, abs_tol=1e-9):
            return value, f"is outside the control's range; using {self.format(value)}"
        return value, None

    def clamp(self, number: float) -> Any:
        v = min(max(number, self.lo), self.hi)
        if self.kind == "int":
            return int(round(v))
        if self.kind == "grid":
            return min(self.choices, key=lambda c: (abs(c - v), c))
        return float(v)

    def format(self, value: Any) -> str:
        """The value as a URL writes it (``20``, ``0.35``, ``p3``)."""
        return f"{value:g}" if isinstance(value, float) else str(value)

    def shown(self, value: Any) -> str:
        """The value as the page shows it (``+3`` for the kernel ``p3``)."""
        return self.names.get(value, self.format(value)) if self.kind == "choice" else self.format(value)


def _from_playground(name: str, **changes: Any) -> Control:
    """A playground setting as a lesson control (same range, label and help unless changed)."""
    p = pg.PARAMS[name]
    base = dict(name=name, label=p.label, kind=p.kind, default=p.default, lo=p.lo,
                hi=p.upper(pg.DEFAULTS["N"]), choices=p.choices, names=p.names, help=p.help,
                step=p.step)
    return Control(**{**base, **changes})


CONTROLS: dict[str, Control] = {c.name: c for c in (
    _from_playground("mem"),
    _from_playground("kmix"),
    _from_playground("noise"),
    _from_playground("beta", kind="grid", choices=BETA_GRID, step=None),
    _from_playground("g"),
    _from_playground("prow", label="Previous focus: row"),
    Control("kernel", "Shift kernel s", "choice", "stay", choices=tuple(KERNELS),
            names=KERNEL_NAMES, help="Weights over offsets −R … +R; offset +1 moves the focus "
            "one row down (w[i] ← w[i−1]), circularly."),
    _from_playground("gamma", kind="grid", choices=GAMMA_GRID, step=None),
    _from_playground("erase"),
    _from_playground("add"),
    Control("length", "Sequence length L", "int", 10, 2, MAX_COPY_LENGTH, step=1,
            help="The copy model was trained on lengths 1–20."),
    Control("moment", "Stop at", "choice", "jump", choices=tuple(MOMENTS), names=MOMENTS),
)}


def kernel_changes(name: str) -> dict[str, Any]:
    """The playground settings of a named kernel: ``R`` and every ``s_*`` (unused ones 0)."""
    weights = KERNELS[name]
    radius = (len(weights) - 1) // 2
    changes: dict[str, Any] = {"R": radius}
    for d in range(-pg.MAX_RADIUS, pg.MAX_RADIUS + 1):
        changes[pg.kernel_param(d)] = 0.0
    for d, w in zip(range(-radius, radius + 1), weights, strict=True):
        changes[pg.kernel_param(d)] = w
    return changes


def to_settings(values: Mapping[str, Any]) -> pg.Settings:
    """Playground settings from a scene: playground values by name, ``kernel`` by its name."""
    plain_values = {k: v for k, v in values.items() if k in pg.PARAMS}
    kernel = kernel_changes(values["kernel"]) if "kernel" in values else {}
    return pg.Settings().updated(**{**plain_values, **kernel})


def clamp_to(name: str, value: Any) -> Any:
    """``value`` of a playground setting brought into range (as :func:`to_settings` would)."""
    p = pg.PARAMS.get(name)
    return clamp_value(p, value, pg.DEFAULTS["N"]) if p is not None else value


def parse_lock(text: str) -> tuple[dict[str, Any], list[str]]:
    """A teacher link's ``lock=beta:20,g:0`` as ``{name: value}``, and notices for the parts
    that cannot be used (unknown control, bad value)."""
    locks: dict[str, Any] = {}
    notices: list[str] = []
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        name, sep, raw = part.partition(":")
        control = CONTROLS.get(name.strip())
        if control is None or not sep:
            notices.append(f"`lock={plain(part)}` names no control of the lesson; ignored.")
            continue
        value, problem = control.parse(raw)
        if value is None:
            notices.append(f"`lock={plain(part)}`: the value {problem}; not locked.")
            continue
        if problem:
            notices.append(f"`lock={plain(part)}`: the value {problem}.")
        locks[control.name] = value
    return locks, notices


def parse_hide(text: str) -> tuple[frozenset[str], list[str]]:
    """A teacher link's ``hide=gamma,g`` as control names, and notices for unknown names."""
    names, notices = set(), []
    for name in filter(None, (p.strip() for p in str(text).split(","))):
        if name in CONTROLS:
            names.add(name)
        else:
            notices.append(f"`hide` names `{plain(name)}`, not a control of the lesson; ignored.")
    return frozenset(names), notices
