"""The look shared by every figure: colour scales, fonts, grid lines, axes and cell labels.

Conventions (DESIGN.md): weightings use one fixed colour scale, :data:`WEIGHTING_COLORSCALE`,
with ``zmin=0, zmax=1``; rows are memory locations on the y-axis, row 0 at the top (so a shift
by ``+1`` moves the focus one row *down* on screen); time, when there is one, runs along the
x-axis; hovering a cell shows its exact value. Memory contents use a diverging scale centred on
0, :data:`MEMORY_COLORSCALE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: Weightings, 0 (white) .. 1 (dark red); fixed ``zmin=0, zmax=1`` everywhere.
WEIGHTING_COLORSCALE = [
    [0.0, "#ffffff"],
    [0.05, "#fff1e6"],
    [0.2, "#fdd0a2"],
    [0.45, "#fd8d3c"],
    [0.7, "#d94801"],
    [1.0, "#7f2704"],
]
#: Memory, key, read and write vectors: purple (negative) .. white (0) .. green (positive).
MEMORY_COLORSCALE = [
    [0.0, "#40004b"],
    [0.2, "#9970ab"],
    [0.4, "#e7d4e8"],
    [0.5, "#f7f7f7"],
    [0.6, "#d9f0d3"],
    [0.8, "#5aae61"],
    [1.0, "#00441b"],
]
#: Weightings, colour-vision-deficiency safe: cividis (Nuñez, Anderton & Renslow 2018), dark
#: blue 0 .. yellow 1, the same ``zmin=0, zmax=1``. Readable with every common deficiency and in
#: greyscale, since its lightness rises steadily.
CIVIDIS_COLORSCALE = [
    [0.0, "#00224e"],
    [0.111, "#123570"],
    [0.222, "#3b496c"],
    [0.333, "#575d6d"],
    [0.444, "#707173"],
    [0.556, "#8a8678"],
    [0.667, "#a59c74"],
    [0.778, "#c3b369"],
    [0.889, "#e1cc55"],
    [1.0, "#fee838"],
]
#: The weighting colour scales a page may offer, by the name used in URLs (``colors=cividis``).
#: Memory contents keep :data:`MEMORY_COLORSCALE` under every choice: ColorBrewer's PRGn,
#: diverging with a neutral white zero, is itself colour-vision-deficiency safe.
WEIGHTING_SCALES = {"default": WEIGHTING_COLORSCALE, "cividis": CIVIDIS_COLORSCALE}
#: What each weighting scale's colours mean, for the legend beside the figures.
WEIGHTING_SCALE_WORDS = {
    "default": "white = 0 (no weight) … dark red = 1 (all the weight)",
    "cividis": "dark blue = 0 (no weight) … yellow = 1 (all the weight)",
}
MEMORY_SCALE_WORDS = "purple = negative, white = 0, green = positive"
#: The weighting scale a figure builder draws when given no other.
DEFAULT_SCALE = "default"
#: Outline of the argmax cell of a weighting.
ARGMAX_COLOR = "#1f4e9c"
#: Light grey drawn between cells, so white (zero) cells stay visible.
GRID_COLOR = "#d4d4d4"
FONT = {"size": 13, "color": "#31333f"}
#: A deliberately small template: every builder sets its own colours, and skipping Plotly's
#: large default template makes building a figure about a third faster.
TEMPLATE = {"layout": {"paper_bgcolor": "white", "hoverlabel": {"font": {"size": 13}}}}
#: Numbers are written inside cells only while they stay readable.
MAX_TEXT_ROWS = 32
MAX_TEXT_CELLS = 400

CURSOR_COLOR = "#1f77b4"
WRONG_COLOR = "#d62728"
#: Output probabilities: white (0) .. black (1), like the paper's figures.
BITS_COLORSCALE = [[0.0, "#ffffff"], [1.0, "#111111"]]
#: One colour per model on the line charts (other names take the palette in order).
MODEL_COLORS = {"NTM": "#d94801", "LSTM": "#1f77b4"}
PALETTE = ["#d94801", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b"]


def as_array(x: Any) -> np.ndarray:
    """A float64 numpy array from a numpy array, a torch tensor or nested lists."""
    if hasattr(x, "detach"):  # torch.Tensor, without importing torch here
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def offset_labels(radius: int) -> list[str]:
    """Labels of the shift offsets ``-R .. +R``: ``['−1', '0', '+1']`` for ``R = 1``."""
    return [f"{d:+d}".replace("-", "−") if d else "0" for d in range(-radius, radius + 1)]


def row_axis(rows: int | Sequence[int], labels: Sequence[str] | None = None) -> dict:
    """y-axis settings for memory rows, first row on top, ticks thinned to stay readable.

    ``rows`` is a count ``n`` (rows ``0 .. n-1`` on a numeric axis) or a list of rows in display
    order (a category axis, so a cropped or wrapped window keeps the true row numbers; traces
    then use ``y=[str(r) for r in rows]``). ``labels`` names every row while few enough.
    """
    if isinstance(rows, int):
        ticks: list = list(range(rows))
        axis = {"autorange": "reversed", "tickmode": "array"}
    else:
        ticks = [str(r) for r in rows]
        axis = {"type": "category", "categoryorder": "array", "categoryarray": ticks,
                "autorange": "reversed", "tickmode": "array"}
    if labels is not None and len(ticks) <= MAX_TEXT_ROWS:
        return {**axis, "tickvals": ticks, "ticktext": list(labels)}
    n = len(ticks)
    step = 1 if n <= 24 else 2 if n <= 48 else 8 if n <= 160 else 16
    return {**axis, "tickvals": ticks[::step]}


def heatmap(z: np.ndarray, *, colorscale: list, zmin: float, zmax: float, name: str, hover: str,
            values: bool = False, blank_below: float | None = None, text_size: int = 11,
            **extra: Any) -> dict:
    """A heatmap trace without a colour bar; ``values`` writes each cell's value in it."""
    trace = dict(type="heatmap", z=z, zmin=zmin, zmax=zmax, colorscale=colorscale,
                 showscale=False, name=name, hovertemplate=hover)
    if values:
        trace.update(text=cell_text(z, blank_below), texttemplate="%{text}",
                     textfont={"size": text_size})
    return {**trace, **extra}


