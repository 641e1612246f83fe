"""Figures of a trained model's run: data in (trace arrays), ``go.Figure`` out.

The whole-episode views put time on the x-axis and draw the stepper's cursor as a vertical
line; weightings keep the fixed 0..1 colour scale, memory-like vectors the diverging one.

* :func:`episode_grid`: the paper's Figure 6 -- inputs, add vectors and write weightings on the
  left; outputs, read vectors and read weightings on the right;
* :func:`target_output`: target against output with wrong bits marked (Figures 4 and 5);
* :func:`stage_panel`: one head's four addressing stages at one step, side by side;
* :func:`stage_panels`: several heads' stage panels side by side in one figure;
* :func:`vector_bars`: a key, erase, add or read vector as bars;
* :func:`memory_change`: the memory after a write and what the write changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from .addressing import weighting_heatmap, write_panels
from .style import (
    BITS_COLORSCALE,
    CURSOR_COLOR,
    FONT,
    GRID_COLOR,
    WRONG_COLOR,
    abs_max,
    as_array,
    heatmap,
    memory_trace,
    outline,
    row_axis,
    weighting_trace,
)

STAGE_NAMES = ("previous w<sub>t−1</sub>", "content w<sup>c</sup>", "gated w<sup>g</sup>",
               "shifted w̃", "sharpened w")


class _Grid:
    """A light subplot grid built as plain layout dicts.

    ``plotly.subplots.make_subplots`` and ``add_vline(row="all")`` validate the figure again on
    every call and cost ~0.2 s for a 3 x 2 grid; the stepper redraws its figures on every cursor
    step, so the grids here are laid out directly. Cell ``(r, c)`` (0-based, row 0 on top) uses
    axes ``x{i}``/``y{i}`` with ``i = r * cols + c + 1``.
    """

    def __init__(self, rows: int, cols: int, heights: Sequence[float] | None = None,
                 titles: Sequence[str] = (), hspace: float = 0.08, vspace: float = 0.08) -> None:
        self.rows, self.cols = rows, cols
        heights = list(heights or [1.0] * rows)
        total = sum(heights)
        free_h, free_w = 1 - vspace * (rows - 1), 1 - hspace * (cols - 1)
        width = free_w / cols
        self.layout: dict = {"annotations": [], "shapes": []}
        top = 1.0
        for r in range(rows):
            h = free_h * heights[r] / total
            for c in range(cols):
                i = r * cols + c + 1
                x0 = c * (width + hspace)
                self.layout[self.axis("x", i)] = {
                    "domain": [max(0.0, x0), min(1.0, x0 + width)], "anchor": f"y{i}",
                    "showgrid": False, "fixedrange": True, **({"matches": "x"} if i > 1 else {}),
                    **({"showticklabels": False} if r < rows - 1 else {}),
                }
                self.layout[self.axis("y", i)] = {
                    "domain": [max(0.0, top - h), min(1.0, top)], "anchor": f"x{i}",
                    "showgrid": False, "zeroline": False, "fixedrange": True,
                }
                if r * cols + c < len(titles):
                    self.layout["annotations"].append({
                        "text": titles[r * cols + c], "xref": "paper", "yref": "paper",
                        "x": x0 + width / 2, "y": top, "xanchor": "center", "yanchor": "bottom",
                        "showarrow": False, "font": {"size": 14},
                    })
            top -= h + vspace

    @staticmethod
    def axis(kind: str, i: int) -> str:
        return f"{kind}axis" if i == 1 else f"{kind}axis{i}"

    def cell(self, r: int, c: int) -> int:
        return r * self.cols + c + 1

    def refs(self, r: int, c: int) -> dict:
        """Trace keys placing a trace in cell (r, c)."""
        i = self.cell(r, c)
        return {"xaxis": f"x{i}" if i > 1 else "x", "yaxis": f"y{i}" if i > 1 else "y"}

    def x(self, r: int, c: int) -> dict:
        return self.layout[self.axis("x", self.cell(r, c))]

    def y(self, r: int, c: int) -> dict:
        return self.layout[self.axis("y", self.cell(r, c))]

    def cursor(self, x: float | None) -> None:
        """A dotted vertical line at ``x`` through every cell."""
        if x is None:
            return
        for i in range(1, self.rows * self.cols + 1):
            self.layout["shapes"].append({
                "type": "line", "xref": f"x{i}" if i > 1 else "x",
                "yref": f"y{i} domain" if i > 1 else "y domain", "x0": x, "x1": x, "y0": 0,
                "y1": 1, "line": {"color": CURSOR_COLOR, "width": 2, "dash": "dot"},
            })


def _time_heat(z: np.ndarray, *, y: Sequence, weighting: bool, name: str, value: str,
               row_name: str, zmax: float | None = None, colorscale: list | None = None,
               **refs) -> dict:
    """A (rows x time) heatmap trace; ``weighting`` picks the fixed 0..1 scale (``colorscale``,
    the default weighting scale when not given)."""
    hover = f"t = %{{x}}<br>{row_name} %{{y}}<br>{value} = %{{z:.4g}}<extra>{name}</extra>"
    common = dict(x=list(range(z.shape[1])), y=list(y), name=name, hover=hover, **refs)
    if weighting:
        return weighting_trace(z, colorscale, **common)
    return memory_trace(z, zmax or abs_max(z), **common)


def episode_grid(
    inputs: Any,
    outputs: Any,
    adds: Any,
    reads: Any,
    write_weights: Any,
    read_weights: Any,
    *,
    cursor: int | None = None,
    rows: Sequence[int] | None = None,
    height: int = 760,
    colorscale: list | None = None,
) -> go.Figure:
    """The paper's Figure 6 for one run: time on the x-axis of all six panels.

    Left: inputs ``(T, C_in)``, add vectors ``(T, M)``, write weightings ``(T, N)``; right:
    outputs ``(T, C_out)`` (sigmoid), read vectors ``(T, M)``, read weightings ``(T, N)``.
    ``rows`` (a list of memory rows, in display order) crops the weighting panels (default: the
    every row; the stepper passes :func:`ntm.stepper.episode.focus_window`); the y-axis keeps the true row numbers.
    ``colorscale`` draws the inputs, outputs and weightings (default: the weighting scale).
    """
    x_in, x_out = as_array(inputs), as_array(outputs)
    a, r = as_array(adds), as_array(reads)
    ww, rw = as_array(write_weights), as_array(read_weights)
    rows = list(range(ww.shape[1]) if rows is None else rows)
    y_rows = [str(r) for r in rows]
    g = _Grid(3, 2, heights=[0.2, 0.25, 0.55], hspace=0.08, vspace=0.06,
              titles=("Inputs", "Outputs", "Adds (write vectors a)", "Reads (read vectors r)",
                      "Write weightings", "Read weightings"))
    zmax = abs_max(a, r)
    traces = [
        _time_heat(x_in.T, y=range(x_in.shape[1]), weighting=True, name="input", value="x",
                   row_name="channel", colorscale=colorscale, **g.refs(0, 0)),
        _time_heat(x_out.T, y=range(x_out.shape[1]), weighting=True, name="output", value="y",
                   row_name="channel", colorscale=colorscale, **g.refs(0, 1)),
        _time_heat(a.T, y=range(a.shape[1]), weighting=False, name="add", value="a",
                   row_name="column", zmax=zmax, **g.refs(1, 0)),
        _time_heat(r.T, y=range(r.shape[1]), weighting=False, name="read", value="r",
                   row_name="column", zmax=zmax, **g.refs(1, 1)),
        _time_heat(ww[:, rows].T, y=y_rows, weighting=True, name="write weighting", value="w",
                   row_name="memory location", colorscale=colorscale, **g.refs(2, 0)),
        _time_heat(rw[:, rows].T, y=y_rows, weighting=True, name="read weighting", value="w",
                   row_name="memory location", colorscale=colorscale, **g.refs(2, 1)),
    ]
    for c in (0, 1):
        g.y(0, c).update(title={"text": "channel"}, autorange="reversed")
        g.y(1, c).update(title={"text": "column"}, autorange="reversed")
        g.y(2, c).update(title={"text": "memory location"}, **row_axis(rows))
        g.x(2, c).update(title={"text": "time step"})
    g.cursor(cursor)
    g.layout.update(height=height, margin={"l": 70, "r": 16, "t": 40, "b": 48}, font=FONT,
                    plot_bgcolor="white")
    return go.Figure(traces, g.layout)


def target_output(
    targets: Any,
    outputs: Any,
    wrong: Any,
    *,
    steps: Sequence[int] | None = None,
    times: Sequence[int] | None = None,
    cursor: int | None = None,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Target (top) against output (bottom), time on x, bits on y; wrong bits marked with ×.

    ``targets``/``outputs``/``wrong`` are ``(T, C)``; ``steps`` picks which time steps to draw
    (e.g. only the scored ones; their true step numbers stay on the x-axis). When the arrays
    hold only some steps already, ``times`` gives their step numbers instead.
    """
    tgt, out, bad = as_array(targets), as_array(outputs), np.asarray(wrong, dtype=bool)
    if times is not None:
        t_idx, steps = np.asarray(list(times), dtype=int), list(times)
    else:
        t_idx = np.arange(tgt.shape[0]) if steps is None else np.asarray(list(steps), dtype=int)
        tgt, out, bad = tgt[t_idx], out[t_idx], bad[t_idx]
    channels = tgt.shape[1]
    g = _Grid(2, 1, vspace=0.16,
              titles=("Target", f"Output ({int(bad.sum())} wrong bits marked ×)"))
    x = [int(t) for t in t_idx]
    category = steps is not None
    traces: list[dict] = []
    for row, z, name in ((0, tgt, "target"), (1, out, "output")):
        traces.append(heatmap(
            z.T, colorscale=BITS_COLORSCALE, zmin=0, zmax=1, name=name, x=x,
            y=list(range(channels)), xgap=1 if len(x) <= 80 else 0, ygap=1,
            hover=f"t = %{{x}}<br>bit %{{y}}<br>{name} = %{{z:.3f}}<extra></extra>",
            **g.refs(row, 0),
        ))
    ts, cs = np.nonzero(bad)
    if ts.size:
        traces.append(dict(
            type="scatter", x=[x[i] for i in ts], y=cs.tolist(), mode="markers", name="wrong bit",
            marker={"symbol": "x-thin", "size": 11, "line": {"width": 3, "color": WRONG_COLOR}},
            hovertemplate="t = %{x}<br>bit %{y}: wrong<extra></extra>", **g.refs(1, 0),
        ))
    for r in (0, 1):
        g.y(r, 0).update(title={"text": "bit"}, autorange="reversed")
        g.x(r, 0).update(type="category" if category else "linear")
        if category and len(x) > 24:
            g.x(r, 0).update(tickmode="array", tickvals=x[:: int(np.ceil(len(x) / 12))])
    g.x(1, 0).update(title={"text": "time step"})
    if cursor is not None and cursor in x:
        g.cursor(cursor)
    g.layout.update(
        height=height or int(2 * (channels * 20 + 40) + 110), showlegend=False,
        margin={"l": 56, "r": 16, "t": 56 if title else 36, "b": 44}, font=FONT,
        plot_bgcolor=GRID_COLOR,
        title={"text": title, "font": {"size": 14}} if title else None,
    )
    for note in g.layout["annotations"]:
        note["font"] = {"size": 13}
    return go.Figure(traces, g.layout)


