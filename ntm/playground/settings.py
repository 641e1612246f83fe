"""The playground's settings schema: every setting's default, range, widget label and help.

:data:`PARAMS` is the one place that says what a setting may be. The URL parser clamps to it,
and the page builds each widget from it, so a range or a help text is never written twice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

MIN_ROWS, MAX_ROWS = 8, 128  #: N; 8 rows fit the widest kernel (R = 3 needs 7)
MIN_WIDTH, MAX_WIDTH = 2, 12  #: M
MAX_RADIUS = 3  #: R
MAX_STEPS = 64
CELL_LIMIT = 10.0  #: edited memory cells are clamped to [-CELL_LIMIT, CELL_LIMIT]

#: Key strength: landmarks of its log-like slider (the slider itself is continuous, 0 .. 100).
BETA_VALUES = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0,
               20.0, 30.0, 40.0, 50.0, 70.0, 100.0)
#: Sharpening exponent: landmarks of its slider (continuous, 1 .. 50, finer near 1).
GAMMA_VALUES = (1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0,
                30.0, 40.0, 50.0)

MEMORY_PRESETS = {
    "random": "random (seeded)",
    "onehot": "one-hot rows",
    "near": "near-duplicate rows",
    "gradient": "smooth gradient",
    "boba": "drinks (boba tea)",
}
KEY_MODES = {"row": "copy of row i", "blend": "blend of rows i and j", "custom": "edit components"}
PREVIOUS_MODES = {"onehot": "one-hot at row j", "uniform": "uniform"}
ADD_PRESETS = {
    "key": "the key k",
    "zeros": "zeros (erase only)",
    "ones": "ones",
    "alternate": "+1, −1, +1, …",
}

_SLIDER_STEP = 0.05


@dataclass(frozen=True)
class Param:
    """One URL-bound setting: its default, the values it may take and how its widget reads."""

    name: str
    default: Any
    kind: str  #: "int", "float", "grid" (nearest of ``choices``), "choice" or "bool"
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    rows: bool = False  #: a row index: its upper bound is N - 1
    label: str = ""
    help: str | None = None
    step: float | None = None
    #: "number" for a number box instead of a slider; "radio" or "select" for a choice.
    widget: str = ""
    #: Display names of a choice's values.
    names: Mapping[str, str] = field(default_factory=dict, compare=False)

    def upper(self, rows: int) -> float | None:
        """The largest allowed value when the memory has ``rows`` rows."""
        return rows - 1 if self.rows else self.hi


def kernel_param(offset: int) -> str:
    """URL name of the raw kernel weight at ``offset``: ``s_m1``, ``s_0``, ``s_p1`` …"""
    return "s_0" if offset == 0 else f"s_{'m' if offset < 0 else 'p'}{abs(offset)}"


def kernel_offset(name: str) -> int:
    """Offset of a kernel parameter name (inverse of :func:`kernel_param`)."""
    if name == "s_0":
        return 0
    return (-1 if name[2] == "m" else 1) * int(name[3:])


def key_param(column: int) -> str:
    """URL name of the custom key's component ``column``: ``k0``, ``k1`` …"""
    return f"k{column}"


def _choice(name: str, default: str, names: Mapping[str, str], label: str, widget: str,
            help: str | None = None) -> Param:
    return Param(name, default, "choice", choices=tuple(names), label=label, help=help,
                 widget=widget, names=names)


def _unit(name: str, default: float, label: str, help: str | None = None) -> Param:
    """A float in [0, 1] on a slider with the playground's step."""
    return Param(name, default, "float", 0.0, 1.0, label=label, help=help, step=_SLIDER_STEP)


def _kernel_weight(offset: int) -> Param:
    default = 1.0 if offset == 0 else 0.2 if offset == 1 else 0.0
    shown = f"{offset:+d}".replace("-", "−") if offset else "0"
    return _unit(kernel_param(offset), default, f"s({shown})",
                 "Raw weight; the kernel is these weights divided by their sum "
                 "(the controller uses a softmax).")


