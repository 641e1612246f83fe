"""A tiny Streamlit app that mounts only the addressing panel, for the browser tests.

``streamlit run tests/browser/apps/addressing_panel_app.py`` then ``?N=16&M=6&seed=0&labels=1``.
It keeps the released controls in the session (as the playground page will), and prints the
number of script runs, of releases and the current controls as JSON for the tests to read.
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from ntm.app.addressing_panel import StageControls, addressing_panel

st.set_page_config(page_title="Addressing panel", layout="wide")


def _int(name: str, default: int, lo: int, hi: int) -> int:
    try:
        return min(max(int(st.query_params.get(name, default)), lo), hi)
    except ValueError:
        return default


n = _int("N", 16, 3, 128)
m = _int("M", 6, 1, 20)
seed = _int("seed", 0, 0, 9999)
rng = np.random.default_rng(seed)
memory = rng.uniform(-1.0, 1.0, (n, m))
k = memory[5 % n] + 0.2 * rng.standard_normal(m)
labels = [f"item {i}" for i in range(n)] if st.query_params.get("labels") else None

state = st.session_state
state.setdefault("controls", StageControls())
state.setdefault("releases", 0)
state.runs = state.get("runs", 0) + 1

st.title("Addressing panel")
new = addressing_panel(memory, k, state.controls, row_labels=labels, key="panel")
if new != state.controls:
    state.controls = new
    state.releases += 1
st.code(
    json.dumps({"runs": state.runs, "releases": state.releases, "controls": new.to_json()}),
    language="json",
)
