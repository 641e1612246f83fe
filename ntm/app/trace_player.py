"""The trace player: one recorded episode stepped and played in the browser (components v2).

The server packs an episode once (:func:`ntm.stepper.player.episode_payload`: the figures as
Plotly JSON and the trace as binary arrays) and mounts the player with it. From then on every
cursor move happens in the page: First, Back, Next, Last, the slider, the ← → Home End keys,
Play at 1, 3, 8 or 15 steps a second and the narration's "go to step" buttons restyle the
figures in place with Plotly.js (served by this server, :mod:`ntm.app.plotly_js`). The server
hears only where the cursor stopped::

    payload = player.episode_payload(ep, start=t)
    stopped = trace_player(payload, key="player")
    if stopped is not None:
        st.query_params["t"] = str(stopped)

Keep ``payload`` the same bytes across reruns (build it once per episode): Streamlit then sends
the element by reference, and the browser keeps its cursor while the episode id stays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import streamlit as st

from . import plotly_js

COMPONENT_NAME = "ntm_trace_player"


@functools.cache
def _component() -> Callable[..., Any]:
    """Register the component once per process and return its mounting command.

    Not style-isolated: Plotly.js puts its own rules (hover labels, mode bar) in the document's
    head, which a shadow root would not see. The player's rules are all under ``.ntm-tp``.
    """
    return st.components.v2.component(
        COMPONENT_NAME,
        html='<div class="ntm-trace-player"></div>',
        css=plotly_js.asset("trace_player.css"),
        js=plotly_js.LOADER_JS + plotly_js.asset("svg_bars.js") + plotly_js.asset("trace_player.js"),
        isolate_styles=False,
    )


def stopped_step(result: Any, steps: int) -> int | None:
    """The step the browser reported stopping at, if this run carries one and it is usable."""
    value = getattr(result, "stop", None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or not 0 <= value < steps:  # NaN, or out of range
        return None
    return int(value)


def trace_player(payload: bytes, steps: int, *, key: str = "trace_player",
                 on_stop: Callable[[], None] | None = None) -> int | None:
    """Mount the player on ``payload`` (an episode of ``steps`` steps); return the step where
    the cursor stopped in the run that message caused, else ``None``.

    ``key`` is the Streamlit element key: keep it stable so the player is updated in place.
    ``on_stop`` (if given) runs first, like a widget callback.
    """
    result = _component()(
        key=key,
        data=payload,
        on_stop_change=on_stop or (lambda: None),
        width="stretch",
        height="content",
    )
    return stopped_step(result, steps)
