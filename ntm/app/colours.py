"""The app's one colour choice: a sidebar selector with its legend, and ``colors`` in the URL.

``explorer_app.py`` calls :func:`sidebar` on every run, before the page: the first time in a
session it reads ``colors=default|cividis`` from the link (a value it cannot use is dropped from
the URL, with a notice), then draws the selector and a legend of what the colours mean, and
keeps ``colors`` in the address bar on every page. The choice lives in ``st.session_state``
under the selector's key, so it survives page navigation.

A page asks for :func:`current` (the scale's name) or :func:`scale` (the weighting colour
scale itself) and hands it to its figure builders; a page that rewrites its whole URL adds
:func:`query`. Under AppTest a page runs without the entry script: :func:`current` then reads
the link itself.
"""

from __future__ import annotations

import streamlit as st

from ..figures.style import (
    DEFAULT_SCALE,
    MEMORY_COLORSCALE,
    MEMORY_SCALE_WORDS,
    WEIGHTING_SCALE_WORDS,
    WEIGHTING_SCALES,
    weighting_scale,
)
from ..urlcheck import COLOURS_PARAM, parse_colors

#: The selector's key in ``st.session_state`` (the URL parameter's name too).
KEY = COLOURS_PARAM
NOTICE = "_colours_notice"
LABELS = {"default": "Default", "cividis": "Cividis"}
#: Said under the swatches, so the choice explains itself.
ABOUT = {"default": "Cividis, the other choice, stays readable with colour-vision deficiency.",
         "cividis": "Cividis stays readable with colour-vision deficiency and in greyscale."}


def current() -> str:
    """The chosen weighting scale's name: ``"default"`` or ``"cividis"``."""
    chosen = st.session_state.get(KEY)
    if chosen in WEIGHTING_SCALES:
        return chosen
    return parse_colors(st.query_params.get_all(COLOURS_PARAM))[0]


def scale() -> list:
    """The chosen weighting colour scale (``[[stop, "#rrggbb"], ...]``, over 0..1)."""
    return weighting_scale(current())


def sequential() -> list | None:
    """For a sequential figure that is not a weighting (errors over two sizes): the cividis
    scale when chosen, else ``None`` (the builder keeps its own default)."""
    name = current()
    return None if name == DEFAULT_SCALE else weighting_scale(name)


def query() -> dict[str, str]:
    """The URL parameter of the choice: ``{"colors": "cividis"}``; nothing for the default."""
    name = current()
    return {} if name == DEFAULT_SCALE else {COLOURS_PARAM: name}


def _read_url_once() -> None:
    if KEY in st.session_state:
        return
    name, notice = parse_colors(st.query_params.get_all(COLOURS_PARAM))
    st.session_state[KEY] = name
    st.session_state[NOTICE] = notice


def sync_url() -> None:
    """Make the address bar hold the choice (written only when it differs)."""
    wanted = query().get(COLOURS_PARAM)
    if wanted is None:
        if COLOURS_PARAM in st.query_params:
            del st.query_params[COLOURS_PARAM]
    elif st.query_params.get_all(COLOURS_PARAM) != [wanted]:
        st.query_params[COLOURS_PARAM] = wanted


def _forget_notice() -> None:
    st.session_state[NOTICE] = None


def sidebar() -> None:
    """The selector and its legend in the sidebar; a notice about the link, if any, on top of
    the page. Call on every run of the entry script, before the page runs."""
    _read_url_once()
    with st.sidebar:
        st.segmented_control(
            "Weighting colours", list(WEIGHTING_SCALES), key=KEY, required=True,
            format_func=LABELS.get, on_change=_forget_notice,
            help="Weightings in the default scale or in cividis, which stays readable with "
                 "colour-vision deficiency and in greyscale. Memory contents keep their "
                 "diverging scale. In the link as `colors=`.")
        st.html(legend_html(current()))
    notice = st.session_state.get(NOTICE)
    if notice:
        st.warning(f"The link's colour choice could not be used as given: {notice}",
                   icon=":material/link_off:")
        st.button("Dismiss", key="colours_dismiss", on_click=_forget_notice, type="tertiary")
    sync_url()


def gradient(colorscale: list) -> str:
    """A CSS ``linear-gradient`` through the scale's stops, left to right."""
    stops = ", ".join(f"{c} {100 * float(t):.1f}%" for t, c in colorscale)
    return f"linear-gradient(to right, {stops})"


def legend_html(name: str) -> str:
    """What the colours mean: a gradient swatch and its words, for weightings and for memory.
    The swatches are decoration; the words carry the meaning."""
    rows = [
        ("Weightings", weighting_scale(name), ("0", "1"), WEIGHTING_SCALE_WORDS[name]),
        ("Memory", MEMORY_COLORSCALE, ("−", "0", "+"), MEMORY_SCALE_WORDS),
    ]
    parts = []
    for title, colorscale, ticks, words in rows:
        marks = "".join(f"<span>{t}</span>" for t in ticks)
        parts.append(
            f'<div class="ntm-legend-row" data-scale="{title.lower()}">'
            f'<div class="ntm-swatch" aria-hidden="true" style="background: {gradient(colorscale)}">'
            f"</div><div class=\"ntm-ticks\" aria-hidden=\"true\">{marks}</div>"
            f"<p><b>{title}:</b> {words}.</p></div>")
    return (f'<div class="ntm-legend" data-colors="{name}" role="group" '
            f'aria-label="What the colours mean">{"".join(parts)}'
            "<p>Values are also written in the cells and shown on hover; the largest weight is "
            f"outlined. {ABOUT[name]}</p></div>{LEGEND_CSS}")


LEGEND_CSS = """<style>
.ntm-legend { line-height: 1.35; }
.ntm-legend p { font-size: 0.85rem; margin: 0 0 0.5rem 0; }
.ntm-legend p:last-child { color: rgba(49, 51, 63, 0.7); }
.ntm-legend-row { margin-bottom: 0.15rem; }
.ntm-swatch { height: 0.7rem; border-radius: 3px; border: 1px solid #bbb; }
.ntm-ticks { display: flex; justify-content: space-between; font-size: 0.72rem;
             line-height: 1.1; color: rgba(49, 51, 63, 0.7); margin: 0.1rem 0 0.15rem; }
</style>"""
