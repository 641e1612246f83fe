"""Figures of one head's addressing: plain data in, ``go.Figure`` out.

* :func:`weighting_heatmap`: a weighting over memory rows (one column, or time on the x-axis);
* :func:`memory_heatmap`: the memory, with the key above and the similarities beside it;
* :func:`kernel_bar`: the shift kernel;
* :func:`read_figure`: a read, the rows it mixes and the vector it returns;
* :func:`write_panels` (and :func:`write_figure`, its playground form): a write, as the memory
  before, after and the change, side by side.

Arrays may be numpy arrays, torch tensors or nested lists. The look is :mod:`ntm.figures.style`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from .style import (
    FONT,
    GRID_COLOR,
    MAX_TEXT_ROWS,
    MEMORY_COLORSCALE,
    TEMPLATE,
    abs_max,
    as_array,
    caption,
    memory_trace,
    offset_labels,
    outline,
    panel_height,
    readable,
    row_axis,
    scale_colors,
    weighting_trace,
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
    colorscale: list | None = None,
) -> go.Figure:
    """Heatmap of a weighting over memory rows: one vector or a ``(time, rows)`` matrix.

    ``weighting`` is ``(N,)`` (one panel column, e.g. one addressing stage) or ``(T, N)``
    (time on the x-axis, e.g. a trained model's read weightings, ``Trace.read.weights[:, b, h]``).
    Colour scale fixed at ``zmin=0, zmax=1``; rows labelled "memory location", row 0 on top.
    ``mark_argmax`` outlines the largest weight of every column; ``show_values`` writes the
    values in the cells (default: only when small enough to read). ``showscale`` adds the 0..1
    colour bar, on the ``"right"`` or at the ``"bottom"`` (keeps side-by-side panels equal).
    ``colorscale`` is the weighting scale (``style.weighting_scale(name)``; the default one
    when not given).
    """
    w = as_array(weighting)
    if w.ndim == 1:
        w = w[None, :]
        x_labels = list(x_labels) if x_labels is not None else [name]
    elif w.ndim != 2:
        raise ValueError(f"weighting must be (N,) or (T, N), got shape {w.shape}")
    t_len, n = w.shape
    z = w.T  # (N, T): rows down, time across
    x_hover = "" if t_len == 1 and x_labels is not None else f"{x_title or 't'} = %{{x}}<br>"
    heat = weighting_trace(
        z,
        colorscale,
        x=list(range(t_len)) if x_labels is None else list(x_labels),
        y=list(range(n)),
        name=name,
        hover=f"{x_hover}memory location %{{y}}<br>{name} = %{{z:.4g}}<extra></extra>",
        values=readable(n, z.size) if show_values is None else show_values,
        xgap=1 if t_len <= 64 else 0,
        ygap=1 if n <= 64 else 0,
    )
    bottom_bar = showscale and colorbar_position == "bottom"
    height = height or panel_height(n, extra=120 if colorbar_position == "bottom" else 90)
    top, bottom = (48 if title else 16), (80 if bottom_bar else 36)
    if showscale:
        heat.update(showscale=True, colorbar=_weighting_colorbar(
            name, bottom_px=max(50, height - top - bottom) if bottom_bar else None))
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
        "yaxis": {"title": {"text": "memory location"}, "showgrid": False, "zeroline": False,
                  "fixedrange": True, **row_axis(n, row_labels)},
    }
    if mark_argmax:
        layout["shapes"] = [outline(t - 0.5, t + 0.5, r - 0.5, r + 0.5, width=3)
                            for t, r in enumerate(np.argmax(w, axis=1))]
    return go.Figure([heat], layout)


def _weighting_colorbar(name: str, bottom_px: float | None) -> dict:
    """The 0..1 colour bar: on the right, or across the bottom ``bottom_px`` being the plot's
    height, so the bar sits a fixed 50 px under the axis whatever the figure's height."""
    if bottom_px is None:
        return {"title": {"text": name}, "thickness": 12, "len": 0.9,
                "tickvals": [0, 0.25, 0.5, 0.75, 1]}
    return {"orientation": "h", "x": 0.5, "xanchor": "center", "y": -50 / bottom_px,
            "yanchor": "top", "thickness": 10, "len": 1.0, "tickvals": [0, 0.5, 1],
            "tickfont": {"size": 11}, "outlinewidth": 0}


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
    cols = _columns(column_labels, m)
    zmax = abs_max(mem, *([] if key is None else [as_array(key)]))
    labels = [f"{i} {row_labels[i]}" for i in range(n)] if row_labels is not None else None
    heat = memory_trace(
        mem, zmax, x=cols, y=list(range(n)), name="M", xgap=1, ygap=1 if n <= 64 else 0,
        hover="row %{y}, column %{x}<br>M = %{z:.4g}<extra></extra>",
        values=readable(n, n * m) if show_values is None else show_values,
    )
    # Vertical layout in pixels: an optional key strip on top of the memory rows.
    mem_px = n * (24.0 if n <= MAX_TEXT_ROWS else max(4.0, 560.0 / n))
    key_px, gap_px = (46.0, 34.0) if key is not None else (0.0, 0.0)
    total_px = mem_px + key_px + gap_px
    mem_right = 0.66 if similarity is not None else 1.0
    layout: dict = {
        "height": height or int(total_px + 96),
        "margin": {"l": 165 if labels else 72, "r": 16, "t": 60 if title else 30, "b": 44},
        "font": FONT,
        "template": TEMPLATE,
        "plot_bgcolor": GRID_COLOR,
        "showlegend": False,
        "title": {"text": title, "font": {"size": 14}} if title else None,
        "xaxis": {"domain": [0, mem_right], "type": "category", "title": {"text": "column"},
                  "fixedrange": True, "showgrid": False},
        "yaxis": {"domain": [0, mem_px / total_px], "title": {"text": "memory location"},
                  "fixedrange": True, "showgrid": False, "zeroline": False,
                  **row_axis(n, labels)},
        "shapes": [outline(-0.5, m - 0.5, r - 0.5, r + 0.5) for r in mark_rows if 0 <= r < n],
        "annotations": [],
    }
    traces = [heat]
    if key is not None:
        traces.append(_key_strip(as_array(key), cols, zmax, layout, 1 - key_px / total_px))
    if similarity is not None:
        traces.append(_similarity_bars(as_array(similarity), layout, mem_right + 0.05))
    return go.Figure(traces, layout)


def _columns(labels: Sequence[str] | None, m: int) -> list[str]:
    return list(labels) if labels is not None else [str(c) for c in range(m)]


def _key_strip(key: np.ndarray, cols: list[str], zmax: float, layout: dict, bottom: float) -> dict:
    """The key as a one-row strip above the memory's columns (on its own y-axis, ``y3``);
    adds that axis and its caption to ``layout``."""
    layout["yaxis3"] = {"domain": [bottom, 1], "fixedrange": True, "anchor": "x", "ticks": "",
                        "tickfont": {"size": 14}}
    layout["annotations"].append(caption("key k (compared with every row)", 0, 1,
                                         xref="x domain", yref="y3 domain"))
    return memory_trace(key[None, :], zmax, x=cols, y=["k"], name="k", xgap=1, xaxis="x",
                        yaxis="y3", values=True,
                        hover="key, column %{x}<br>k = %{z:.4g}<extra></extra>")


def _similarity_bars(s: np.ndarray, layout: dict, left: float) -> dict:
    """``cos(k, M(i))`` as one horizontal bar per row, on the memory rows' y-axis; adds its
    x-axis (``x2``) and a white background to ``layout``."""
    layout["xaxis2"] = {"domain": [left, 1], "range": [-1.5, 1.5], "title": {"text": "cos(k, M(i))"},
                        "fixedrange": True, "zeroline": True, "zerolinecolor": "#888",
                        "tickvals": [-1, 0, 1], "showgrid": True, "gridcolor": "#eee"}
    # The bar panel sits on the memory rows' axis; paint it white, not the grid colour.
    layout["shapes"].append({"type": "rect", "xref": "x2 domain", "yref": "y domain", "x0": 0,
                             "x1": 1, "y0": 0, "y1": 1, "fillcolor": "white",
                             "line": {"width": 0}, "layer": "below"})
    return dict(
        type="bar", x=s, y=list(range(len(s))), orientation="h", xaxis="x2", yaxis="y",
        name="cos",
        marker={"color": scale_colors(s, MEMORY_COLORSCALE, -1, 1),
                "line": {"color": "#777", "width": 0.5}},
        text=[f"{v:+.2f}" for v in s] if len(s) <= MAX_TEXT_ROWS else None, textposition="outside",
        cliponaxis=False, textfont={"size": 11},
        hovertemplate="row %{y}<br>cos(k, M(i)) = %{x:.4f}<extra></extra>",
    )


def kernel_bar(kernel: Any, *, title: str | None = None, height: int = 210) -> go.Figure:
    """The shift kernel ``s`` as bars over offsets ``-R .. +R`` (``2R + 1`` entries, eq. 8)."""
    s = as_array(kernel)
    bars = dict(
        type="bar", x=offset_labels((len(s) - 1) // 2), y=s, marker={"color": "#d94801"},
        name="s", text=[f"{v:.2f}" for v in s], textposition="outside", cliponaxis=False,
        hovertemplate="offset %{x}<br>s = %{y:.4g}<extra></extra>",
    )
    return go.Figure([bars], {
        "title": {"text": title, "font": {"size": 13}} if title else None,
        "height": height,
        "margin": {"l": 36, "r": 8, "t": 36 if title else 12, "b": 40},
        "font": FONT,
        "template": TEMPLATE,
        "plot_bgcolor": "white",
        "xaxis": {"title": {"text": "offset"}, "type": "category", "fixedrange": True},
        "yaxis": {"range": [0, max(0.5, float(s.max(initial=0.0))) * 1.3],
                  "tickvals": [0, 0.5, 1], "fixedrange": True, "gridcolor": "#eee"},
    })


def read_figure(
    memory: Any,
    weighting: Any,
    read_vector: Any,
    *,
    top: int = 3,
    min_weight: float = 0.005,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    height: int | None = None,
) -> go.Figure:
    """The read (eq. 2) ``r = sum_i w(i) M(i)``: the rows it mixes above, ``r`` as bars below.

    The (at most) ``top`` rows with the largest weights, of those with weight >= ``min_weight``
    (the largest always), are drawn as a heatmap (their weight in the row label); the read
    vector sits underneath as one bar per column on the same x-axis. ``min_weight=0`` always
    draws ``min(top, N)`` rows, so a figure that follows a changing ``w`` keeps its shape.
    """
    mem, w, r = as_array(memory), as_array(weighting), as_array(read_vector)
    n, m = mem.shape
    cols = _columns(column_labels, m)
    order = np.argsort(-w, kind="stable")[: min(top, n)]
    order = order[(w[order] >= min_weight) | (np.arange(len(order)) == 0)]  # rows that count
    names = [f" {row_labels[i]}" if row_labels is not None else "" for i in order]
    labels = [f"row {i}{name} · w={w[i]:.2f}" for name, i in zip(names, order, strict=True)]
    rest = float(1.0 - w[order].sum())
    zmax = abs_max(mem, r)
    heat = memory_trace(mem[order], zmax, x=cols, y=labels, name="rows", xgap=1, ygap=1,
                        values=True, hover="%{y}<br>column %{x}: %{z:.4g}<extra></extra>")
    bars = dict(
        type="bar", x=cols, y=r, xaxis="x", yaxis="y2", name="r",
        marker={"color": scale_colors(r, MEMORY_COLORSCALE, -zmax, zmax),
                "line": {"color": "#555", "width": 1}},
        text=[f"{v:+.2f}" for v in r], textposition="outside", cliponaxis=False,
        textfont={"size": 11}, hovertemplate="column %{x}<br>r = %{y:.4g}<extra></extra>",
    )
    mixed = (f"other rows together: w={rest:.2f}" if rest > 0.005
             else "these rows hold all the weight")
    # Pixel layout: rows of 50 px on top, a gap for the caption, 170 px of bars below.
    heat_px, gap_px, bar_px = 50.0 * len(order), 48.0, 170.0
    plot_px = heat_px + gap_px + bar_px
    rmax = abs_max(r) * 1.3
    return go.Figure([heat, bars], {
        "height": height or int(plot_px + 70),
        "margin": {"l": 170 if row_labels is not None else 130, "r": 12, "t": 30, "b": 40},
        "font": FONT,
        "template": TEMPLATE,
        "plot_bgcolor": "white",
        "showlegend": False,
        "xaxis": {"type": "category", "title": {"text": "column"}, "fixedrange": True,
                  "anchor": "y2"},
        "yaxis": {"domain": [1 - heat_px / plot_px, 1], "autorange": "reversed",
                  "fixedrange": True, "type": "category"},
        "yaxis2": {"domain": [0, bar_px / plot_px], "range": [-rmax, rmax], "fixedrange": True,
                   "title": {"text": "r"}, "zeroline": True, "zerolinecolor": "#888",
                   "gridcolor": "#eee"},
        "annotations": [
            caption(f"rows mixed ({mixed})", 0, 1.0),
            caption("read vector r = Σ w(i) M(i)", 0, bar_px / plot_px + 6 / plot_px),
        ],
    })


def write_figure(
    before: Any,
    after: Any,
    weighting: Any,
    *,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    show_values: bool | None = None,
    height: int | None = None,
    colorscale: list | None = None,
) -> go.Figure:
    """A write (eqs. 3-4): the weighting, the memory before and after, and the change.

    Four panels on the rows' shared y-axis: ``w`` | ``M_{t-1}`` | ``M_t`` | ``M_t - M_{t-1}``;
    ``w`` in ``colorscale`` (the default weighting scale when not given).
    """
    n = as_array(before).shape[0]
    return write_panels(
        before, after, weighting=weighting, row_labels=row_labels, column_labels=column_labels,
        show_values=show_values, height=height or panel_height(n, extra=110), colorscale=colorscale,
        titles=("w", "before  M(t−1)", "after  M(t)", "change  M(t) − M(t−1)"),
    )


def write_panels(
    before: Any,
    after: Any,
    *,
    titles: Sequence[str],
    height: int,
    weighting: Any = None,
    show_before: bool = True,
    rows: Sequence[int] | None = None,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    mark_rows: Sequence[int] = (),
    show_values: bool | None = None,
    change_scale: bool = False,
    x_title: str | None = None,
    gap: float = 0.04,
    cell_gaps: bool = True,
    colorscale: list | None = None,
) -> go.Figure:
    """A write as panels side by side on the rows' one y-axis, one ``titles`` entry each:
    ``[w |] [M_{t-1} |] M_t | M_t - M_{t-1}``.

    Before and after share one colour range; the change has its own, centred on 0, so even a
    gentle write shows (``change_scale`` draws its colour bar). ``rows`` (memory rows in display
    order) crops the view and keeps the true row numbers; ``mark_rows`` outlines rows in every
    memory panel; ``show_values`` writes the values in the cells (default: while readable);
    ``cell_gaps`` separates the cells by thin grid lines; ``colorscale`` draws the weighting
    (the default weighting scale when not given).
    """
    b, a = as_array(before), as_array(after)
    rows = list(range(a.shape[0])) if rows is None else list(rows)
    n, m = len(rows), a.shape[1]
    memories = [("before", b[rows], "M(t−1)")] if show_before else []
    memories.append(("after", a[rows], "M(t)"))
    zmax = abs_max(*(z for _, z, _ in memories))
    delta = (a - b)[rows]
    common = dict(x=_columns(column_labels, m), y=[str(r) for r in rows], xgap=int(cell_gaps),
                  ygap=int(cell_gaps and n <= 64), yaxis="y", text_size=10,
                  values=readable(n, n * m) if show_values is None else show_values)
    traces = [memory_trace(z, zmax, name=name, **common,
                           hover=f"row %{{y}}, column %{{x}}<br>{symbol} = %{{z:.4g}}<extra></extra>")
              for name, z, symbol in memories]
    traces.append(memory_trace(
        delta, abs_max(delta, floor=1e-6), name="change", blank_below=0.005, **common,
        hover="row %{y}, column %{x}<br>ΔM = %{z:.4g}<extra></extra>",
        **({"showscale": True, "colorbar": {"thickness": 10, "len": 0.8, "title": {"text": "Δ"}}}
           if change_scale else {})))
    if weighting is not None:
        w = as_array(weighting)[rows][:, None]
        traces.insert(0, weighting_trace(
            w, colorscale, x=["w"], y=common["y"], ygap=common["ygap"], yaxis="y", name="w", text_size=10,
            values=common["values"], hover="memory location %{y}<br>w = %{z:.4g}<extra></extra>"))
    labels = [f"{r} {row_labels[r]}" for r in rows] if row_labels is not None else None
    layout = _panel_layout(len(traces), titles, narrow_first=weighting is not None, gap=gap,
                           x_title=x_title)
    layout.update(height=height, font=FONT, template=TEMPLATE, plot_bgcolor=GRID_COLOR,
                  showlegend=False, margin={"l": 165 if labels else 64, "r": 16, "t": 40, "b": 44})
    layout["yaxis"] = {"title": {"text": "memory location"}, "fixedrange": True, "showgrid": False,
                       "zeroline": False, **row_axis(rows, labels)}
    first_memory = 2 if weighting is not None else 1
    layout["shapes"] = [
        outline(-0.5, m - 0.5, rows.index(r) - 0.5, rows.index(r) + 0.5, xref=_x(i))
        for r in mark_rows if r in rows for i in range(first_memory, len(traces) + 1)
    ]
    for i, trace in enumerate(traces, start=1):
        trace["xaxis"] = _x(i)
    return go.Figure(traces, layout)


def _x(i: int) -> str:
    return "x" if i == 1 else f"x{i}"


def _panel_layout(count: int, titles: Sequence[str], *, narrow_first: bool, gap: float,
                  x_title: str | None) -> dict:
    """x-axes for ``count`` panels side by side (the first narrow for a weighting's one column),
    each titled above."""
    narrow = 0.09 if narrow_first else None
    wide = (1 - gap * (count - 1) - (narrow or 0)) / (count - (1 if narrow_first else 0))
    layout: dict = {"annotations": []}
    x0 = 0.0
    for i in range(count):
        width = narrow if narrow and i == 0 else wide
        titled = x_title and not (narrow and i == 0)
        layout[f"xaxis{'' if i == 0 else i + 1}"] = {
            "domain": [x0, min(1.0, x0 + width)], "type": "category", "anchor": "y",
            "fixedrange": True, "showgrid": False,
            **({"title": {"text": x_title}} if titled else {}),
        }
        layout["annotations"].append(caption(titles[i], x0 + width / 2, 1.0, xanchor="center",
                                             size=13, color=None))
        x0 += width + gap
    return layout
