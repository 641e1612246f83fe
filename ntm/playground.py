"""The addressing playground's state and computation, without Streamlit.

One :class:`Settings` value holds everything the playground page shows: the memory (size,
preset, seed and edited cells), the key, the head's ``beta, g, s, gamma``, the previous
weighting and the write vectors. This module

* defines every setting's default and range (:data:`PARAMS`), shared by the page's widgets;
* parses URL query parameters into settings, clamping or ignoring bad values with a notice
  for each (:func:`parse_query`), and writes settings back as parameters (:func:`to_query`);
* builds the memory presets, the key, the kernel and the previous weighting;
* runs the paper's pipeline through :mod:`ntm.addressing` and :mod:`ntm.memory`
  (:func:`compute`) and draws every figure with :mod:`ntm.figures` (:func:`build_figures`);
* holds the one-click teaching scenarios (:data:`SCENARIOS`) and the text under each stage.

Query parameter names are the widget keys, so a URL such as
``?beta=50&g=0&s_p1=1&prev=onehot&prow=2`` reproduces a lesson.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch

from . import addressing
from . import memory as memory_ops
from .figures import addressing as figures

# --------------------------------------------------------------------------------------------
# Settings and their ranges
# --------------------------------------------------------------------------------------------

MIN_ROWS, MAX_ROWS = 8, 128  #: N; 8 rows fit the widest kernel (R = 3 needs 7)
MIN_WIDTH, MAX_WIDTH = 2, 12  #: M
MAX_RADIUS = 3  #: R
MAX_STEPS = 64
CELL_LIMIT = 10.0  #: edited memory cells are clamped to [-CELL_LIMIT, CELL_LIMIT]

#: Key strength: a log-like grid so 0.5 and 50 are both one notch away.
BETA_VALUES = (
    0.0,
    0.1,
    0.2,
    0.3,
    0.5,
    0.7,
    1.0,
    1.5,
    2.0,
    3.0,
    4.0,
    5.0,
    7.0,
    10.0,
    15.0,
    20.0,
    30.0,
    40.0,
    50.0,
    70.0,
    100.0,
)
#: Sharpening exponent, 1 .. 50, finer near 1 where it matters most.
GAMMA_VALUES = (
    1.0,
    1.1,
    1.25,
    1.5,
    1.75,
    2.0,
    2.5,
    3.0,
    4.0,
    5.0,
    6.0,
    8.0,
    10.0,
    15.0,
    20.0,
    30.0,
    40.0,
    50.0,
)

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

#: Rows 4 and 5 of the "near" preset are row 3 plus noise of this scale.
NEAR_ROWS = (3, 4, 5)
NEAR_NOISE = 0.15

#: The drinks preset: rows are drinks, columns are taste features (raw scores 0..1).
DRINK_FEATURES = ("roasted", "leafy", "creamy", "sweet", "fruity", "fizzy")
DRINKS = (
    ("water", (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)),
    ("tea", (0.2, 1.0, 0.0, 0.2, 0.0, 0.0)),
    ("milk", (0.0, 0.0, 1.0, 0.3, 0.0, 0.0)),
    ("coffee", (1.0, 0.0, 0.1, 0.1, 0.0, 0.0)),
    ("orange juice", (0.0, 0.0, 0.0, 0.7, 1.0, 0.0)),
    ("cola", (0.2, 0.0, 0.0, 1.0, 0.0, 1.0)),
    ("lemonade", (0.0, 0.0, 0.0, 0.7, 0.8, 0.5)),
    ("smoothie", (0.0, 0.0, 0.6, 0.6, 1.0, 0.0)),
    ("sparkling water", (0.0, 0.0, 0.0, 0.0, 0.0, 1.0)),
    ("espresso", (1.0, 0.0, 0.0, 0.0, 0.0, 0.0)),
    ("apple juice", (0.0, 0.0, 0.0, 0.8, 0.9, 0.0)),
    ("energy drink", (0.2, 0.0, 0.0, 1.0, 0.2, 0.8)),
    ("tomato juice", (0.0, 0.2, 0.1, 0.1, 0.6, 0.0)),
    ("kombucha", (0.0, 0.6, 0.0, 0.3, 0.4, 0.6)),
    ("ginger ale", (0.0, 0.2, 0.0, 0.7, 0.1, 0.9)),
    ("herbal tea", (0.0, 0.9, 0.0, 0.0, 0.4, 0.0)),
)
TEA_ROW, MILK_ROW = 1, 2


@dataclass(frozen=True)
class Param:
    """One URL-bound setting: its default and the values it may take."""

    name: str
    default: Any
    kind: str  #: "int", "float", "grid" (nearest of ``choices``), "choice" or "bool"
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    rows: bool = False  #: a row index: its upper bound is N - 1


def _params() -> dict[str, Param]:
    ps = [
        Param("N", 16, "int", MIN_ROWS, MAX_ROWS),
        Param("M", 6, "int", MIN_WIDTH, MAX_WIDTH),
        Param("mem", "random", "choice", choices=tuple(MEMORY_PRESETS)),
        Param("seed", 0, "int", 0, 9999),
        Param("kmode", "row", "choice", choices=tuple(KEY_MODES)),
        Param("krow", 5, "int", 0, MAX_ROWS - 1, rows=True),
        Param("krow2", 6, "int", 0, MAX_ROWS - 1, rows=True),
        Param("kmix", 0.5, "float", 0.0, 1.0),
        Param("noise", 0.2, "float", 0.0, 1.0),
        *(Param(f"k{c}", 0.0, "float", -1.0, 1.0) for c in range(MAX_WIDTH)),
        Param("beta", 10.0, "grid", 0.0, 100.0, choices=BETA_VALUES),
        Param("g", 0.8, "float", 0.0, 1.0),
        Param("R", 1, "int", 1, MAX_RADIUS),
        *(
            Param(kernel_param(d), 1.0 if d == 0 else 0.2 if d == 1 else 0.0, "float", 0.0, 1.0)
            for d in range(-MAX_RADIUS, MAX_RADIUS + 1)
        ),
        Param("gamma", 2.0, "grid", 1.0, 50.0, choices=GAMMA_VALUES),
        Param("prev", "onehot", "choice", choices=tuple(PREVIOUS_MODES)),
        Param("prow", 0, "int", 0, MAX_ROWS - 1, rows=True),
        Param("steps", 0, "int", 0, MAX_STEPS),
        Param("erase", 1.0, "float", 0.0, 1.0),
        Param("add", "key", "choice", choices=tuple(ADD_PRESETS)),
        Param("classroom", False, "bool"),
    ]
    return {p.name: p for p in ps}


def kernel_param(offset: int) -> str:
    """URL name of the raw kernel weight at ``offset``: ``s_m1``, ``s_0``, ``s_p1`` …"""
    return "s_0" if offset == 0 else f"s_{'m' if offset < 0 else 'p'}{abs(offset)}"


def key_param(column: int) -> str:
    """URL name of the custom key's component ``column``: ``k0``, ``k1`` …"""
    return f"k{column}"


