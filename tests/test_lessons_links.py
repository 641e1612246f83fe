"""The lesson's URL: place, answers and display survive a round trip; a teacher's hidden and
locked controls hold against a hand-edited link (with a notice); the QR code holds exactly the
link, read back from its modules by a small decoder written here against the standard (segno's
own data: its matrix, version, error level and mask, and its tables)."""

from __future__ import annotations

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from segno import consts, encoder

from ntm.lessons import links
from ntm.lessons.controls import CONTROLS, parse_hide, parse_lock
from ntm.lessons.steps import QUESTIONS, STEPS


def parse(query: str) -> tuple[links.LessonState, list[str]]:
    params: dict[str, list[str]] = {}
    for part in filter(None, query.split("&")):
        name, _, value = part.partition("=")
        params.setdefault(name, []).append(value)
    return links.parse_query(params)


def test_an_empty_link_opens_step_one_with_nothing_answered():
    state, notices = links.parse_query({})
    assert state == links.LessonState() and notices == []
    assert links.to_query(state) == {"step": "1"}


def test_a_students_link_round_trips_place_answers_controls_and_display():
    state, notices = parse("step=6&q2=5&q3a=0.4&q3b=100&q6a=8&kernel=p1&prow=3&projector=true"
                           "&classroom=true&colors=cividis&motion=reduce")
    assert notices == []
    assert state.step == 6 and state.answers == {"q2": "5", "q3a": "0.4", "q3b": "100", "q6a": "8"}
    assert state.chosen == {"kernel": "p1", "prow": 3}
    assert state.projector and state.classroom and state.reduce_motion
    assert state.colors == "cividis"
    again, notices = links.parse_query(links.to_query(state))
    assert again == state and notices == []


def test_a_preset_value_is_not_written_back():
    state = links.LessonState(step=6, chosen={"kernel": "p3", "prow": 5})  # step 6's preset
    assert links.to_query(state) == {"step": "6"}


@given(step=st.integers(1, len(STEPS)), answered=st.sets(st.sampled_from(sorted(QUESTIONS))),
       flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
       colors=st.sampled_from(["default", "cividis"]))
@settings(max_examples=60, deadline=None)
def test_round_trip_of_any_state(step, answered, flags, colors):
    answers = {}
    for qid in answered:
        _, q = QUESTIONS[qid]
        choices = getattr(q, "choices", None)
        answers[qid] = (next(iter(choices())) if choices else "3" if q.kind == "row" else "0.5")
    state = links.LessonState(step=step, answers=answers, classroom=flags[0], projector=flags[1],
                              reduce_motion=flags[2], colors=colors, hide=frozenset({"gamma"}),
                              lock={"beta": 20.0, "kernel": "p1"})
    again, notices = links.parse_query(links.to_query(state))
    assert notices == [] and again == state


@pytest.mark.parametrize(("query", "notice"), [
    ("step=11", "`step=11` is not a step from 1 to 10"),
    ("step=abc", "`step=abc` is not a step"),
    ("q2=99", "`q2=99` is not a row from 0 to 15"),
    ("q3a=nan", "`q3a=nan` is not a number"),
    ("q3b=7", "`q3b=7` is not one of 0.5, 10, 100"),
    ("colors=rainbow", "`colors=rainbow` is not one of default, cividis"),
    ("projector=maybe", "`projector=maybe` is not true or false"),
    ("step=3&gamma=5", "`gamma=5`: step 3 has no such control"),
    ("step=3&beta=abc", "`beta=abc` is not a number; ignored"),
    ("lock=warp:9", "`lock=warp:9` names no control"),
    ("lock=beta:abc", "`lock=beta:abc`: the value is not a number; not locked"),
    ("hide=warp", "`hide` names `warp`"),
    ("whatever=1", "unknown parameter `whatever` ignored"),
    ("step=2&step=4", "`step` is given 2 times"),
])
def test_bad_values_are_ignored_with_a_notice(query, notice):
    state, notices = parse(query)
    assert any(notice in n for n in notices), notices
    assert 1 <= state.step <= len(STEPS)


def test_numbers_are_clamped_and_the_last_repeat_wins():
    state, notices = parse("step=2&step=4&q3a=5&beta=1000")
    assert state.step == 4 and state.answers == {"q3a": "1"}
    assert state.chosen == {"beta": 100.0}
    assert any("outside the control's range; using 100" in n for n in notices)


def test_hostile_text_is_quoted_plainly():
    state, notices = parse("q2=%60%5Bx%5D(http://evil)%0A%0A%23&lock=beta:%60x")
    assert all("\n" not in n for n in notices)
    assert state.answers == {} and state.lock == {}


# ------------------------------------------------------------------ teacher links


def test_a_teacher_link_parses_hidden_and_locked_controls():
    query = links.teacher_query(4, hide={"beta"}, lock={"kmix": 0.25}, classroom=True,
                                projector=True, colors="cividis")
    assert query == {"step": "4", "hide": "beta", "lock": "kmix:0.25", "classroom": "true",
                     "projector": "true", "colors": "cividis"}
    url = links.lesson_url("http://school:8501/", query)
    assert url == ("http://school:8501/lessons?step=4&hide=beta&lock=kmix:0.25&classroom=true"
                   "&projector=true&colors=cividis")
    state, notices = links.parse_query(query)
    assert notices == [] and state.hide == {"beta"} and state.lock == {"kmix": 0.25}
    assert state.shown_controls(STEPS[3]) == ["kmix"]


