"""NTM Explorer: the entry point. ``streamlit run explorer_app.py``.

This file only sets up the page, the navigation and the shared sidebar; every page lives in
``pages/`` and calls the ``ntm`` library and its figure builders.
"""

import os
from pathlib import Path

import streamlit as st
import torch

from ntm.app import colours, plotly_js

# Every session runs small models step by step: one intra-op thread per run is fastest, and on
# a busy server more threads only wait on each other (see README, "Benchmarks").
torch.set_num_threads(int(os.environ.get("NTM_TORCH_THREADS", "1")))

st.set_page_config(
    page_title="NTM Explorer",
    # a shipped image: a Material icon as page icon makes the browser fetch it from the web
    page_icon=str(Path(__file__).parent / "assets" / "icon.png"),
    layout="wide",
    initial_sidebar_state="auto",
)

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/lessons.py", title="Lessons", icon=":material/school:", url_path="lessons"),
    st.Page("pages/playground.py", title="Addressing playground", icon=":material/tune:", url_path="playground"),
    st.Page("pages/stepper.py", title="Model stepper", icon=":material/play_circle:", url_path="stepper"),
    st.Page("pages/generalisation.py", title="Generalisation", icon=":material/trending_up:", url_path="generalisation"),
    st.Page("pages/train.py", title="Train it yourself", icon=":material/model_training:", url_path="train"),
]

navigation = st.navigation(PAGES)
#: Pages whose in-browser components draw with the ``plotly`` package's Plotly.js.
PLOTLY_PAGES = {"lessons", "playground", "stepper", "train"}

with st.sidebar:
    if navigation.url_path in PLOTLY_PAGES:
        plotly_js.preload()  # fetched and parsed while the page's own elements arrive
    st.caption(
        "NTM Explorer · Neural Turing Machines (Graves, Wayne & Danihelka 2014), "
        "addressing eqs. 5–9 drawn stage by stage."
    )
colours.sidebar()  # the colour choice and its legend, for every page (and in the URL)

navigation.run()
