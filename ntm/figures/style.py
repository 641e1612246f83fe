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
#: Outline of the argmax cell of a weighting.
ARGMAX_COLOR = "#1f4e9c"
#: Light grey drawn between cells, so white (zero) cells stay visible.
GRID_COLOR = "#d4d4d4"
FONT = {"size": 13, "color": "#31333f"}
#: A deliberately small template: every builder sets its own colours, and skipping Plotly's
#: large default template makes building a figure about a third faster.
TEMPLATE = {"layout": {"paper_bgcolor": "white", "hoverlabel": {"font": {"size": 13}}}}
# Show numbers inside cells only while they stay readable.
_MAX_TEXT_ROWS = 32
_MAX_TEXT_CELLS = 400

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


def _row_ticks(n: int, row_labels: Sequence[str] | None) -> dict:
    """y-axis ticks for ``n`` memory rows: every row while readable, else every 8th or 16th."""
    if row_labels is not None and n <= _MAX_TEXT_ROWS:
        return {"tickmode": "array", "tickvals": list(range(n)), "ticktext": list(row_labels)}
    step = 1 if n <= 20 else 2 if n <= 40 else 8 if n <= 160 else 32
    return {"tickmode": "array", "tickvals": list(range(0, n, step))}


def _cell_text(z: np.ndarray, blank_below: float | None = None) -> np.ndarray:
    """Cell labels with two decimals (never "-0.00"); values with ``|v| < blank_below`` stay
    empty so the focus stands out."""
    text = np.char.mod("%.2f", np.round(z, 2) + 0.0)  # -0.0 + 0.0 is +0.0
    if blank_below is not None:
        text = np.where(np.abs(z) < blank_below, "", text)
    return text


def _height(rows: int, per_row: float = 24.0, extra: int = 90, cap: int = 640) -> int:
    return int(min(cap, max(220, rows * per_row)) + extra)
