"""The generalisation page's charts: errors against size, an evaluation over length x repeats
(repeat copy) and learning curves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .style import (
    FONT,
    GRID_COLOR,
    MODEL_COLORS,
    PALETTE,
)

#: Errors over two sizes: white (none) .. dark red (every bit wrong).
ERRORS_COLORSCALE = [[0.0, "#ffffff"], [0.02, "#fee8c8"], [0.3, "#fc8d59"], [1.0, "#7f0000"]]


def _lines(series: Mapping[str, Sequence[tuple[float, float]]], *, x_title: str, y_title: str,
           x_hover: str, marker: int, height: int, x_axis: dict, y_axis: dict) -> go.Figure:
    """One coloured line per named series of (x, y) points, legend on top."""
    traces = [
        dict(type="scatter", x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines+markers",
             name=name, marker={"size": marker},
             line={"color": MODEL_COLORS.get(name, PALETTE[i % len(PALETTE)]), "width": 3},
             hovertemplate=f"{name}<br>{x_hover}<br>{y_title} = %{{y:.4g}}<extra></extra>")
        for i, (name, pts) in enumerate(series.items()) if pts
    ]
    return go.Figure(traces, _layout(x_title, y_title, height, x_axis, y_axis))


def _layout(x_title: str, y_title: str, height: int, x_axis: dict, y_axis: dict) -> dict:
    """The look of every line chart on the page: white, light grid, legend on top."""
    return dict(
        height=height, font=FONT, plot_bgcolor="white", margin={"l": 64, "r": 16, "t": 24, "b": 48},
        xaxis={"title": {"text": x_title}, "gridcolor": "#eee", **x_axis},
        yaxis={"title": {"text": y_title}, "gridcolor": "#eee", **y_axis},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )


def error_curve(results: Mapping[str, Sequence[Mapping]], *, x: str = "length",
                y: str = "bit_errors", y_title: str = "bit errors per sequence",
                train_max: int | None = None, log_y: bool = False, height: int = 380
                ) -> go.Figure:
    """One line per model of ``y`` against ``x`` (from evaluation rows, e.g.
    ``{"NTM": [{"length": 10, "bit_errors": 0.0}, ...]}``); the training range is shaded."""
    series = {name: sorted((r[x], r[y]) for r in rows if x in r and y in r)
              for name, rows in results.items()}
    fig = _lines(series, x_title=x, y_title=y_title, x_hover=f"{x} = %{{x}}", marker=8,
                 height=height, x_axis={"rangemode": "tozero"},
                 y_axis={"type": "log"} if log_y else {"rangemode": "tozero"})
    return _shade_training_range(fig, train_max)


def _shade_training_range(fig: go.Figure, train_max: int | None) -> go.Figure:
    if train_max is not None:
        fig.add_vrect(x0=0, x1=train_max, fillcolor="#2ca02c", opacity=0.08, line_width=0,
                      annotation_text="training range", annotation_position="top left")
    return fig


def evaluation_heatmap(rows: Sequence[Mapping], *, x: str = "length", y: str = "repeats",
                       value: str = "bits_wrong_pct", value_title: str = "% bits wrong",
                       train_max: tuple[int, int] | None = None, height: int = 420,
                       colorscale: list | None = None) -> go.Figure:
    """An evaluation over two sizes (repeat copy: length x repeats) as a heatmap of ``value``.

    Each cell is labelled with its value; cells with no evaluation stay blank. ``train_max``
    (``(x_max, y_max)``) outlines the training range, so what lies outside it reads as
    generalisation. ``colorscale`` is a sequential scale from 0 (the default: white to dark red;
    ``style.CIVIDIS_COLORSCALE`` for the colour-vision-safe choice).
    """
    xs = sorted({int(r[x]) for r in rows if x in r and y in r})
    ys = sorted({int(r[y]) for r in rows if x in r and y in r})
    col, row = {v: i for i, v in enumerate(xs)}, {v: i for i, v in enumerate(ys)}
    z = np.full((len(ys), len(xs)), np.nan)
    for r in rows:
        if x in r and y in r and value in r:
            z[row[int(r[y])], col[int(r[x])]] = float(r[value])
    text = [["" if np.isnan(v) else f"{v:.2g}" for v in row] for row in z]
    zmax = max(1.0, float(np.nanmax(z)) if np.isfinite(z).any() else 1.0)
    trace = dict(
        type="heatmap", z=z, x=[str(v) for v in xs], y=[str(v) for v in ys], text=text,
        texttemplate="%{text}", textfont={"size": 11}, zmin=0, zmax=zmax,
        colorscale=colorscale or ERRORS_COLORSCALE,
        colorbar={"thickness": 12, "title": {"text": value_title}}, xgap=1, ygap=1,
        hovertemplate=f"{x} %{{x}}, {y} %{{y}}<br>{value_title}: %{{z:.4g}}<extra></extra>",
    )
    layout = dict(
        height=height, font=FONT, plot_bgcolor=GRID_COLOR,
        margin={"l": 64, "r": 16, "t": 24, "b": 48},
        xaxis={"title": {"text": x}, "type": "category"},
        yaxis={"title": {"text": y}, "type": "category"},
    )
    fig = go.Figure([trace], layout)
    if train_max is not None:
        inside_x = [i for i, v in enumerate(xs) if v <= train_max[0]]
        inside_y = [i for i, v in enumerate(ys) if v <= train_max[1]]
        if inside_x and inside_y:
            fig.add_shape(type="rect", x0=min(inside_x) - 0.5, x1=max(inside_x) + 0.5,
                          y0=min(inside_y) - 0.5, y1=max(inside_y) + 0.5,
                          line={"color": "#2ca02c", "width": 2.5})
            fig.update_layout(title={"text": "training range outlined in green",
                                     "font": {"size": 13, "color": "#2ca02c"}, "x": 0.01},
                              margin={"t": 40})
    return fig


def learning_curves(curves: Mapping[str, Sequence[Mapping]], *, y: str = "cost",
                    y_title: str = "cost (bits per sequence)", log_x: bool = True,
                    height: int = 380) -> go.Figure:
    """``y`` against sequences seen, one line per model, log-x by default (the paper's
    Figure 3)."""
    series = {name: [(r["sequences"], r[y]) for r in rows if r.get("sequences", 0) > 0 and y in r]
              for name, rows in curves.items()}
    return _lines(series, x_title="sequences seen", y_title=y_title,
                  x_hover="%{x:,} sequences", marker=5, height=height,
                  x_axis={"type": "log" if log_x else "linear"}, y_axis={"rangemode": "tozero"})


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _band(name: str, color: str, xs: list, lo: list, hi: list, mid: list, seeds: int,
          x: str) -> list[dict]:
    """A median line over a filled min-max band (the band's lower edge first, invisible)."""
    edge = dict(type="scatter", x=xs, mode="lines", line={"width": 0}, hoverinfo="skip",
                showlegend=False, legendgroup=name)
    return [
        {**edge, "y": lo},
        {**edge, "y": hi, "fill": "tonexty", "fillcolor": _rgba(color, 0.22),
         "name": f"{name}: best to worst seed", "showlegend": True},
        dict(type="scatter", x=xs, y=mid, mode="lines+markers", name=f"{name}: median of {seeds}",
             legendgroup=name, line={"color": color, "width": 3}, marker={"size": 8},
             customdata=list(zip(lo, hi, strict=True)),
             hovertemplate=f"{name}, {x} = %{{x}}<br>median %{{y:.4g}} · min %{{customdata[0]:.4g}}"
                           f" · max %{{customdata[1]:.4g}} over {seeds} seeds<extra></extra>"),
    ]


def seed_band(summaries: Mapping[str, Mapping], *, x: str = "length",
              y_title: str = "bit errors per sequence", train_max: int | None = None,
              log_y: bool = False, height: int = 380) -> go.Figure:
    """Per model, the median over seeds of bit errors against ``x`` with the min-max band
    (``summaries``: name -> an ``ntm.seeds`` document)."""
    traces = []
    for i, (name, doc) in enumerate(summaries.items()):
        rows = sorted(doc["summary"], key=lambda r: r[x])
        color = MODEL_COLORS.get(name, PALETTE[i % len(PALETTE)])
        traces += _band(name, color, [r[x] for r in rows], [r["min"] for r in rows],
                        [r["max"] for r in rows], [r["median"] for r in rows],
                        len(doc["seeds"]), x)
    fig = go.Figure(traces, _layout(x, y_title, height, {"rangemode": "tozero"},
                                    {"type": "log"} if log_y else {"rangemode": "tozero"}))
    return _shade_training_range(fig, train_max)


def seed_curves(summaries: Mapping[str, Mapping], *, y: str = "bit_errors",
                y_title: str = "bit errors per sequence", height: int = 380) -> go.Figure:
    """Every seed's learning curve, one thin line each, coloured by model (log x)."""
    traces = []
    for i, (name, doc) in enumerate(summaries.items()):
        color = MODEL_COLORS.get(name, PALETTE[i % len(PALETTE)])
        for k, rec in enumerate(doc["seeds"]):
            pts = [(p["sequences"], p[y]) for p in rec["curve"] if p.get("sequences", 0) > 0
                   and y in p]
            traces.append(dict(
                type="scatter", x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines",
                name=name, legendgroup=name, showlegend=k == 0,
                line={"color": color, "width": 1.5}, opacity=0.8,
                hovertemplate=f"{name}, seed {rec['seed']}<br>%{{x:,}} sequences<br>{y_title} = "
                              "%{y:.4g}<extra></extra>"))
    return go.Figure(traces, _layout("sequences seen", y_title, height, {"type": "log"},
                                     {"rangemode": "tozero"}))
