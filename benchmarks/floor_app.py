"""Streamlit's floor for ``bench_browser_latency.py``: one slider, one heatmap, nothing else.

``streamlit run benchmarks/floor_app.py`` then ``?N=16``. Every slider move is a server round
trip that reruns this script and redraws one ``N × 1`` weighting heatmap with ``st.plotly_chart``:
the least a Streamlit page can do per move, so the playground is measured against it.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ntm.figures.style import WEIGHTING_COLORSCALE

st.set_page_config(page_title="Floor", layout="wide")
try:
    n = min(max(int(st.query_params.get("N", 16)), 3), 128)
except ValueError:
    n = 16
beta = st.slider("Key strength β", 0.0, 100.0, 10.0, 0.5, key="beta")
scores = beta * np.cos(np.arange(n) * 0.7)
w = np.exp(scores - scores.max())
w /= w.sum()
fig = go.Figure(
    go.Heatmap(z=w[:, None], zmin=0, zmax=1, colorscale=WEIGHTING_COLORSCALE, showscale=False,
               hovertemplate="row %{y}<br>w = %{z:.4g}<extra></extra>"),
    {"height": 560, "margin": {"l": 40, "r": 10, "t": 10, "b": 10},
     "yaxis": {"autorange": "reversed"}},
)
st.plotly_chart(fig, key="floor", config={"displayModeBar": False}, theme=None)