def test_a_locked_value_in_the_link_wins_over_a_hand_edited_one():
    state, notices = parse("step=4&lock=beta:20&beta=100")
    assert "beta" not in state.chosen and state.lock == {"beta": 20.0}
    assert notices == ["Key strength β is locked to `20` by this lesson link; `beta=100` "
                       "ignored."]
    same, notices = parse("step=4&lock=beta:20&beta=20")  # agreeing with the lock: no notice
    assert notices == [] and "beta" not in same.chosen


def test_a_hidden_control_refuses_a_value_from_the_link():
    state, notices = parse("step=7&hide=gamma&gamma=50")
    assert state.chosen == {} and "gamma" not in state.shown_controls(STEPS[6])
    assert notices == ["Sharpening γ is hidden by this lesson link and keeps the step's value; "
                       "`gamma=50` ignored."]


def test_lock_and_hide_lists():
    assert parse_lock("beta:20, kernel:p1,,g:2") == (
        {"beta": 20.0, "kernel": "p1", "g": 1.0},
        ["`lock=g:2`: the value is outside the control's range; using 1."])
    assert parse_lock("kernel:sideways")[0] == {}
    assert parse_hide("gamma,g") == (frozenset({"gamma", "g"}), [])
    assert set(CONTROLS) >= {"beta", "g", "kernel", "gamma", "erase", "add", "length", "moment"}


# ------------------------------------------------------------------ QR code


def _function_modules(version: int) -> tuple[int, set[tuple[int, int]]]:
    """Modules of a QR symbol that hold no data (ISO/IEC 18004: finder patterns with their
    separators, timing, alignment patterns, format and version information)."""
    n = 17 + 4 * version
    fixed = {(r, c) for r0, c0 in ((0, 0), (0, n - 8), (n - 8, 0))
             for r in range(r0, r0 + 8) for c in range(c0, c0 + 8)}
    finders = set(fixed)
    fixed |= {(6, i) for i in range(n)} | {(i, 6) for i in range(n)}
    centres = consts.ALIGNMENT_POS[version - 2] if version > 1 else ()
    for r in centres:
        for c in centres:
            if (r, c) not in finders:
                fixed |= {(r + dr, c + dc) for dr in range(-2, 3) for dc in range(-2, 3)}
    fixed |= {(8, i) for i in range(9)} | {(i, 8) for i in range(9)}
    fixed |= {(8, n - 1 - i) for i in range(8)} | {(n - 1 - i, 8) for i in range(8)}
    if version >= 7:
        fixed |= {(i, n - 11 + j) for i in range(6) for j in range(3)}
        fixed |= {(n - 11 + j, i) for i in range(6) for j in range(3)}
    return n, fixed


def decode_qr(qr: segno.QRCode) -> bytes:
    """The bytes a byte-mode QR symbol holds: modules read in the standard's zigzag order,
    unmasked, de-interleaved into data blocks, then the segment's count and bytes."""
    n, fixed = _function_modules(qr.version)
    matrix = [list(row) for row in qr.matrix]
    assert len(matrix) == n
    mask = encoder.get_data_mask_functions(False)[qr.mask]
    bits, col, upward = [], n - 1, True
    while col > 0:
        col -= col == 6  # the vertical timing pattern is skipped
        for r in (range(n - 1, -1, -1) if upward else range(n)):
            bits += [(matrix[r][c] & 1) ^ int(mask(r, c)) for c in (col, col - 1)
                     if (r, c) not in fixed]
        col, upward = col - 2, not upward
    codewords = [int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits) - 7, 8)]
    level = consts.ERROR_MAPPING[qr.error.upper()]
    sizes = [ec.num_data for ec in consts.ECC[qr.version][level] for _ in range(ec.num_blocks)]
    blocks, i = [[] for _ in sizes], 0
    for k in range(max(sizes)):
        for b, size in enumerate(sizes):
            if k < size:
                blocks[b].append(codewords[i])
                i += 1
    stream = "".join(f"{cw:08b}" for block in blocks for cw in block)
    assert stream[:4] == "0100", "byte mode"
    width = 8 if qr.version < 10 else 16
    length, start = int(stream[4:4 + width], 2), 4 + width
    return bytes(int(stream[start + 8 * j:start + 8 * j + 8], 2) for j in range(length))


@pytest.mark.parametrize("query", [
    {"step": "1"},
    links.teacher_query(6, hide={"gamma", "prow"}, lock={"kernel": "p1", "beta": 20.0},
                        classroom=True, projector=True, colors="cividis"),
    {"step": "9", "lock": "length:30,moment:read", "x": "y" * 250},  # version ≥ 10, many blocks
])
def test_the_qr_code_encodes_exactly_the_link(query):
    url = links.lesson_url("http://192.168.1.20:8501", query)
    qr = links.qr_code(url)
    assert qr.mode == "byte" and qr.error == "M" and not qr.is_micro
    assert decode_qr(qr) == url.encode()
    png = links.qr_png(url)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 20_000
