"""The stepper's playback settings (``ntm.stepper.playback``): the speeds the trace player
offers and the step a link opens at. Stepping and playing happen in the browser
(``tests/browser/test_browser_trace_player.py``)."""

import pytest

from ntm.stepper.playback import DEFAULT_SPEED, SPEEDS, opening_step


def test_the_speeds_the_issue_asks_for():
    assert SPEEDS == (1, 3, 8, 15) and DEFAULT_SPEED in SPEEDS


@pytest.mark.parametrize(("url", "want"), [("4", 4), ("99", 10), ("-1", 0), (None, 0), ("x", 0),
                                           ("nan", 0), ("inf", 0), ("2.7", 2)])
def test_a_link_opens_at_its_step_cut_to_the_sequence(url, want):
    assert opening_step(url, 10) == want