def cell_param(row: int, column: int) -> str:
    """URL name of an edited memory cell: ``cell_3_2`` is row 3, column 2."""
    return f"cell_{row}_{column}"


PARAMS: dict[str, Param] = _params()
DEFAULTS: dict[str, Any] = {name: p.default for name, p in PARAMS.items()}
_CELL_RE = re.compile(r"^cell_(\d+)_(\d+)$")
#: Query parameters Streamlit itself uses; never reported as unknown, and kept in the URL.
STREAMLIT_PARAMS = frozenset({"embed", "embed_options"})


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
        values[name] = _clamp_value(p, values[name], values)
    cells = tuple(
        (rc, float(np.clip(v, -CELL_LIMIT, CELL_LIMIT)))
        for rc, v in sorted(settings.cells)
        if 0 <= rc[0] < values["N"] and 0 <= rc[1] < values["M"] and math.isfinite(v)
    )
    return Settings(values, cells)


def _upper(p: Param, values: Mapping[str, Any]) -> float | None:
    return int(values["N"]) - 1 if p.rows else p.hi


def _clamp_value(p: Param, value: Any, values: Mapping[str, Any]) -> Any:
    if p.kind == "choice":
        return value if value in p.choices else p.default
    if p.kind == "bool":
        return bool(value)
    hi = _upper(p, values)
    v = min(max(float(value), p.lo), hi)
    if p.kind == "int":
        return int(round(v))
    if p.kind == "grid":
        return _nearest(p.choices, v)
    return v


