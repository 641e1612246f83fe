"""Plotly.js for the in-browser components, served by this server from the installed ``plotly``
package: nothing is fetched from the internet, so a classroom without a connection works.

Streamlit serves the files of a folder registered with ``components.v1.declare_component`` at
``component/<name>/<file>``, with their real content type. Registering the ``plotly`` package's
own ``package_data`` folder serves its ``plotly.min.js`` (the same build the Python package
writes into exported HTML) without copying it into the project. The component JavaScript then
loads it once per page with :data:`LOADER_JS`.
"""

from __future__ import annotations

from pathlib import Path

import plotly
import streamlit.components.v1 as components

FOLDER = Path(plotly.__file__).resolve().parent / "package_data"
# Registering happens when this module is imported; the component is never mounted.
_REGISTERED = components.declare_component("plotly_js", path=str(FOLDER))
#: The script's address relative to the app's root (any ``server.baseUrlPath`` included).
SCRIPT_PATH = f"component/{_REGISTERED.name}/plotly.min.js"

#: JavaScript for a component's source: ``loadPlotly()`` resolves to ``window.Plotly``, adding
#: the script tag once per page however many components ask. Prepend it to a component's JS.
LOADER_JS = f"const PLOTLY_SCRIPT_PATH = {SCRIPT_PATH!r};\n" + """
function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__ntmPlotlyPromise) {
    window.__ntmPlotlyPromise = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      // The app's root: the page URL up to Streamlit's page segment (baseUrlPath kept).
      const root = new URL(".", document.baseURI);
      script.src = new URL(PLOTLY_SCRIPT_PATH, root).href;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        window.__ntmPlotlyPromise = null;
        reject(new Error("could not load Plotly.js from " + script.src));
      };
      document.head.appendChild(script);
    });
  }
  return window.__ntmPlotlyPromise;
}
"""
