"""The read and write figures that follow the addressing panel's live weighting.

The playground's read (eq. 2) and write (eqs. 3–4) figures depend on the final weighting ``w``,
which the addressing panel (:mod:`ntm.app.addressing_panel`) recomputes in the browser on every
frame while a stage control is dragged. Each figure here is drawn on the server by its builder
(:func:`ntm.figures.addressing.read_figure`, :func:`~ntm.figures.addressing.write_figure`) and
mounted as a small components-v2 component (``components/live_figures.js``) that listens for the
panel's ``w`` on the same ``channel`` and updates only the figure's data, in float64: the read
vector and the rows it mixes, or the memory after the write. Nothing goes to the server.

:func:`plotly_figure` draws a figure that follows nothing with the same Plotly.js.

A figure only follows a ``w`` computed for its own memory (both carry
:func:`~ntm.app.addressing_panel.memory_token`), so a rerun never mixes two states.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ntm.app.addressing_panel import memory_token
from ntm.app.plotly_js import component_js
from ntm.figures.addressing import read_figure, write_figure
from ntm.figures.style import MEMORY_COLORSCALE, as_array, readable

COMPONENT_NAME = "ntm_live_figure"
#: Rows shown above the read vector: always this many (``min_weight=0``), so the figure keeps
#: its shape while ``w`` changes under it.
READ_ROWS = 3


@functools.cache
def _component() -> Callable[..., Any]:
    return st.components.v2.component(
        COMPONENT_NAME,
        html='<div class="ntm-live-figure"></div>',
        css=".ntm-live-figure { width: 100%; }",
        js=component_js("live_figures.js"),
    )


def _rows(x: Any) -> list:
    return as_array(x).tolist()


def figure_json(fig: go.Figure) -> dict[str, Any]:
    """A figure as plain JSON for the component (numpy arrays as Plotly's typed arrays)."""
    return json.loads(fig.to_json())


def read_data(memory: Any, weighting: Any, read_vector: Any, *,
              row_labels: Sequence[str] | None = None,
              column_labels: Sequence[str] | None = None, channel: str = "addressing") -> dict:
    """What the read figure's component receives: the figure and what it is computed from."""
    mem = as_array(memory)
    fig = read_figure(mem, weighting, read_vector, top=READ_ROWS, min_weight=0.0,
                      row_labels=row_labels, column_labels=column_labels)
    return {
        "kind": "read",
        "figure": figure_json(fig),
        "memory": mem.tolist(),
        "weighting": _rows(weighting),
        "rowLabels": None if row_labels is None else [str(x) for x in row_labels],
        "top": READ_ROWS,
        "minWeight": 0.0,
        "memoryColorscale": [[float(t), c] for t, c in MEMORY_COLORSCALE],
        "channel": channel,
        "token": memory_token(mem),
    }


def write_data(memory: Any, written: Any, weighting: Any, erase: Any, add: Any, *,
               row_labels: Sequence[str] | None = None,
               column_labels: Sequence[str] | None = None, channel: str = "addressing",
               colorscale: list | None = None) -> dict:
    """What the write figure's component receives: the figure (its ``w`` in ``colorscale``, the
    default weighting scale when not given) and what it is computed from."""
    mem = as_array(memory)
    fig = write_figure(mem, written, weighting, row_labels=row_labels,
                       column_labels=column_labels, colorscale=colorscale)
    n, m = mem.shape
    return {
        "kind": "write",
        "figure": figure_json(fig),
        "memory": mem.tolist(),
        "weighting": _rows(weighting),
        "erase": _rows(erase),
        "add": _rows(add),
        "values": bool(readable(n, n * m)),
        "channel": channel,
        "token": memory_token(mem),
    }


def _mount(data: dict, key: str) -> None:
    _component()(key=key, data=data, width="stretch", height="content")


def plotly_figure(fig: go.Figure, *, key: str) -> None:
    """Draw a figure that does not follow ``w`` with the same Plotly.js as the live ones (the
    ``plotly`` package's), so a page that uses these needs no second copy (``st.plotly_chart``
    loads Streamlit's own)."""
    _mount({"kind": "static", "figure": figure_json(fig)}, key)


def live_read_figure(memory: Any, weighting: Any, read_vector: Any, *, key: str,
                     row_labels: Sequence[str] | None = None,
                     column_labels: Sequence[str] | None = None,
                     channel: str = "addressing") -> None:
    """Mount the read figure ``r = Σ w(i) M(i)`` for ``weighting``; it then follows the live
    ``w`` of the addressing panel on ``channel``."""
    _mount(read_data(memory, weighting, read_vector, row_labels=row_labels,
                     column_labels=column_labels, channel=channel), key)


def live_write_figure(memory: Any, written: Any, weighting: Any, erase: Any, add: Any, *,
                      key: str, row_labels: Sequence[str] | None = None,
                      column_labels: Sequence[str] | None = None,
                      channel: str = "addressing", colorscale: list | None = None) -> None:
    """Mount the write figure (memory before, after, change) for ``weighting`` and the erase
    and add vectors; it then follows the live ``w`` of the addressing panel on ``channel``.
    ``colorscale`` draws ``w`` (the default weighting scale when not given)."""
    _mount(write_data(memory, written, weighting, erase, add, row_labels=row_labels,
                      column_labels=column_labels, channel=channel, colorscale=colorscale), key)


def expected_write(memory: Any, weighting: Any, erase: Any, add: Any) -> np.ndarray:
    """Eqs. 3–4 in float64 as the component computes them (for its tests)."""
    mem, w = as_array(memory), as_array(weighting)[:, None]
    return mem * (1 - w * as_array(erase)[None, :]) + w * as_array(add)[None, :]