def _nearest(choices: tuple, v: float) -> float:
    return min(choices, key=lambda c: (abs(c - v), c))


# --------------------------------------------------------------------------------------------
# URL query parameters
# --------------------------------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _parse_number(text: str) -> float | None:
    try:
        v = float(text.strip())
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _quote(text: str, limit: int = 40) -> str:
    """A URL value as a notice quotes it: long ones cut, backticks removed."""
    text = text.replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_query(params: Mapping[str, str | list[str]]) -> tuple[Settings, list[str], set[str]]:
    """Settings from URL query parameters, never raising.

    Returns ``(settings, notices, given)``: ``notices`` says in words which values were clamped,
    snapped or ignored (non-numbers, unknown options or names, cells outside the memory);
    ``given`` names the parameters that set a value (clamped ones included).
    Repeated parameters use their last value, with a notice.
    """
    raw = {k: (v[-1] if isinstance(v, list) and v else v) for k, v in params.items()}
    raw = {k: v for k, v in raw.items() if isinstance(v, str)}
    values = dict(DEFAULTS)
    notices: list[str] = [
        f"`{k}` is given {len(v)} times in the link; using the last value."
        for k, v in params.items()
        if isinstance(v, list) and len(v) > 1
    ]
    given: set[str] = set()
    # Structure first: the row indices' range depends on N, the key's length on M.
    order = ["N", "M", "R"] + [n for n in PARAMS if n not in ("N", "M", "R")]
    for name in order:
        if name not in raw:
            continue
        p, text = PARAMS[name], raw[name]
        shown = f"`{name}={_quote(text)}`"
        if p.kind == "choice":
            choice = text.strip().lower()
            if choice in p.choices:
                values[name] = choice
                given.add(name)
            else:
                notices.append(
                    f"{shown} is not one of {', '.join(p.choices)}; using `{_fmt(p.default)}`."
                )
            continue
        if p.kind == "bool":
            word = text.strip().lower()
            if word in _TRUE | _FALSE:
                values[name] = word in _TRUE
                given.add(name)
            else:
                notices.append(f"{shown} is not true or false; using `{_fmt(p.default)}`.")
            continue
        number = _parse_number(text)
        if number is None:
            notices.append(f"{shown} is not a number; ignored, using `{_fmt(p.default)}`.")
            continue
        hi = _upper(p, values)
        value = _clamp_value(p, number, values)
        given.add(name)
        values[name] = value
        if number < p.lo:
            notices.append(f"{shown} is below the minimum {_fmt(p.lo)}; using `{_fmt(value)}`.")
        elif number > hi:
            what = "the last row" if p.rows else "the maximum"
            notices.append(f"{shown} is above {what} {_fmt(hi)}; using `{_fmt(value)}`.")
        elif p.kind == "int" and number != int(number):
            notices.append(f"{shown} is not a whole number; using `{_fmt(value)}`.")
        elif p.kind == "grid" and not math.isclose(number, value):
            notices.append(
                f"{shown} is not on the slider; using the nearest value `{_fmt(value)}`."
            )

    cells: dict[tuple[int, int], float] = {}
    for name, text in raw.items():
        match = _CELL_RE.match(name)
        if match is None:
            if name not in PARAMS and name not in STREAMLIT_PARAMS:
                notices.append(f"unknown parameter `{_quote(name)}` ignored.")
            continue
        r, c = int(match[1]), int(match[2])
        number = _parse_number(text)
        if number is None:
            notices.append(f"`{name}={_quote(text)}` is not a number; cell edit ignored.")
        elif r >= values["N"] or c >= values["M"]:
            notices.append(
                f"`{name}` is outside the {values['N']} × {values['M']} memory; cell edit ignored."
            )
        else:
            if abs(number) > CELL_LIMIT:
                notices.append(f"`{name}={_quote(text)}` clamped to ±{CELL_LIMIT:g}.")
            cells[(r, c)] = number
    return clamp(Settings(values, tuple(sorted(cells.items())))), notices, given


