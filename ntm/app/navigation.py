"""Make a page opened by its own URL run inside the app's ``st.navigation``.

Streamlit runs in "pages directory" mode (MPA v1) until the entry script has called
``st.navigation`` once in this server process. Because the explorer keeps its pages in
``pages/``, the first visitors of a freshly started server who open a deep link such as
``/playground?beta=50`` would otherwise get the page script on its own: no wide layout, no
shared sidebar, and a navigation listing the raw file names. :func:`ensure_app_navigation`
detects that case, switches the server to ``st.navigation`` mode and reruns, so the entry
script runs and routes to the same page with the same query parameters.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_app_navigation() -> None:
    """Call first thing in every page: reruns through the entry script when needed."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
