"""The addressing playground's figures: plain data in, ``go.Figure`` out.

* :func:`weighting_heatmap`: a weighting over memory rows (one column, or time on the x-axis);
* :func:`memory_heatmap`: the memory, with the key above and the similarities beside it;
* :func:`kernel_bar`: the shift kernel;
* :func:`read_figure` and :func:`write_figure`: a read, and a write's erase and add.

Arrays may be numpy arrays, torch tensors or nested lists. The look is :mod:`ntm.figures.style`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from .style import (
    _MAX_TEXT_CELLS,
    _MAX_TEXT_ROWS,
    ARGMAX_COLOR,
    FONT,
    GRID_COLOR,
    MEMORY_COLORSCALE,
    TEMPLATE,
    WEIGHTING_COLORSCALE,
    _cell_text,
    _height,
    _row_ticks,
    as_array,
    offset_labels,
)


def weighting_heatmap(
    weighting: Any,
    *,
    title: str | None = None,
    x_labels: Sequence[str] | None = None,
    x_title: str | None = None,
    row_labels: Sequence[str] | None = None,
    mark_argmax: bool = True,
    show_values: bool | None = None,
    showscale: bool = False,
    colorbar_position: str = "right",
    height: int | None = None,
    name: str = "w",
) -> go.Figure:
    """Heatmap of a weighting over memory rows: one vector or a ``(time, rows)`` matrix.

    ``weighting`` is ``(N,)`` (one panel column, e.g. one addressing stage) or ``(T, N)``
    (time on the x-axis, e.g. a trained model's read weightings, ``Trace.read.weights[:, b, h]``).
    Colour scale fixed at ``zmin=0, zmax=1``; rows labelled "memory location", row 0 on top.
    ``mark_argmax`` outlines the largest weight of every column; ``show_values`` writes the
    values in the cells (default: only when small enough to read). ``showscale`` adds the 0..1
    colour bar, on the ``"right"`` or at the ``"bottom"`` (keeps side-by-side panels equal).
    """
    w = as_array(weighting)
    if w.ndim == 1:
        w = w[None, :]
        x_labels = list(x_labels) if x_labels is not None else [name]
    elif w.ndim != 2:
        raise ValueError(f"weighting must be (N,) or (T, N), got shape {w.shape}")
    t_len, n = w.shape
    z = w.T  # (N, T): rows down, time across
    x = list(range(t_len)) if x_labels is None else list(x_labels)
    if show_values is None:
        show_values = n <= _MAX_TEXT_ROWS and z.size <= _MAX_TEXT_CELLS
    x_hover = "" if t_len == 1 and x_labels is not None else f"{x_title or 't'} = %{{x}}<br>"
    heatmap = dict(
        type="heatmap",
        z=z,
        x=x,
        y=list(range(n)),
        zmin=0.0,
        zmax=1.0,
        colorscale=WEIGHTING_COLORSCALE,
        showscale=showscale,
        xgap=1 if t_len <= 64 else 0,
        ygap=1 if n <= 64 else 0,
        name=name,
        hovertemplate=f"{x_hover}memory location %{{y}}<br>{name} = %{{z:.4g}}<extra></extra>",
    )
    if show_values:
        heatmap.update(
            text=_cell_text(z, blank_below=0.005),
            texttemplate="%{text}",
            textfont={"size": 11},
        )
    height = height or _height(n, extra=120 if colorbar_position == "bottom" else 90)
    top = 48 if title else 16
    bottom = 36
    if showscale and colorbar_position == "bottom":
        bottom = 80
        plot_px = max(50, height - top - bottom)
        heatmap["colorbar"] = {
            "orientation": "h",
            "x": 0.5,
            "xanchor": "center",
            "y": -50 / plot_px,
            "yanchor": "top",
            "thickness": 10,
            "len": 1.0,
            "tickvals": [0, 0.5, 1],
            "tickfont": {"size": 11},
            "outlinewidth": 0,
        }
    elif showscale:
        heatmap["colorbar"] = {
            "title": {"text": name},
            "thickness": 12,
            "len": 0.9,
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
        }
    layout = {
        "title": {"text": title, "font": {"size": 14}} if title else None,
        "height": height,
        "margin": {"l": 60, "r": 12, "t": top, "b": bottom},
        "font": FONT,
        "template": TEMPLATE,
        "plot_bgcolor": GRID_COLOR,
        "xaxis": {
            "title": {"text": x_title} if x_title else None,
            "showgrid": False,
            "type": "category" if x_labels is not None else "linear",
            "fixedrange": True,
        },
        "yaxis": {
            "title": {"text": "memory location"},
            "autorange": "reversed",
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
            **_row_ticks(n, row_labels),
        },
    }
    if mark_argmax:
        layout["shapes"] = [
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": t - 0.5,
                "x1": t + 0.5,
                "y0": r - 0.5,
                "y1": r + 0.5,
                "line": {"color": ARGMAX_COLOR, "width": 3},
            }
            for t, r in enumerate(np.argmax(w, axis=1))
        ]
    fig = go.Figure([heatmap], layout)
    return fig


def memory_heatmap(
    memory: Any,
    *,
    key: Any = None,
    similarity: Any = None,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    mark_rows: Sequence[int] = (),
    show_values: bool | None = None,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """The memory matrix ``M`` (``N x M``) as a heatmap, row 0 on top, optionally with the key.

    ``key`` (``(M,)``) is drawn as a strip above the columns it is compared with; ``similarity``
    (``(N,)``, eq. 6's ``K[k, M(i)]``) as a bar per row to the right, on the rows' own axis.
    ``mark_rows`` outlines rows (e.g. the ones the key was made from).
    """
    mem = as_array(memory)
    n, m = mem.shape
    cols = list(column_labels) if column_labels is not None else [str(c) for c in range(m)]
    rows = list(range(n))
    zmax = max(1.0, float(np.abs(mem).max(initial=0.0)))
    if key is not None:
        zmax = max(zmax, float(np.abs(as_array(key)).max(initial=0.0)))
    if show_values is None:
        show_values = n <= _MAX_TEXT_ROWS and n * m <= _MAX_TEXT_CELLS
    labels = [f"{i} {row_labels[i]}" for i in rows] if row_labels is not None else None

    heat = dict(
        type="heatmap",
        z=mem,
        x=cols,
        y=rows,
        zmin=-zmax,
        zmax=zmax,
        colorscale=MEMORY_COLORSCALE,
        showscale=False,
        xgap=1,
        ygap=1 if n <= 64 else 0,
        name="M",
        hovertemplate="row %{y}, column %{x}<br>M = %{z:.4g}<extra></extra>",
    )
    if show_values:
        heat.update(text=_cell_text(mem), texttemplate="%{text}", textfont={"size": 11})
    traces: list = [heat]

    # Vertical layout in pixels: an optional key strip on top of the memory rows.
    row_px = 24.0 if n <= _MAX_TEXT_ROWS else max(4.0, 560.0 / n)
    mem_px = n * row_px
    key_px = 46.0 if key is not None else 0.0
    gap_px = 34.0 if key is not None else 0.0
    total_px = mem_px + key_px + gap_px
    mem_top = mem_px / total_px
    has_sim = similarity is not None
    mem_right = 0.66 if has_sim else 1.0

    layout: dict = {
        "height": height or int(total_px + 96),
        "margin": {"l": 165 if labels else 72, "r": 16, "t": 60 if title else 30, "b": 44},
        "font": FONT,
        "template": TEMPLATE,
        "plot_bgcolor": GRID_COLOR,
        "showlegend": False,
        "title": {"text": title, "font": {"size": 14}} if title else None,
        "xaxis": {
            "domain": [0, mem_right],
            "type": "category",
            "title": {"text": "column"},
            "fixedrange": True,
            "showgrid": False,
        },
        "yaxis": {
            "domain": [0, mem_top],
            "autorange": "reversed",
            "title": {"text": "memory location"},
            "fixedrange": True,
            "showgrid": False,
            "zeroline": False,
            **_row_ticks(n, labels),
        },
        "shapes": [
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": -0.5,
                "x1": m - 0.5,
                "y0": r - 0.5,
                "y1": r + 0.5,
                "line": {"color": ARGMAX_COLOR, "width": 2.5},
            }
            for r in mark_rows
            if 0 <= r < n
        ],
        "annotations": [],
    }
    if key is not None:
        k = as_array(key)[None, :]
        strip = dict(
            type="heatmap",
            z=k,
            x=cols,
            y=["k"],
            zmin=-zmax,
            zmax=zmax,
            colorscale=MEMORY_COLORSCALE,
            showscale=False,
            xgap=1,
            xaxis="x",
            yaxis="y3",
            name="k",
            hovertemplate="key, column %{x}<br>k = %{z:.4g}<extra></extra>",
            text=_cell_text(k),
            texttemplate="%{text}",
            textfont={"size": 11},
        )
        traces.append(strip)
        layout["yaxis3"] = {
            "domain": [1 - key_px / total_px, 1],
            "fixedrange": True,
            "anchor": "x",
            "ticks": "",
            "tickfont": {"size": 14},
        }
        layout["annotations"].append(
            {
                "text": "key k (compared with every row)",
                "xref": "x domain",
                "yref": "y3 domain",
                "x": 0,
                "y": 1,
                "yanchor": "bottom",
                "xanchor": "left",
                "showarrow": False,
                "font": {"size": 12, "color": "#555"},
            }
        )
    if has_sim:
        s = as_array(similarity)
        bars = dict(
            type="bar",
            x=s,
            y=rows,
            orientation="h",
            xaxis="x2",
            yaxis="y",
            name="cos",
            marker={
                "color": s,
                "colorscale": MEMORY_COLORSCALE,
                "cmin": -1,
                "cmax": 1,
                "line": {"color": "#777", "width": 0.5},
            },
            text=[f"{v:+.2f}" for v in s] if n <= _MAX_TEXT_ROWS else None,
            textposition="outside",
            cliponaxis=False,
            textfont={"size": 11},
            hovertemplate="row %{y}<br>cos(k, M(i)) = %{x:.4f}<extra></extra>",
        )
        traces.append(bars)
        layout["xaxis2"] = {
            "domain": [mem_right + 0.05, 1],
            "range": [-1.5, 1.5],
            "title": {"text": "cos(k, M(i))"},
            "fixedrange": True,
            "zeroline": True,
            "zerolinecolor": "#888",
            "tickvals": [-1, 0, 1],
            "showgrid": True,
            "gridcolor": "#eee",
        }
        # The bar panel sits on the memory rows' axis; paint it white, not the grid colour.
        layout["shapes"].append(
            {
                "type": "rect",
                "xref": "x2 domain",
                "yref": "y domain",
                "x0": 0,
                "x1": 1,
                "y0": 0,
                "y1": 1,
                "fillcolor": "white",
                "line": {"width": 0},
                "layer": "below",
            }
        )
    return go.Figure(traces, layout)


def kernel_bar(kernel: Any, *, title: str | None = None, height: int = 210) -> go.Figure:
    """The shift kernel ``s`` as bars over offsets ``-R .. +R`` (``2R + 1`` entries, eq. 8)."""
    s = as_array(kernel)
    radius = (len(s) - 1) // 2
    labels = offset_labels(radius)
    bars = dict(
        type="bar",
        x=labels,
        y=s,
        marker={"color": "#d94801"},
        name="s",
        text=[f"{v:.2f}" for v in s],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="offset %{x}<br>s = %{y:.4g}<extra></extra>",
    )
    fig = go.Figure(
        [bars],
        {
            "title": {"text": title, "font": {"size": 13}} if title else None,
            "height": height,
            "margin": {"l": 36, "r": 8, "t": 36 if title else 12, "b": 40},
            "font": FONT,
            "template": TEMPLATE,
            "plot_bgcolor": "white",
            "xaxis": {"title": {"text": "offset"}, "type": "category", "fixedrange": True},
            "yaxis": {
                "range": [0, max(0.5, float(s.max(initial=0.0))) * 1.3],
                "tickvals": [0, 0.5, 1],
                "fixedrange": True,
                "gridcolor": "#eee",
            },
        },
    )
    return fig


def read_figure(
    memory: Any,
    weighting: Any,
    read_vector: Any,
    *,
    top: int = 3,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    height: int | None = None,
) -> go.Figure:
    """The read (eq. 2) ``r = sum_i w(i) M(i)``: the rows it mixes above, ``r`` as bars below.

    The (at most) ``top`` rows with the largest weights, of those with weight >= 0.005, are drawn
    as a heatmap (their weight in the row label); the read vector sits underneath as one bar
    per column on the same x-axis.
    """
    mem, w, r = as_array(memory), as_array(weighting), as_array(read_vector)
    n, m = mem.shape
    cols = list(column_labels) if column_labels is not None else [str(c) for c in range(m)]
    order = np.argsort(-w, kind="stable")[: min(top, n)]
    order = order[(w[order] >= 0.005) | (np.arange(len(order)) == 0)]  # rows that contribute
    names = [f" {row_labels[i]}" if row_labels is not None else "" for i in order]
    labels = [f"row {i}{name} · w={w[i]:.2f}" for name, i in zip(names, order, strict=True)]
    rest = float(1.0 - w[order].sum())
    zmax = max(1.0, float(np.abs(mem).max(initial=0.0)), float(np.abs(r).max(initial=0.0)))
    heat = dict(
        type="heatmap",
        z=mem[order],
        x=cols,
        y=labels,
        zmin=-zmax,
        zmax=zmax,
        colorscale=MEMORY_COLORSCALE,
        showscale=False,
        xgap=1,
        ygap=1,
        name="rows",
        text=_cell_text(mem[order]),
        texttemplate="%{text}",
        textfont={"size": 11},
        hovertemplate="%{y}<br>column %{x}: %{z:.4g}<extra></extra>",
    )
    bars = dict(
        type="bar",
        x=cols,
        y=r,
        xaxis="x",
        yaxis="y2",
        name="r",
        marker={
            "color": r,
            "colorscale": MEMORY_COLORSCALE,
            "cmin": -zmax,
            "cmax": zmax,
            "line": {"color": "#555", "width": 1},
        },
        text=[f"{v:+.2f}" for v in r],
        textposition="outside",
        cliponaxis=False,
        textfont={"size": 11},
        hovertemplate="column %{x}<br>r = %{y:.4g}<extra></extra>",
    )
    rmax = max(1.0, float(np.abs(r).max(initial=0.0))) * 1.3
    caption = (
        f"other rows together: w={rest:.2f}" if rest > 0.005 else "these rows hold all the weight"
    )
    # Pixel layout: rows of 50 px on top, a gap for the caption, 170 px of bars below.
    heat_px, gap_px, bar_px = 50.0 * len(order), 48.0, 170.0
    plot_px = heat_px + gap_px + bar_px
    bar_top = bar_px / plot_px
    fig = go.Figure(
        [heat, bars],
        {
            "height": height or int(plot_px + 70),
            "margin": {"l": 170 if row_labels is not None else 130, "r": 12, "t": 30, "b": 40},
            "font": FONT,
            "template": TEMPLATE,
            "plot_bgcolor": "white",
            "showlegend": False,
            "xaxis": {
                "type": "category",
                "title": {"text": "column"},
                "fixedrange": True,
                "anchor": "y2",
            },
            "yaxis": {
                "domain": [1 - heat_px / plot_px, 1],
                "autorange": "reversed",
                "fixedrange": True,
                "type": "category",
            },
            "yaxis2": {
                "domain": [0, bar_top],
                "range": [-rmax, rmax],
                "fixedrange": True,
                "title": {"text": "r"},
                "zeroline": True,
                "zerolinecolor": "#888",
                "gridcolor": "#eee",
            },
            "annotations": [
                {
                    "text": f"rows mixed ({caption})",
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0,
                    "y": 1.0,
                    "yanchor": "bottom",
                    "xanchor": "left",
                    "showarrow": False,
                    "font": {"size": 12, "color": "#555"},
                },
                {
                    "text": "read vector r = Σ w(i) M(i)",
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0,
                    "y": bar_top + 6 / plot_px,
                    "yanchor": "bottom",
                    "xanchor": "left",
                    "showarrow": False,
                    "font": {"size": 12, "color": "#555"},
                },
            ],
        },
    )
    return fig


def write_figure(
    before: Any,
    after: Any,
    weighting: Any,
    *,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    show_values: bool | None = None,
    height: int | None = None,
) -> go.Figure:
    """A write (eqs. 3-4): the weighting, the memory before and after, and the change.

    Four panels on the rows' shared y-axis: ``w`` | ``M_{t-1}`` | ``M_t`` | ``M_t - M_{t-1}``.
    Before and after share one colour range; the change has its own, centred on 0.
    """
    b, a, w = as_array(before), as_array(after), as_array(weighting)
    n, m = b.shape
    cols = list(column_labels) if column_labels is not None else [str(c) for c in range(m)]
    rows = list(range(n))
    delta = a - b
    zmax = max(1.0, float(np.abs(b).max(initial=0.0)), float(np.abs(a).max(initial=0.0)))
    dmax = max(1e-6, float(np.abs(delta).max(initial=0.0)))
    if show_values is None:
        show_values = n <= _MAX_TEXT_ROWS and n * m <= _MAX_TEXT_CELLS
    domains = [(0.0, 0.09), (0.13, 0.42), (0.44, 0.73), (0.77, 1.0)]
    titles = ["w", "before  M(t−1)", "after  M(t)", "change  M(t) − M(t−1)"]
    hover = "row %{y}, column %{x}<br>%{z:.4g}<extra></extra>"

    def heat(z, axis, zr, name, text=True):
        t = dict(
            type="heatmap",
            z=z,
            x=cols,
            y=rows,
            xaxis=axis,
            yaxis="y",
            zmin=-zr,
            zmax=zr,
            colorscale=MEMORY_COLORSCALE,
            showscale=False,
            xgap=1,
            ygap=1 if n <= 64 else 0,
            name=name,
            hovertemplate=hover,
        )
        if show_values and text:
            t.update(
                text=_cell_text(z, blank_below=0.005 if name == "change" else None),
                texttemplate="%{text}",
                textfont={"size": 10},
            )
        return t

    wt = dict(
        type="heatmap",
        z=w[:, None],
        x=["w"],
        y=rows,
        zmin=0,
        zmax=1,
        colorscale=WEIGHTING_COLORSCALE,
        showscale=False,
        ygap=1 if n <= 64 else 0,
        name="w",
        xaxis="x",
        hovertemplate="memory location %{y}<br>w = %{z:.4g}<extra></extra>",
    )
    if show_values:
        wt.update(
            text=_cell_text(w[:, None], blank_below=0.005),
            texttemplate="%{text}",
            textfont={"size": 10},
        )
    traces = [
        wt,
        heat(b, "x2", zmax, "before"),
        heat(a, "x3", zmax, "after"),
        heat(delta, "x4", dmax, "change"),
    ]
    labels = [f"{i} {row_labels[i]}" for i in rows] if row_labels is not None else None
    layout: dict = {
        "height": height or _height(n, extra=110),
        "margin": {"l": 165 if labels else 72, "r": 12, "t": 40, "b": 40},
        "font": FONT,
        "template": TEMPLATE,
        "plot_bgcolor": GRID_COLOR,
        "showlegend": False,
        "yaxis": {
            "autorange": "reversed",
            "title": {"text": "memory location"},
            "fixedrange": True,
            "showgrid": False,
            "zeroline": False,
            **_row_ticks(n, labels),
        },
        "annotations": [],
    }
    for i, ((x0, x1), text) in enumerate(zip(domains, titles, strict=True)):
        name = "xaxis" if i == 0 else f"xaxis{i + 1}"
        layout[name] = {
            "domain": [x0, x1],
            "type": "category",
            "anchor": "y",
            "fixedrange": True,
            "showgrid": False,
        }
        layout["annotations"].append(
            {
                "text": text,
                "xref": "paper",
                "yref": "paper",
                "x": (x0 + x1) / 2,
                "y": 1.0,
                "yanchor": "bottom",
                "xanchor": "center",
                "showarrow": False,
                "font": {"size": 13},
            }
        )
    return go.Figure(traces, layout)