def to_query(settings: Settings) -> dict[str, str]:
    """The query parameters that reproduce ``settings`` (only values that differ from the
    defaults, and only the key components and kernel offsets in use)."""
    out = {}
    for name, value in settings.values.items():
        if name in PARAMS and active(settings, name) and value != DEFAULTS[name]:
            out[name] = _fmt(value)
    out.update(cell_query(settings))
    return out


def merge_cell_edits(
    cells: Mapping[tuple[int, int], float],
    edited_rows: Mapping[Any, Mapping[str, Any]],
    columns: list[str],
) -> dict[tuple[int, int], float]:
    """Add a data editor's ``edited_rows`` (``{row position: {column label: value}}``) to the
    edited cells; empty or non-finite entries are skipped."""
    out = dict(cells)
    for row, changes in edited_rows.items():
        for column, value in changes.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if column in columns and math.isfinite(number):
                clipped = min(max(number, -CELL_LIMIT), CELL_LIMIT)
                out[(int(row), columns.index(column))] = clipped
    return out


def cell_query(settings: Settings) -> dict[str, str]:
    """``cell_r_c`` query parameters of the edited cells."""
    return {cell_param(r, c): f"{v:g}" for (r, c), v in settings.cells}


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


def kernel_offset(name: str) -> int:
    """Offset of a kernel parameter name (inverse of :func:`kernel_param`)."""
    if name == "s_0":
        return 0
    return (-1 if name[2] == "m" else 1) * int(name[3:])


def widget_values(settings: Settings) -> dict[str, Any]:
    """The value of every widget currently shown, by key (= query parameter name)."""
    return {k: v for k, v in settings.values.items() if active(settings, k)}


# --------------------------------------------------------------------------------------------
# Building the inputs
# --------------------------------------------------------------------------------------------


def _generator(seed: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed) * 1009 + stream)


def preset_memory(preset: str, rows: int, width: int, seed: int) -> torch.Tensor:
    """A memory preset ``(N, M)`` before cell edits.

    * ``random``: uniform in ``[-1, 1]``, seeded;
    * ``onehot``: row ``i`` is the unit vector ``e_{i mod M}`` (rows repeat every M rows, so
      content alone cannot tell them apart);
    * ``near``: random, but rows 4 and 5 are row 3 plus a little noise;
    * ``gradient``: row ``i`` is ``cos(2 pi i / N - 2 pi c / M)`` over columns ``c``, so the
      cosine similarity of two rows falls smoothly with their (circular) distance;
    * ``boba``: rows are drinks and columns taste features (``DRINKS``, scores 0..1, unused
      features 0); rows past the named drinks are random.
    """
    g = _generator(seed, 0)
    if preset == "onehot":
        mem = torch.zeros(rows, width)
        mem[torch.arange(rows), torch.arange(rows) % width] = 1.0
        return mem
    if preset == "gradient":
        phase = 2 * math.pi * torch.arange(rows).unsqueeze(1) / rows
        col = 2 * math.pi * torch.arange(width).unsqueeze(0) / width
        return torch.cos(phase - col)
    mem = torch.rand(rows, width, generator=g) * 2 - 1
    if preset == "near":
        base = NEAR_ROWS[0]
        for r in NEAR_ROWS[1:]:
            if r < rows:
                mem[r] = mem[base] + NEAR_NOISE * torch.randn(width, generator=g)
    elif preset == "boba":
        table = torch.tensor([v for _, v in DRINKS])  # (16, 6), scores in [0, 1]
        n, m = min(rows, table.shape[0]), min(width, table.shape[1])
        mem[:n] = 0.0
        mem[:n, :m] = table[:n, :m]
    return mem


def row_labels(settings: Settings) -> list[str] | None:
    """Names of the rows (the drinks preset only)."""
    if settings["mem"] != "boba":
        return None
    names = [name for name, _ in DRINKS]
    return [names[i] if i < len(names) else "" for i in range(settings.rows)]


def column_labels(settings: Settings) -> list[str]:
    """Column names: taste features for the drinks preset, else ``0 .. M-1``."""
    if settings["mem"] == "boba":
        return [
            DRINK_FEATURES[c] if c < len(DRINK_FEATURES) else str(c) for c in range(settings.width)
        ]
    return [str(c) for c in range(settings.width)]