def _params() -> dict[str, Param]:
    ps = [
        Param("N", 16, "int", MIN_ROWS, MAX_ROWS, label="Rows N"),
        Param("M", 6, "int", MIN_WIDTH, MAX_WIDTH, label="Columns M"),
        _choice("mem", "random", MEMORY_PRESETS, "Memory preset", "select"),
        Param("seed", 0, "int", 0, 9999, label="Seed", widget="number"),
        _choice("kmode", "row", KEY_MODES, "Key k", "radio"),
        Param("krow", 5, "int", 0, MAX_ROWS - 1, rows=True, label="Row i"),
        Param("krow2", 6, "int", 0, MAX_ROWS - 1, rows=True, label="Row j"),
        _unit("kmix", 0.5, "Blend λ (0 = row i, 1 = row j)"),
        _unit("noise", 0.2, "Noise σ", "k = row + σ·ε with ε ~ N(0, 1), seeded by the memory seed."),
        *(Param(key_param(c), 0.0, "float", -1.0, 1.0, label=f"k[{c}]", step=_SLIDER_STEP)
          for c in range(MAX_WIDTH)),
        Param("beta", 10.0, "float", 0.0, 100.0, label="Key strength β",
              help="β > 0; from the controller through softplus."),
        _unit("g", 0.8, "Gate g", "g ∈ (0, 1); from the controller through a sigmoid."),
        Param("R", 1, "int", 1, MAX_RADIUS, label="Shift range R"),
        *(_kernel_weight(d) for d in range(-MAX_RADIUS, MAX_RADIUS + 1)),
        Param("gamma", 2.0, "float", 1.0, 50.0, label="Sharpening γ",
              help="γ ≥ 1; from the controller through 1 + softplus."),
        _choice("prev", "onehot", PREVIOUS_MODES, "Start from", "radio"),
        Param("prow", 0, "int", 0, MAX_ROWS - 1, rows=True, label="Focus row j"),
        Param("steps", 0, "int", 0, MAX_STEPS, label="Steps applied t", widget="number",
              help="w(t−1) is what these settings produce after t steps from the start focus."),
        _unit("erase", 1.0, "Erase e (every column)",
              "e ∈ (0, 1)^M from a sigmoid; here every component is this value."),
        _choice("add", "key", ADD_PRESETS, "Add a", "select", "a from a tanh."),
        Param("classroom", False, "bool", label="Classroom mode",
              help="Hide the explanations; keep the figures, equations and controls."),
    ]
    return {p.name: p for p in ps}


PARAMS: dict[str, Param] = _params()
DEFAULTS: dict[str, Any] = {name: p.default for name, p in PARAMS.items()}
#: The settings the addressing panel holds in the browser (previous focus, β, g, R, the
#: kernel's raw weights, γ): no server widget; they reach the server when a control is released.
STAGE_PARAMS = ("prev", "prow", "steps", "beta", "g", "R",
                *(kernel_param(d) for d in range(-MAX_RADIUS, MAX_RADIUS + 1)), "gamma")


@dataclass(frozen=True)
class Settings:
    """Every setting of the playground; ``values`` maps each name of :data:`PARAMS` to a value.

    ``cells`` holds edited memory cells as sorted ``((row, column), value)`` pairs.
    """

    values: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    cells: tuple[tuple[tuple[int, int], float], ...] = ()

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def rows(self) -> int:
        return int(self["N"])

    @property
    def width(self) -> int:
        return int(self["M"])

    @property
    def radius(self) -> int:
        return int(self["R"])

    def updated(self, **changes: Any) -> Settings:
        """A copy with some values changed and every value brought back into range."""
        return clamp(replace(self, values={**self.values, **changes}))

    def with_cells(self, cells: Mapping[tuple[int, int], float]) -> Settings:
        return clamp(replace(self, cells=tuple(sorted(cells.items()))))


def clamp(settings: Settings) -> Settings:
    """Bring every value into its range (row indices below N, cells inside the memory)."""
    values = dict(DEFAULTS)
    values.update({k: v for k, v in settings.values.items() if k in PARAMS})
    for name, p in PARAMS.items():
        values[name] = clamp_value(p, values[name], int(values["N"]))
    cells = tuple(
        (rc, min(max(float(v), -CELL_LIMIT), CELL_LIMIT))
        for rc, v in sorted(settings.cells)
        if 0 <= rc[0] < values["N"] and 0 <= rc[1] < values["M"] and math.isfinite(v)
    )
    return Settings(values, cells)


def clamp_value(p: Param, value: Any, rows: int) -> Any:
    """``value`` brought into ``p``'s range for a memory of ``rows`` rows."""
    if p.kind == "choice":
        return value if value in p.choices else p.default
    if p.kind == "bool":
        return bool(value)
    v = min(max(float(value), p.lo), p.upper(rows))
    if p.kind == "int":
        return int(round(v))
    if p.kind == "grid":
        return min(p.choices, key=lambda c: (abs(c - v), c))
    return v


def active(settings: Settings, name: str) -> bool:
    """Whether the page currently shows the widget of a setting: custom key components only in
    custom mode and up to M, kernel weights only up to R, row pickers only in the modes that
    use them."""
    if re.fullmatch(r"k\d+", name):
        return settings["kmode"] == "custom" and int(name[1:]) < settings.width
    if name.startswith("s_"):
        return abs(kernel_offset(name)) <= settings.radius
    mode = settings["kmode"]
    if name == "krow":
        return mode in ("row", "blend")
    if name in ("krow2", "kmix"):
        return mode == "blend"
    if name == "noise":
        return mode != "custom"
    if name == "prow":
        return settings["prev"] == "onehot"
    return True


def widget_values(settings: Settings, *, stage: bool = True) -> dict[str, Any]:
    """The value of every control currently shown, by key (= query parameter name);
    ``stage=False`` leaves out the addressing panel's (:data:`STAGE_PARAMS`)."""
    return {k: v for k, v in settings.values.items()
            if active(settings, k) and (stage or k not in STAGE_PARAMS)}
