"""The stepper's playback: the speeds the trace player offers and the step a link opens at.

The cursor itself lives in the browser (``ntm/app/components/trace_player.js``): stepping and
playing never ask the server. The server only hears where the cursor stopped, to put it in
the URL (``t``), and opens the next visit there.
"""

from __future__ import annotations

from ..urlcheck import parse_step

#: Play speeds, in steps per second (the player's speed buttons).
SPEEDS = (1, 3, 8, 15)
DEFAULT_SPEED = 3


def opening_step(url_step: str | None, last: int) -> int:
    """The step a link opens at (its ``t``), cut to ``0 .. last``; 0 without a usable ``t``."""
    return parse_step(url_step, last)