def build_memory(settings: Settings) -> torch.Tensor:
    """The preset with the edited cells applied, ``(N, M)``."""
    mem = preset_memory(settings["mem"], settings.rows, settings.width, settings["seed"])
    for (r, c), v in settings.cells:
        mem[r, c] = v
    return mem


def build_key(settings: Settings, mem: torch.Tensor) -> torch.Tensor:
    """The key ``k`` ``(M,)``: a noisy copy of row i, a blend of rows i and j, or typed in.

    ``row``: ``k = M(i) + sigma * eps``; ``blend``: ``k = (1 - lambda) M(i) + lambda M(j) +
    sigma * eps`` with ``eps ~ N(0, 1)`` seeded by the memory seed.
    """
    mode = settings["kmode"]
    if mode == "custom":
        return torch.tensor([float(settings[key_param(c)]) for c in range(settings.width)])
    key = mem[settings["krow"]].clone()
    if mode == "blend":
        lam = float(settings["kmix"])
        key = (1 - lam) * key + lam * mem[settings["krow2"]]
    noise = torch.randn(settings.width, generator=_generator(settings["seed"], 1))
    return key + float(settings["noise"]) * noise


def raw_kernel(settings: Settings) -> list[float]:
    """The slider weights for offsets ``-R .. +R`` before normalising."""
    r = settings.radius
    return [float(settings[kernel_param(d)]) for d in range(-r, r + 1)]


def build_kernel(settings: Settings) -> torch.Tensor:
    """The shift kernel ``s`` ``(2R + 1,)``: the slider weights divided by their sum.

    All zero falls back to the identity kernel (all weight on offset 0).
    """
    raw = torch.tensor(raw_kernel(settings))
    total = float(raw.sum())
    if total <= 0:
        raw = torch.zeros_like(raw)
        raw[settings.radius] = 1.0
        total = 1.0
    return raw / total


def start_weighting(settings: Settings) -> torch.Tensor:
    """The focus before any step: one-hot at row j, or uniform."""
    n = settings.rows
    if settings["prev"] == "uniform":
        return torch.full((n,), 1.0 / n)
    w = torch.zeros(n)
    w[settings["prow"]] = 1.0
    return w


def build_vector(preset: str, key: torch.Tensor) -> torch.Tensor:
    """The add vector ``a`` ``(M,)`` for a preset of :data:`ADD_PRESETS`."""
    m = key.shape[0]
    if preset == "key":
        return key.clone()
    if preset == "ones":
        return torch.ones(m)
    if preset == "alternate":
        return torch.tensor([1.0 if c % 2 == 0 else -1.0 for c in range(m)])
    return torch.zeros(m)


# --------------------------------------------------------------------------------------------
# The computation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """Everything one playground state shows, as numpy arrays (1-D vectors are ``(N,)``)."""

    settings: Settings
    memory: np.ndarray  #: M, (N, M)
    key: np.ndarray  #: k, (M,)
    similarity: np.ndarray  #: K[k, M(i)], eq. 6, (N,)
    kernel: np.ndarray  #: s normalised, (2R+1,)
    previous: np.ndarray  #: w_{t-1}
    content: np.ndarray  #: w^c, eq. 5
    gated: np.ndarray  #: w^g, eq. 7
    shifted: np.ndarray  #: w~, eq. 8
    sharpened: np.ndarray  #: w, eq. 9
    read: np.ndarray  #: r, eq. 2, (M,)
    erase: np.ndarray  #: e, (M,)
    add: np.ndarray  #: a, (M,)
    written: np.ndarray  #: memory after the write, eqs. 3-4, (N, M)

    @property
    def stages(self) -> dict[str, np.ndarray]:
        return {
            "previous": self.previous,
            "content": self.content,
            "gated": self.gated,
            "shifted": self.shifted,
            "sharpened": self.sharpened,
        }


