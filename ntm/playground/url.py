"""The playground's URL: query parameters in (:func:`parse_query`), query parameters out
(:func:`to_query`).

Parameter names are the widget keys, so ``?beta=50&g=0&s_p1=1&prev=onehot&prow=2`` reproduces
a lesson; an edited memory cell travels as ``cell_<row>_<column>``. A link may hold anything, so
parsing never raises: a bad value is clamped or ignored, and a notice says which.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ..plaintext import plain
from ..urlcheck import APP_PARAMS
from .settings import CELL_LIMIT, DEFAULTS, PARAMS, Param, Settings, active, clamp, clamp_value

#: Query parameters Streamlit itself uses; never reported as unknown, and kept in the URL.
STREAMLIT_PARAMS = frozenset({"embed", "embed_options"})
#: Row and column numbers longer than this are out of range anyway; capping the digits keeps
#: ``int()`` away from a ``cell_<5000 digits>_0`` name (Python refuses to parse so many).
_CELL_DIGITS = 4
_CELL_RE = re.compile(r"^cell_(\d+)_(\d+)$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# Structure first: the row indices' range depends on N, the key's length on M.
_ORDER = ["N", "M", "R"] + [n for n in PARAMS if n not in ("N", "M", "R")]


def cell_param(row: int, column: int) -> str:
    """URL name of an edited memory cell: ``cell_3_2`` is row 3, column 2."""
    return f"cell_{row}_{column}"


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


def parse_query(params: Mapping[str, str | list[str]]) -> tuple[Settings, list[str], set[str]]:
    """Settings from URL query parameters, never raising.

    Returns ``(settings, notices, given)``: ``notices`` says in words which values were clamped,
    snapped or ignored (non-numbers, unknown options or names, cells outside the memory; the
    app-wide ``colors`` is not the playground's and is left to :mod:`ntm.app.colours`);
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
    for name in _ORDER:
        if name in raw:
            used, notice = _read_value(PARAMS[name], raw[name], values)
            if used:
                given.add(name)
            if notice:
                notices.append(notice)
    cells = _read_cells(raw, values, notices)
    return clamp(Settings(values, tuple(sorted(cells.items())))), notices, given


def _read_value(p: Param, text: str, values: dict[str, Any]) -> tuple[bool, str | None]:
    """Set ``values[p.name]`` from ``text`` where it can be used (clamped or snapped if need
    be). Returns whether it was used, and the notice about it, if any."""
    shown = f"`{p.name}={plain(text)}`"
    default = _fmt(p.default)
    word = text.strip().lower()
    if p.kind == "choice":
        if word not in p.choices:
            return False, f"{shown} is not one of {', '.join(p.choices)}; using `{default}`."
        values[p.name] = word
        return True, None
    if p.kind == "bool":
        if word not in _TRUE | _FALSE:
            return False, f"{shown} is not true or false; using `{default}`."
        values[p.name] = word in _TRUE
        return True, None
    number = _parse_number(text)
    if number is None:
        return False, f"{shown} is not a number; ignored, using `{default}`."
    rows = int(values["N"])
    value = values[p.name] = clamp_value(p, number, rows)
    return True, _range_notice(p, number, value, rows, shown)


def _range_notice(p: Param, number: float, value: Any, rows: int, shown: str) -> str | None:
    """What happened to a number the URL gave, if it is not used as it is."""
    hi = p.upper(rows)
    using = f"using `{_fmt(value)}`."
    if number < p.lo:
        return f"{shown} is below the minimum {_fmt(p.lo)}; {using}"
    if number > hi:
        what = "the last row" if p.rows else "the maximum"
        return f"{shown} is above {what} {_fmt(hi)}; {using}"
    if p.kind == "int" and number != int(number):
        return f"{shown} is not a whole number; {using}"
    if p.kind == "grid" and not math.isclose(number, value):
        return f"{shown} is not on the slider; using the nearest value `{_fmt(value)}`."
    return None


def _read_cells(raw: Mapping[str, str], values: Mapping[str, Any],
                notices: list[str]) -> dict[tuple[int, int], float]:
    """The ``cell_r_c`` edits of a query; notices for unknown names and unusable cells."""
    cells: dict[tuple[int, int], float] = {}
    for name, text in raw.items():
        match = _CELL_RE.match(name)
        if match is None:
            if name not in PARAMS and name not in STREAMLIT_PARAMS and name not in APP_PARAMS:
                notices.append(f"unknown parameter `{plain(name)}` ignored.")
            continue
        shown, number = plain(name), _parse_number(text)
        if number is None:
            notices.append(f"`{shown}={plain(text)}` is not a number; cell edit ignored.")
            continue
        too_long = max(len(match[1]), len(match[2])) > _CELL_DIGITS
        if too_long or int(match[1]) >= values["N"] or int(match[2]) >= values["M"]:
            notices.append(
                f"`{shown}` is outside the {values['N']} × {values['M']} memory; "
                "cell edit ignored."
            )
            continue
        if abs(number) > CELL_LIMIT:
            notices.append(f"`{shown}={plain(text)}` clamped to ±{CELL_LIMIT:g}.")
        cells[(int(match[1]), int(match[2]))] = number
    return cells


def to_query(settings: Settings) -> dict[str, str]:
    """The query parameters that reproduce ``settings`` (only values that differ from the
    defaults, and only the key components and kernel offsets in use)."""
    out = {}
    for name, value in settings.values.items():
        if name in PARAMS and active(settings, name) and value != DEFAULTS[name]:
            out[name] = _fmt(value)
    out.update(cell_query(settings))
    return out


def cell_query(settings: Settings) -> dict[str, str]:
    """``cell_r_c`` query parameters of the edited cells."""
    return {cell_param(r, c): f"{v:g}" for (r, c), v in settings.cells}


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
