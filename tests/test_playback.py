"""The stepper's playback state machine (``ntm.stepper.playback``), on a plain dict."""

import pytest

from ntm.stepper.playback import DEFAULT_SPEED, SPEEDS, Playback


def playback(last=10, **state):
    return Playback(dict(state), last)


@pytest.mark.parametrize("url, want", [("4", 4), ("99", 10), ("-1", 0), (None, 0), ("x", 0)])
def test_first_visit_takes_the_step_from_the_link(url, want):
    p = playback()
    p.start(url)
    assert p.t == want


def test_later_runs_keep_the_cursor_but_cut_it_to_a_shorter_sequence():
    p = playback(t=7)
    p.start("2")
    assert p.t == 7
    p = playback(last=5, t=7)
    p.start(None)
    assert p.t == 5


def test_moves_stay_in_range_and_stop_playing():
    p = playback(t=3)
    p.move(-5)
    assert p.t == 0
    p.move(to=99)
    assert p.t == 10
    p.state["playing"] = True
    p.move(to=4)
    assert (p.t, p.playing, p.state["_stop_timer"]) == (4, False, True)


def test_play_from_the_end_starts_again_and_pause_stops():
    p = playback(t=10)
    p.toggle()
    assert p.playing and p.t == 0
    p.toggle()
    assert not p.playing and p.t == 0


def test_ticks_advance_one_step_per_timed_run_and_stop_at_the_end():
    p = playback(last=2, t=0)
    assert p.interval() is None
    p.toggle()
    assert p.interval() == SPEEDS[DEFAULT_SPEED]
    assert p.tick() is False and p.t == 0  # the run that started playing does not advance
    assert p.tick() is False and p.t == 1
    assert p.tick() is False and p.t == 2
    assert p.tick() is True and not p.playing  # at the end: stop, rerun without the timer
    p.state["speed"] = "fast (8 steps/s)"
    p.toggle()
    assert p.interval() == 0.125


def test_a_step_button_while_playing_asks_for_one_full_rerun():
    p = playback(t=1, playing=True)
    p.move(1)
    assert p.tick() is True
    assert p.tick() is False and p.t == 2  # paused: ticks no longer advance