def head_tensors(settings: Settings) -> dict[str, torch.Tensor]:
    """``beta, gate, gamma`` as ``(1, 1)`` and the kernel as ``(1, 2R + 1)``."""
    return {
        "beta": torch.tensor([[float(settings["beta"])]]),
        "gate": torch.tensor([[float(settings["g"])]]),
        "kernel": build_kernel(settings).unsqueeze(0),
        "gamma": torch.tensor([[float(settings["gamma"])]]),
    }


def compute(settings: Settings) -> Result:
    """Run eqs. 2-9 for one playground state.

    ``w_{t-1}`` is the start focus after ``steps`` applications of the same pipeline (each
    step's result is the next step's ``w_{t-1}``), so "apply again" is reproducible from a URL.
    """
    settings = clamp(settings)
    mem = build_memory(settings)
    key = build_key(settings, mem)
    head = head_tensors(settings)
    m, k = mem.unsqueeze(0), key.unsqueeze(0)
    previous = start_weighting(settings).unsqueeze(0)
    for _ in range(int(settings["steps"])):
        previous = addressing.address(
            m, k, head["beta"], head["gate"], head["kernel"], head["gamma"], previous
        ).sharpened
    stages = addressing.address(
        m, k, head["beta"], head["gate"], head["kernel"], head["gamma"], previous
    )
    w = stages.sharpened
    erase = torch.full((1, settings.width), float(settings["erase"]))
    add = build_vector(settings["add"], key).unsqueeze(0)
    written = memory_ops.write(m, w, erase, add)

    def np_(t: torch.Tensor) -> np.ndarray:
        return t.squeeze(0).detach().numpy().astype(np.float64)

    return Result(
        settings=settings,
        memory=np_(m),
        key=np_(k),
        similarity=np_(addressing.similarity(m, k)),
        kernel=np_(head["kernel"]),
        previous=np_(previous),
        content=np_(stages.content),
        gated=np_(stages.gated),
        shifted=np_(stages.shifted),
        sharpened=np_(w),
        read=np_(memory_ops.read(m, w)),
        erase=np_(erase),
        add=np_(add),
        written=np_(written),
    )


# --------------------------------------------------------------------------------------------
# Figures and text
# --------------------------------------------------------------------------------------------

STAGE_TITLES = {
    "previous": "w(t−1) previous",
    "content": "wᶜ content",
    "gated": "wᵍ gated",
    "shifted": "w̃ shifted",
    "sharpened": "w sharpened",
}

#: Markdown (with inline LaTeX) headers of the stage panels.
STAGE_HEADERS = {
    "previous": "$w_{t-1}$ **previous**",
    "content": "$w^c$ **content**",
    "gated": "$w^g$ **gated**",
    "shifted": r"$\tilde w$ **shifted**",
    "sharpened": "$w$ **sharpened**",
}

STAGE_LATEX = {
    "previous": r"w_{t-1}",
    "content": r"w^c(i) = \frac{e^{\beta K[k, M(i)]}}{\sum_j e^{\beta K[k, M(j)]}}",
    "gated": r"w^g = g\, w^c + (1 - g)\, w_{t-1}",
    "shifted": r"\tilde w(i) = \sum_{j} w^g(j)\, s(i - j)",
    "sharpened": r"w(i) = \frac{\tilde w(i)^{\gamma}}{\sum_j \tilde w(j)^{\gamma}}",
}

STAGE_EQUATION = {
    "previous": "input",
    "content": "eqs. 5–6",
    "gated": "eq. 7",
    "shifted": "eq. 8",
    "sharpened": "eq. 9",
}

STAGE_TEXT = {
    "previous": "The focus the head ended the last step with. Start from one row or from "
    "uniform; **apply again** feeds this step's result back in.",
    "content": "Compare the key with every row (cosine K) and take a softmax. Large β "
    "concentrates the weight on the best match; β near 0 spreads it evenly.",
    "gated": "Mix the content focus with the previous one. g = 1 is pure content, "
    "g = 0 ignores the key and keeps the previous focus.",
    "shifted": "Move the focus by a circular convolution with s. Offset +1 moves weight "
    "from row i to row i + 1, one row **down**; the last row wraps to row 0. "
    "Spreading s over several offsets blurs the focus.",
    "sharpened": "Raise every weight to the power γ ≥ 1 and renormalise: the largest "
    "weights win, undoing the shift's blur. This w is used to read and write.",
}

