"""Figures of the Lessons page: plain data in, ``go.Figure`` out.

* :func:`stage_figure`: one addressing stage as its own panel (or hidden, as a "?", until the
  student has answered);
* :func:`guess_rows_figure`, :func:`guess_number_figure`, :func:`options_figure`: the
  student's guess beside the truth, for the three kinds of question;
* :func:`styled`: a figure in the chosen colour scale (:data:`~ntm.figures.style.WEIGHTING_SCALES`)
  and, for the projector, with larger type and stronger lines.

The weightings are drawn by :func:`ntm.figures.addressing.weighting_heatmap`, like everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from .addressing import weighting_heatmap
from .style import (
    ARGMAX_COLOR,
    FONT,
    TEMPLATE,
    WEIGHTING_COLORSCALE,
    WEIGHTING_SCALES,
    as_array,
    caption,
)

#: Figure type on a projector, and on a screen.
PROJECTOR_FONT = 17
#: The guess and the truth on the number charts.
GUESS_COLOR, TRUTH_COLOR = "#7a7a7a", "#1f4e9c"


def _same_scale(scale: Any, reference: list) -> bool:
    try:
        return [[float(s), str(c)] for s, c in scale] == [[float(s), c] for s, c in reference]
    except (TypeError, ValueError):
        return False


def recolour(fig: go.Figure, colors: str = "default") -> go.Figure:
    """Draw every weighting of ``fig`` (the traces on the default weighting scale) in the scale
    named ``colors``; memory traces keep their diverging scale. Changes ``fig`` in place."""
    scale = WEIGHTING_SCALES.get(colors, WEIGHTING_COLORSCALE)
    if scale is WEIGHTING_COLORSCALE:
        return fig
    for trace in fig.data:
        if trace.type == "heatmap" and _same_scale(trace.colorscale, WEIGHTING_COLORSCALE):
            trace.colorscale = scale
    return fig


def projector_look(fig: go.Figure) -> go.Figure:
    """Larger, black type and thicker argmax outlines, for a projector. In place."""
    fig.update_layout(font={"size": PROJECTOR_FONT, "color": "#000000"},
                      hoverlabel={"font": {"size": PROJECTOR_FONT}})
    fig.update_traces(textfont={"size": PROJECTOR_FONT - 3}, selector={"type": "heatmap"})
    for note in fig.layout.annotations or ():
        note.font.size = max(PROJECTOR_FONT, (note.font.size or 0) + 3)
        note.font.color = "#000000"
    for shape in fig.layout.shapes or ():
        if shape.line is not None and shape.line.color == ARGMAX_COLOR:
            shape.line.width = 4
    if fig.layout.title and fig.layout.title.text:
        fig.layout.title.font.size = PROJECTOR_FONT + 2
    return fig


def styled(fig: go.Figure, colors: str = "default", projector: bool = False) -> go.Figure:
    """``fig`` in the chosen colour scale, with the projector's look when asked."""
    recolour(fig, colors)
    return projector_look(fig) if projector else fig


def _label_margin(fig: go.Figure, row_labels: Sequence[str] | None) -> go.Figure:
    if row_labels is not None:
        longest = max((len(s) for s in row_labels), default=0)
        fig.update_layout(margin={"l": 40 + 8 * longest})
    return fig


def stage_figure(weighting: Any, label: str, *, hidden: bool = False,
                 row_labels: Sequence[str] | None = None, height: int | None = None
                 ) -> go.Figure:
    """One stage's weighting as its own panel, labelled ``label`` under its one column.

    ``hidden`` draws the empty panel with a "?" instead: the student answers before the reveal.
    """
    w = as_array(weighting).ravel()
    if hidden:
        fig = weighting_heatmap(np.full(w.size, np.nan), x_labels=[label], mark_argmax=False,
                                show_values=False, height=height, row_labels=row_labels)
        fig.update_yaxes(autorange=False, range=[w.size - 0.5, -0.5])
        fig.add_annotation(text="?", xref="paper", yref="paper", x=0.5, y=0.5,
                           showarrow=False, font={"size": 64, "color": "#555"})
        fig.add_annotation(caption("answer first", 0.5, 1.0, xanchor="center", size=13))
        return _label_margin(fig, row_labels)
    fig = weighting_heatmap(w, x_labels=[label], height=height, row_labels=row_labels,
                            name=label)
    return _label_margin(fig, row_labels)


def guess_rows_figure(guess: int | None, truth: Any, truth_label: str, *,
                      row_labels: Sequence[str] | None = None,
                      height: int | None = None) -> go.Figure:
    """The row the student picked (all weight on it; none if ``guess`` is None) beside the
    true weighting."""
    w = as_array(truth).ravel()
    picked = np.zeros_like(w)
    if guess is not None:
        picked[int(guess)] = 1.0
    fig = weighting_heatmap(np.stack([picked, w]), x_labels=["your guess", truth_label],
                            height=height, row_labels=row_labels, name="w")
    if guess is None:  # no row picked: nothing to outline in the guess's column
        fig.layout.shapes = fig.layout.shapes[1:]
    return _label_margin(fig, row_labels)


def guess_number_figure(guess: float, truth: float, *, label: str, lo: float = 0.0,
                        hi: float = 1.0, unit: str = "", height: int = 170) -> go.Figure:
    """Two horizontal bars on one scale: the student's number and the true one."""
    values = [float(guess), float(truth)]
    bars = dict(
        type="bar", orientation="h", x=values, y=["your guess", "truth"], name=label,
        marker={"color": [GUESS_COLOR, TRUTH_COLOR]},
        text=[f"{v:.3g}{unit}" for v in values], textposition="outside", cliponaxis=False,
        hovertemplate=f"%{{y}}: %{{x:.4g}}{unit}<extra></extra>",
    )
    return go.Figure([bars], {
        "height": height, "font": FONT, "template": TEMPLATE, "plot_bgcolor": "white",
        "margin": {"l": 90, "r": 50, "t": 30, "b": 40}, "showlegend": False,
        "title": {"text": label, "font": {"size": 13}, "x": 0.01},
        "xaxis": {"range": [lo, hi * 1.08], "fixedrange": True, "gridcolor": "#e5e5e5",
                  "zeroline": True, "zerolinecolor": "#888"},
        "yaxis": {"autorange": "reversed", "fixedrange": True, "type": "category"},
    })


def options_figure(options: Mapping[str, Any], *, truth: str, guess: str | None,
                   row_labels: Sequence[str] | None = None,
                   height: int | None = None) -> go.Figure:
    """Each option's weighting as one column: the true one marked ✓, the student's pick
    marked "you"."""
    names = list(options)

    def tag(name: str) -> str:
        marks = (["✓ truth"] if name == truth else []) + (["you"] if name == guess else [])
        return f"{name}<br>{', '.join(marks)}" if marks else name

    fig = weighting_heatmap(np.stack([as_array(options[n]).ravel() for n in names]),
                            x_labels=[tag(n) for n in names], height=height,
                            row_labels=row_labels, name="w")
    fig.update_xaxes(tickangle=0, tickfont={"size": 11})
    fig.update_layout(margin={"b": 56})
    return _label_margin(fig, row_labels)
