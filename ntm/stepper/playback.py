"""The stepper's time cursor: step, jump, play and pause, as a small state machine.

The state lives in a mutable mapping that the page passes in (``st.session_state``), so the
time slider bound to key ``t`` and these methods share one value; a plain ``dict`` tests it.
Keys: ``t`` (the cursor), ``playing``, ``_tick`` (the next timed run of the playing fragment
advances one step) and ``_stop_timer`` (a full rerun must drop the fragment's timer, which a
fragment cannot do from inside itself).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from ..urlcheck import parse_step

#: Playback speeds: label -> seconds per step.
SPEEDS = {"slow (1 step/s)": 1.0, "medium (3 steps/s)": 0.33, "fast (8 steps/s)": 0.125}
DEFAULT_SPEED = "medium (3 steps/s)"


class Playback:
    """A cursor over steps ``0 .. last`` that can play forward on a timer."""

    def __init__(self, state: MutableMapping[str, Any], last: int) -> None:
        self.state, self.last = state, last

    @property
    def t(self) -> int:
        return int(self.state["t"])

    @property
    def playing(self) -> bool:
        return bool(self.state.get("playing", False))

    def start(self, url_step: str | None) -> None:
        """Put the cursor in range: on a first visit where the link says (``t=...``), later
        where it was, cut to a shorter sequence's last step."""
        if "t" not in self.state:
            self.state["t"] = parse_step(url_step, self.last)
        self.state["t"] = min(self.t, self.last)

    def move(self, delta: int | None = None, to: int | None = None) -> None:
        """A step button: move by ``delta`` or to step ``to``, and stop playing."""
        self.state["t"] = max(0, min(self.last, to if to is not None else self.t + (delta or 0)))
        if self.playing:
            self.state["playing"] = False
            self.state["_stop_timer"] = True

    def toggle(self) -> None:
        """Play or pause; playing from the last step starts again at 0."""
        self.state["playing"] = not self.playing
        if self.playing and self.t >= self.last:
            self.state["t"] = 0

    def tick(self) -> bool:
        """Called at the start of every run of the playing view: advance one step on a timed
        run. True when the page must rerun in full (to stop or drop the timer)."""
        if self.state.pop("_stop_timer", False):
            return True
        if self.playing and self.state.pop("_tick", False):
            if self.t >= self.last:
                self.state["playing"] = False
                return True
            self.state["t"] = self.t + 1
        self.state["_tick"] = True
        return False

    def interval(self) -> float | None:
        """Seconds between timed runs while playing (``None``: no timer)."""
        if not self.playing:
            return None
        return SPEEDS.get(self.state.get("speed"), SPEEDS[DEFAULT_SPEED])