def memory_trace(z: np.ndarray, zmax: float, **kwargs: Any) -> dict:
    """A heatmap of memory-like values on the diverging scale, symmetric about 0."""
    return heatmap(z, colorscale=MEMORY_COLORSCALE, zmin=-zmax, zmax=zmax, **kwargs)


def weighting_scale(name: str | None = DEFAULT_SCALE) -> list:
    """The weighting colour scale called ``name`` in URLs (``"default"``, ``"cividis"``); the
    default scale for a name it does not know."""
    return WEIGHTING_SCALES.get(name or DEFAULT_SCALE, WEIGHTING_COLORSCALE)


def weighting_trace(z: np.ndarray, colorscale: list | None = None, **kwargs: Any) -> dict:
    """A heatmap of weightings on the fixed 0..1 scale (``colorscale``, the default weighting
    scale when not given); near-zero cells stay unlabelled."""
    return heatmap(z, colorscale=colorscale or WEIGHTING_COLORSCALE, zmin=0.0, zmax=1.0,
                   **{"blank_below": 0.005, **kwargs})


def abs_max(*arrays: np.ndarray, floor: float = 1.0) -> float:
    """The largest ``|value|`` of the arrays, at least ``floor`` (a colour or axis range)."""
    return max(floor, *(float(np.abs(a).max(initial=0.0)) for a in arrays))


def scale_colors(values: Any, colorscale: list, lo: float, hi: float) -> list[str]:
    """The CSS colours ``colorscale`` gives ``values`` over ``lo .. hi``.

    Bars take these rather than numbers plus a ``colorscale``: Plotly.js maps numeric bar
    colours through the scale for the fill, but also reads the raw numbers as CSS colours when
    it picks a contrasting text colour, and warns "Invalid color specifier" for every bar.
    """
    stops = np.array([s for s, _ in colorscale], dtype=np.float64)
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for _, c in colorscale])
    t = np.clip((as_array(values).ravel() - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    channels = [np.interp(t, stops, rgb[:, i]) for i in range(3)]
    return [f"rgb({r:.0f}, {g:.0f}, {b:.0f})" for r, g, b in zip(*channels, strict=True)]


def caption(text: str, x: float, y: float, *, xref: str = "paper", yref: str = "paper",
            xanchor: str = "left", size: int = 12, color: str | None = "#555") -> dict:
    """A text annotation sitting on top of ``(x, y)`` (a panel title or a caption)."""
    font = {"size": size, **({"color": color} if color else {})}
    return {"text": text, "xref": xref, "yref": yref, "x": x, "y": y, "yanchor": "bottom",
            "xanchor": xanchor, "showarrow": False, "font": font}


def outline(x0: float, x1: float, y0: float, y1: float, *, width: float = 2.5,
            xref: str = "x", yref: str = "y") -> dict:
    """A rectangle outlining cells (the argmax, or the rows a key was made from)."""
    return {"type": "rect", "xref": xref, "yref": yref, "x0": x0, "x1": x1, "y0": y0, "y1": y1,
            "line": {"color": ARGMAX_COLOR, "width": width}}


def cell_text(z: np.ndarray, blank_below: float | None = None) -> np.ndarray:
    """Cell labels with two decimals (never "-0.00"); values with ``|v| < blank_below`` stay
    empty so the focus stands out."""
    text = np.char.mod("%.2f", np.round(z, 2) + 0.0)  # -0.0 + 0.0 is +0.0
    if blank_below is not None:
        text = np.where(np.abs(z) < blank_below, "", text)
    return text


def readable(rows: int, cells: int) -> bool:
    """Whether a heatmap of this size is small enough to write its values in the cells."""
    return rows <= MAX_TEXT_ROWS and cells <= MAX_TEXT_CELLS


def panel_height(rows: int, per_row: float = 24.0, extra: int = 90, cap: int = 640) -> int:
    """A figure's height in pixels for ``rows`` memory rows plus ``extra`` for its margins."""
    return int(min(cap, max(220, rows * per_row)) + extra)