#: Controller activation producing each head output (DESIGN.md).
ACTIVATIONS = {
    "k": "tanh",
    "beta": "softplus",
    "g": "sigmoid",
    "s": "softmax",
    "gamma": "1 + softplus",
    "e": "sigmoid",
    "a": "tanh",
}


def previous_latex(settings: Settings) -> str:
    """The equation under the ``w_{t-1}`` panel, for the chosen start focus and step count."""
    if int(settings["steps"]) > 0:
        steps = int(settings["steps"])
        return r"w_{t-1} = w \text{ after } t = " + str(steps) + r" \text{ steps}"
    if settings["prev"] == "uniform":
        return r"w_{t-1}(i) = 1 / N"
    return r"w_{t-1}(i) = [\, i = " + str(int(settings["prow"])) + r" \,]"


def argmax_caption(w: np.ndarray) -> str:
    """``"max row 5 · 0.92"``: the row the argmax outline marks, and its weight."""
    i = int(np.argmax(w))
    return f"max row {i} · {w[i]:.2f}"


def readouts(result: Result) -> dict[str, str]:
    """One line of live numbers per control, in words (shown under the sliders)."""
    s = result.settings
    c, sh, w = result.content, result.shifted, result.sharpened
    top = int(np.argmax(c))
    gate = float(s["g"])
    used = [
        d for d, v in zip(range(-s.radius, s.radius + 1), result.kernel, strict=True) if v > 0.005
    ]
    if used == [0]:
        shift_text = "s(0) = 1 leaves the focus where it is"
    elif len(used) == 1:
        way = "down" if used[0] > 0 else "up"
        shift_text = f"moves the focus {abs(used[0])} row{'s' if abs(used[0]) > 1 else ''} {way}"
    else:
        shift_text = f"spreads every weight over {len(used)} offsets: a blur"
    return {
        "content": f"row {top} matches best (cos {result.similarity[top]:+.2f}) and gets "
        f"{c[top]:.0%} of the weight",
        "gated": f"{gate:.0%} content focus + {1 - gate:.0%} previous focus",
        "shifted": shift_text,
        "sharpened": f"largest weight {sh.max():.2f} → {w.max():.2f}",
    }


def build_figures(result: Result) -> dict[str, go.Figure]:
    """Every figure of the playground, by name (memory, kernel, the five stages, read, write)."""
    s = result.settings
    rows, cols = row_labels(s), column_labels(s)
    marked = []
    if s["kmode"] in ("row", "blend"):
        marked.append(int(s["krow"]))
    if s["kmode"] == "blend":
        marked.append(int(s["krow2"]))
    figs: dict[str, go.Figure] = {
        "memory": figures.memory_heatmap(
            result.memory,
            key=result.key,
            similarity=result.similarity,
            row_labels=rows,
            column_labels=cols,
            mark_rows=marked,
        ),
        "kernel": figures.kernel_bar(result.kernel, height=180),
    }
    height = _stage_height(s.rows)
    for name, w in result.stages.items():
        figs[name] = figures.weighting_heatmap(
            w,
            title=argmax_caption(w),
            name=STAGE_TITLES[name].split()[0],
            height=height,
            showscale=True,
            colorbar_position="bottom",
        )
    figs["read"] = figures.read_figure(
        result.memory, result.sharpened, result.read, row_labels=rows, column_labels=cols
    )
    figs["write"] = figures.write_figure(
        result.memory, result.written, result.sharpened, row_labels=rows, column_labels=cols
    )
    return figs


def _stage_height(rows: int) -> int:
    return int(min(620, max(300, 24 * rows)) + 140)


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A one-click lesson: the defaults with ``changes`` applied (classroom mode is kept)."""

    title: str
    explanation: str
    changes: Mapping[str, Any]

    def settings(self, classroom: bool = False) -> Settings:
        """The documented values: defaults, this scenario's changes, no edited cells."""
        values = {**DEFAULTS, "classroom": classroom, **self.changes}
        # Kernel weights the scenario does not mention are 0 (not the default kernel).
        if any(k.startswith("s_") for k in self.changes):
            for d in range(-MAX_RADIUS, MAX_RADIUS + 1):
                values.setdefault(kernel_param(d), 0.0)
                if kernel_param(d) not in self.changes:
                    values[kernel_param(d)] = 0.0
        return clamp(Settings(values))