def stage_panel(previous: Any, content: Any, gated: Any, shifted: Any, sharpened: Any,
                *, rows: Sequence[int] | None = None, title: str | None = None,
                height: int | None = None, colorscale: list | None = None) -> go.Figure:
    """One head's addressing at one step: ``w_{t-1}`` and the four stages (eqs. 5, 7, 8, 9)
    as five columns over the memory rows, on the fixed 0..1 scale (``colorscale``, default the
    weighting scale), argmax outlined.

    ``rows`` (memory rows in display order, e.g. from :func:`focus_window`) zooms in; the
    argmax of each stage is outlined when it lies in view.
    """
    stack = np.stack([as_array(v) for v in (previous, content, gated, shifted, sharpened)])
    if rows is None:
        return weighting_heatmap(stack, x_labels=list(STAGE_NAMES), title=title, height=height,
                                 show_values=False if stack.shape[1] > 32 else None,
                                 colorscale=colorscale)
    rows = list(rows)
    z = stack[:, rows].T  # (rows, 5)
    y = [str(r) for r in rows]
    heat = weighting_trace(
        z, colorscale, x=list(STAGE_NAMES), y=y, ygap=1 if len(rows) <= 64 else 0, name="w",
        hover="%{x}<br>memory location %{y}<br>w = %{z:.4g}<extra></extra>",
    )
    # The stages are set apart by lines rather than by Plotly's xgap: a heatmap with gaps is
    # painted at full resolution on every redraw, which the trace player does at every step.
    shapes = [{"type": "line", "xref": "x", "yref": "y", "x0": i + 0.5, "x1": i + 0.5,
               "y0": -0.5, "y1": len(rows) - 0.5, "line": {"color": GRID_COLOR, "width": 2}}
              for i in range(len(STAGE_NAMES) - 1)]
    shapes += [
        outline(i - 0.5, i + 0.5, rows.index(int(r)) - 0.5, rows.index(int(r)) + 0.5, width=3)
        for i, r in enumerate(stack.argmax(axis=1)) if int(r) in rows
    ]
    layout = dict(
        title={"text": title, "font": {"size": 14}} if title else None, font=FONT,
        height=height or int(min(560, max(240, len(rows) * 16)) + 80), shapes=shapes,
        margin={"l": 56, "r": 12, "t": 40 if title else 12, "b": 40}, plot_bgcolor=GRID_COLOR,
        xaxis={"type": "category", "fixedrange": True, "showgrid": False, "side": "top"},
        yaxis={"title": {"text": "memory location"}, "fixedrange": True, "showgrid": False,
               **row_axis(rows)},
    )
    return go.Figure([heat], layout)


