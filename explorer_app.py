"""NTM Explorer: the entry point. ``streamlit run explorer_app.py``.

This file only sets up the page, the navigation and the shared sidebar; every page lives in
``pages/`` and calls the ``ntm`` library and its figure builders.
"""

import streamlit as st

st.set_page_config(
    page_title="NTM Explorer",
    page_icon=":material/memory:",
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
]

navigation = st.navigation(PAGES)

with st.sidebar:
    st.caption(
        "NTM Explorer · Neural Turing Machines (Graves, Wayne & Danihelka 2014), "
        "addressing eqs. 5–9 drawn stage by stage."
    )

navigation.run()
