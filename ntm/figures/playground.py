"""The addressing playground's figure set, drawn from one :class:`ntm.playground.Result`.

Only the result's arrays and labels are read (no import of :mod:`ntm.playground`: figures sit
below the services that use them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from .addressing import kernel_bar, memory_heatmap, read_figure, weighting_heatmap, write_figure

#: The symbol of each stage, named in its hover text.
STAGE_SYMBOLS = {
    "previous": "w(t−1)",
    "content": "wᶜ",
    "gated": "wᵍ",
    "shifted": "w̃",
    "sharpened": "w",
}


def memory_figure(result: Any) -> go.Figure:
    """The memory with the key on top and ``cos(k, M(i))`` beside every row (the rows the key
    was made from outlined)."""
    return memory_heatmap(result.memory, key=result.key, similarity=result.similarity,
                          row_labels=result.row_labels, column_labels=result.column_labels,
                          mark_rows=list(result.key_rows))


def build_figures(result: Any, colorscale: list | None = None) -> dict[str, go.Figure]:
    """Every figure of the playground state as the server draws it, by name: ``memory``,
    ``kernel``, the five stages (``previous`` … ``sharpened``), ``read`` and ``write``. (The
    page itself draws the stages, the read and the write live in the browser:
    :mod:`ntm.app.addressing_panel`, :mod:`ntm.app.live_figures`.) Weightings are drawn in
    ``colorscale`` (the default weighting scale when not given)."""
    rows, cols = result.row_labels, result.column_labels
    figs = {
        "memory": memory_figure(result),
        "kernel": kernel_bar(result.kernel, height=180),
    }
    n = len(result.memory)
    height = int(min(620, max(300, 24 * n)) + 140)
    for name, w in result.stages.items():
        figs[name] = weighting_heatmap(w, title=argmax_caption(w), name=STAGE_SYMBOLS[name],
                                       height=height, showscale=True,
                                       colorbar_position="bottom", colorscale=colorscale)
    figs["read"] = read_figure(result.memory, result.sharpened, result.read, row_labels=rows,
                               column_labels=cols)
    figs["write"] = write_figure(result.memory, result.written, result.sharpened,
                                 row_labels=rows, column_labels=cols, colorscale=colorscale)
    return figs


def argmax_caption(w: np.ndarray) -> str:
    """``"max row 5 · 0.92"``: the row the argmax outline marks, and its weight."""
    i = int(np.argmax(w))
    return f"max row {i} · {w[i]:.2f}"
