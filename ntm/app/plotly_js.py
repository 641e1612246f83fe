"""Plotly.js for the in-browser components, served by this server: nothing is fetched from the
internet, so a classroom without a connection works.

The components draw heatmaps, bars and lines only, so they load Plotly.js's official
*cartesian* partial bundle (``vendor/plotly-cartesian.min.js``, from the ``plotly.js`` npm
package, MIT licence beside it): 1.5 MB instead of 4.8, and about half the time to parse and run
when a page opens (0.7-1.0 s against 1.4-2.2 s in Chromium on the 2-core machine). It is used
only while its version is the one the installed ``plotly`` package ships, the version the
Python figure builders write for; otherwise the package's own full ``plotly.min.js`` is served.

Streamlit serves the files of a folder registered with ``components.v1.declare_component`` at
``component/<name>/<file>``, with their real content type. The component JavaScript loads the
script once per page with :data:`LOADER_JS`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly
import streamlit as st
import streamlit.components.v1 as components
from plotly.offline import get_plotlyjs_version

#: The Plotly.js version the ``plotly`` package ships (the one the components draw with).
VERSION = get_plotlyjs_version()
PACKAGE_FOLDER = Path(plotly.__file__).resolve().parent / "package_data"
VENDOR_FOLDER = Path(__file__).resolve().parent / "vendor"
PARTIAL = "plotly-cartesian.min.js"


def bundle_version(path: Path) -> str | None:
    """The version in a Plotly.js bundle's banner (``plotly.js (cartesian - minified) v4.1.1``)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as bundle:
            head = bundle.read(300)  # the banner, not the whole 1.5 MB
    except OSError:
        return None
    match = re.search(r"plotly\.js\b[^\n]*\bv(\d+\.\d+\.\d+)", head)
    return match[1] if match else None


def choose_script(vendored: str | None, package: str) -> tuple[Path, str]:
    """(folder, file) to serve: the partial bundle when it is the package's version, else the
    package's full build."""
    if vendored == package:
        return VENDOR_FOLDER, PARTIAL
    return PACKAGE_FOLDER, "plotly.min.js"


FOLDER, SCRIPT_FILE = choose_script(bundle_version(VENDOR_FOLDER / PARTIAL), VERSION)
# Registering happens when this module is imported; the component is never mounted.
_REGISTERED = components.declare_component("plotly_js", path=str(FOLDER))
#: The script's address relative to the app's root (any ``server.baseUrlPath`` included).
SCRIPT_PATH = f"component/{_REGISTERED.name}/{SCRIPT_FILE}"

#: JavaScript for a component's source: ``loadPlotly()`` resolves to the served Plotly.js,
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