def _kernel(*weights: float) -> dict[str, float]:
    """Kernel changes for weights over offsets ``-R .. +R`` (R from the number of weights)."""
    r = (len(weights) - 1) // 2
    return {"R": r, **{kernel_param(d): w for d, w in zip(range(-r, r + 1), weights, strict=True)}}


SCENARIOS: dict[str, Scenario] = {
    "lookup": Scenario(
        "Content lookup",
        "The key is a noisy copy of row 5. Content addressing finds it: w^c peaks at row 5. "
        "With g = 1, the identity kernel and γ = 1 the later stages pass it through, so the "
        "head reads (mostly) row 5. Try lowering β.",
        {
            "mem": "random",
            "kmode": "row",
            "krow": 5,
            "noise": 0.2,
            "beta": 20.0,
            "g": 1.0,
            **_kernel(0.0, 1.0, 0.0),
            "gamma": 1.0,
        },
    ),
    "next_row": Scenario(
        "Content + shift +1",
        "Find row 5 by content, then s(+1) = 1 moves the focus one row down to row 6. "
        "This is what the copy task learns: locate the start once, then step to the next row "
        "every time step.",
        {
            "mem": "random",
            "kmode": "row",
            "krow": 5,
            "noise": 0.1,
            "beta": 30.0,
            "g": 1.0,
            **_kernel(0.0, 0.0, 1.0),
            "gamma": 1.0,
        },
    ),
    "keep_shift": Scenario(
        "Keep focus, shift",
        "g = 0 ignores the key and keeps the previous focus (row 2); s(+1) = 1 moves it to "
        "row 3. Press “apply again” to walk down the memory one row per step — "
        "location-based addressing, like a tape head.",
        {"g": 0.0, "prev": "onehot", "prow": 2, "steps": 0, **_kernel(0.0, 0.0, 1.0), "gamma": 1.0},
    ),
    "blur_sharpen": Scenario(
        "Blur, then sharpen",
        "A wide kernel over offsets −3…+3 smears the content focus over seven rows (w̃). "
        "γ = 10 raises every weight to the 10th power and renormalises: the peak wins again.",
        {
            "kmode": "row",
            "krow": 5,
            "noise": 0.1,
            "beta": 50.0,
            "g": 1.0,
            **_kernel(0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25),
            "gamma": 10.0,
        },
    ),
    "blog_kernel": Scenario(
        "Kernel .3 / .5 / .2",
        "The classic example kernel: over offsets −1, 0, +1 it sends 30 % of the weight one "
        "row up, keeps 50 % in place and moves 20 % one row down. With γ = 1 nothing "
        "sharpens it back.",
        {
            "kmode": "row",
            "krow": 5,
            "noise": 0.1,
            "beta": 50.0,
            "g": 1.0,
            **_kernel(0.3, 0.5, 0.2),
            "gamma": 1.0,
        },
    ),
    "tie": Scenario(
        "Tie broken by β",
        "Rows 3, 4 and 5 store nearly the same thing and the key is row 3. With a small β "
        "they share the weight almost equally; here β = 100 lets the slightly better match, "
        "row 3, win. Drag β down to 5 to see the tie.",
        {
            "mem": "near",
            "kmode": "row",
            "krow": 3,
            "noise": 0.0,
            "beta": 100.0,
            "g": 1.0,
            **_kernel(0.0, 1.0, 0.0),
            "gamma": 1.0,
        },
    ),
    "boba": Scenario(
        "Boba tea blend",
        "A drink that tastes of tea and feels like milk: the key is halfway between the "
        "“tea” and “milk” rows. Content addressing splits the weight between them, and "
        "the read vector is their blend — boba tea.",
        {
            "mem": "boba",
            "kmode": "blend",
            "krow": TEA_ROW,
            "krow2": MILK_ROW,
            "kmix": 0.5,
            "noise": 0.0,
            "beta": 20.0,
            "g": 1.0,
            **_kernel(0.0, 1.0, 0.0),
            "gamma": 1.0,
        },
    ),
}
