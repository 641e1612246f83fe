"""NTM Explorer: the entry point. ``streamlit run explorer_app.py``.

This file only sets up the page, the navigation and the shared sidebar; every page lives in
``pages/`` and calls the ``ntm`` library and its figure builders.
"""

import os
from pathlib import Path

import streamlit as st
import torch

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

with st.sidebar:
    st.caption(
        "NTM Explorer · Neural Turing Machines (Graves, Wayne & Danihelka 2014), "
        "addressing eqs. 5–9 drawn stage by stage."
    )

navigation.run()