def stage_panels(stacks: Sequence[Sequence[Any]], *, rows: Sequence[int], gap: float = 0.06,
                 height: int | None = None, colorscale: list | None = None) -> go.Figure:
    """Several heads' :func:`stage_panel` side by side in one figure, head ``k`` on axes
    ``x{k+1}`` / ``y{k+1}`` (``x`` / ``y`` for the first), ``gap`` (a fraction of the width)
    between them. ``stacks[k]`` holds head ``k``'s five weightings (``w_{t-1}`` and the four
    stages). One figure redraws in one pass where one per head would take one each.
    """
    panels = [stage_panel(*stack, rows=rows, height=height, colorscale=colorscale)
              for stack in stacks]
    n = len(panels)
    width = (1 - gap * (n - 1)) / n
    fig = go.Figure(layout=panels[0].layout)
    fig.layout.shapes = []
    for k, panel in enumerate(panels):
        suffix = "" if k == 0 else str(k + 1)
        x, y = f"x{suffix}", f"y{suffix}"
        fig.add_trace(panel.data[0].update(xaxis=x, yaxis=y))
        lo = k * (width + gap)
        fig.layout[f"xaxis{suffix}"] = {**panel.layout.xaxis.to_plotly_json(),
                                        "domain": [lo, lo + width], "anchor": y}
        fig.layout[f"yaxis{suffix}"] = {**panel.layout.yaxis.to_plotly_json(), "anchor": x}
        for shape in panel.layout.shapes:
            fig.add_shape(shape.update(xref=x, yref=y))
    return fig


