"""Plotly.js for the in-browser components, served by this server from the installed ``plotly``
package: nothing is fetched from the internet, so a classroom without a connection works.

Streamlit serves the files of a folder registered with ``components.v1.declare_component`` at
``component/<name>/<file>``, with their real content type. Registering the ``plotly`` package's
own ``package_data`` folder serves its ``plotly.min.js`` (the same build the Python package
writes into exported HTML) without copying it into the project. The component JavaScript then
loads it once per page with :data:`LOADER_JS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly
import streamlit as st
import streamlit.components.v1 as components
from plotly.offline import get_plotlyjs_version

FOLDER = Path(plotly.__file__).resolve().parent / "package_data"
# Registering happens when this module is imported; the component is never mounted.
_REGISTERED = components.declare_component("plotly_js", path=str(FOLDER))
#: The script's address relative to the app's root (any ``server.baseUrlPath`` included).
SCRIPT_PATH = f"component/{_REGISTERED.name}/plotly.min.js"

#: The Plotly.js version the ``plotly`` package ships (the one the components draw with).
VERSION = get_plotlyjs_version()

#: JavaScript for a component's source: ``loadPlotly()`` resolves to the package's Plotly.js,
#: adding the script tag once per page however many components ask. Prepend it to a component's
#: JS. Another copy on the page (Streamlit's ``st.plotly_chart`` sets ``window.Plotly`` to its
#: own build) is never used in its place: the instance the script tag defines is kept aside as
#: ``window.__ntmPlotly`` the moment it loads, and its version is checked.
LOADER_JS = f"const PLOTLY_SCRIPT_PATH = {SCRIPT_PATH!r};\nconst PLOTLY_VERSION = {VERSION!r};\n" + """
function loadPlotly() {
  if (window.__ntmPlotly) return Promise.resolve(window.__ntmPlotly);
  if (!window.__ntmPlotlyPromise) {
    window.__ntmPlotlyPromise = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      // The app's root: the page URL up to Streamlit's page segment (baseUrlPath kept).
      const root = new URL(".", document.baseURI);
      script.src = new URL(PLOTLY_SCRIPT_PATH, root).href;
      script.onload = () => {
        // The load event follows the script's own execution in the same task: this is the
        // instance it defined, whatever window.Plotly held before.
        const Plotly = window.Plotly;
        if (!Plotly || Plotly.version !== PLOTLY_VERSION) {
          window.__ntmPlotlyPromise = null;
          reject(new Error(`expected Plotly.js ${PLOTLY_VERSION} from ${script.src}`));
          return;
        }
        window.__ntmPlotly = Plotly;
        resolve(Plotly);
      };
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


#: The in-browser components' JavaScript and CSS, shipped in the package.
ASSETS = Path(__file__).resolve().parent / "components"


def asset(name: str) -> str:
    """The text of a file shipped in ``ntm/app/components/``."""
    return (ASSETS / name).read_text(encoding="utf-8")


def component_js(name: str) -> str:
    """A component's module source: the Plotly.js loader, the helpers the components share
    (``common.js``), then the component's own file."""
    return LOADER_JS + asset("common.js") + asset(name)


@functools.cache
def _preloader() -> Callable[..., Any]:
    return st.components.v2.component(
        "ntm_plotly_preload",
        js=LOADER_JS + "export default function preload() { loadPlotly().catch(() => {}); }",
    )


def preload(key: str = "plotly_preload") -> None:
    """Start loading Plotly.js in the browser now (an empty element): the script is fetched and
    parsed while the rest of the page arrives and the server works (running a model), so the
    components find it ready. Put it where its zero height does not show, such as the sidebar."""
    _preloader()(key=key, width="content", height="content")