def vector_bars(values: Any, *, title: str, value_range: tuple[float, float] = (-1, 1),
                labels: Sequence[str] | None = None, height: int = 200,
                color: str | None = None) -> go.Figure:
    """A vector (key, erase, add, read ...) as one bar per component, fixed y-range."""
    v = as_array(values).ravel()
    x = list(labels) if labels is not None else [str(i) for i in range(v.size)]
    colors = color or ["#5aae61" if u >= 0 else "#9970ab" for u in v]
    bars = dict(type="bar", x=x, y=v, marker={"color": colors}, name=title,
                hovertemplate="component %{x}<br>value = %{y:.4g}<extra></extra>")
    lo, hi = value_range
    pad = 0.08 * (hi - lo)
    layout = dict(
        title={"text": title, "font": {"size": 13}}, height=height, font=FONT,
        margin={"l": 40, "r": 8, "t": 36, "b": 32}, plot_bgcolor="white", showlegend=False,
        xaxis={"type": "category", "fixedrange": True, "title": None},
        yaxis={"range": [lo - (pad if lo < 0 else 0), hi + pad], "fixedrange": True,
               "gridcolor": "#eee", "zerolinecolor": "#888"},
    )
    return go.Figure([bars], layout)


def memory_change(before: Any, after: Any, *, mark_rows: Sequence[int] = (),
                  rows: Sequence[int] | None = None, height: int | None = None) -> go.Figure:
    """The memory after a write (left) and the change ``M_t − M_{t−1}`` (right).

    The change has its own symmetric colour range so even a gentle write is visible;
    ``mark_rows`` (e.g. the write head's argmax row) are outlined; ``rows`` (memory rows in
    display order, e.g. from :func:`focus_window`) crops the view, keeping true row numbers.
    """
    n = len(rows) if rows is not None else as_array(after).shape[0]
    return write_panels(
        before, after, show_before=False, rows=rows, mark_rows=mark_rows, show_values=False,
        change_scale=True, x_title="column", gap=0.06, cell_gaps=False,
        height=height or int(min(620, max(260, n * 14)) + 90),
        titles=("Memory M<sub>t</sub> after the write", "Change M<sub>t</sub> − M<sub>t−1</sub>"),
    )
