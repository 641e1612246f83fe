"""The generated sentences of the Lessons page, on hand-made numbers: the text alternative of
every figure (ntm.figures.describe) and the feedback after every kind of answer
(ntm.lessons.feedback)."""

from __future__ import annotations

import numpy as np
import pytest

from ntm.figures import describe as say
from ntm.lessons import feedback as fb


def onehot(n: int, row: int) -> np.ndarray:
    w = np.zeros(n)
    w[row] = 1.0
    return w


# ------------------------------------------------------------------ text alternatives


def test_the_issue_example_sentence():
    w = np.zeros(16)
    w[14], w[13], w[15] = 0.91, 0.05, 0.04
    assert (say.weighting_sentence(w, "read weighting", previous_row=13)
            == "read weighting: 91% on row 14, one row below the last step's focus")


@pytest.mark.parametrize(("row", "previous", "words"), [
    (14, 14, "the same row as"),
    (14, 11, "three rows below"),
    (0, 2, "two rows above"),
    (1, 15, "two rows below"),  # circular: 15 -> 0 -> 1
])
def test_where_the_focus_sits_relative_to_the_last_one_wraps_round(row, previous, words):
    assert (say.weighting_sentence(onehot(16, row), "w", previous_row=previous)
            == f"w: 100% on row {row}, {words} the last step's focus")


def test_a_split_weighting_names_every_row_that_shares_it_with_its_label():
    w = np.zeros(16)
    w[1], w[2], w[15] = 0.46, 0.49, 0.05
    labels = ["water", "tea", "milk"] + [""] * 13
    assert (say.weighting_sentence(w, "content weighting", labels=labels)
            == "content weighting: split between row 2 (milk) (49%) and row 1 (tea) (46%)")


def test_a_flat_weighting_is_said_to_be_spread_and_gets_no_direction():
    w = np.full(10, 0.1)
    w[3] = 0.12
    w /= w.sum()
    sentence = say.weighting_sentence(w, "w", previous_row=0)
    assert sentence.startswith("w: spread almost evenly over all 10 rows (at most 12%, on row 3)")
    assert "focus" not in sentence


def test_three_rows_sharing_a_focus():
    w = np.array([0.0, 0.0, 0.3, 0.4, 0.3, 0.0])
    assert say.weighting_words(w) == "split between row 3 (40%), row 2 (30%) and row 4 (30%)"


def test_percentages_never_read_minus_zero_and_tiny_shares_are_below_one():
    assert say.pct(-1e-17) == "0%"
    assert say.pct(0.003) == "<1%"
    assert say.pct(0.915) == "92%"


@pytest.mark.parametrize(("kernel", "sentence"), [
    ([0, 1, 0], "shift kernel: all weight on offset 0, so the focus stays where it is"),
    ([0, 0, 0, 0, 0, 0, 1], "shift kernel: all weight on offset +3, which moves the focus three "
                            "rows down"),
    ([1, 0, 0], "shift kernel: all weight on offset −1, which moves the focus one row up"),
    ([0.3, 0.5, 0.2], "shift kernel: 0.30 on offset −1, 0.50 on 0 and 0.20 on +1"),
])
def test_kernel_sentences(kernel, sentence):
    assert say.kernel_sentence(kernel) == sentence


def test_memory_sentence_names_the_range_and_the_rows_most_like_the_key():
    m = np.array([[1.0, -0.5], [0.2, 0.3], [-1.0, 0.0]])
    sim = np.array([0.9, 0.8, -0.9])
    assert say.memory_sentence(m, similarity=sim) == (
        "memory: 3 rows × 2 columns, values from −1.00 to +1.00; the key is most like row 0 "
        "(cos +0.90), then row 1 (cos +0.80)")


def test_read_and_write_sentences():
    read = np.array([0.1, 0.5, 0.49, -0.2])
    w = np.array([0.0, 0.5, 0.5])
    assert say.read_sentence(read, w, column_labels=["a", "leafy", "creamy", "d"]) == (
        "read vector: highest in leafy (+0.50) and creamy (+0.49); it reads split between "
        "row 1 (50%) and row 2 (50%)")
    before = np.zeros((3, 2))
    after = before.copy()
    after[1] = [0.55, -0.2]
    after[2, 0] = 0.01
    assert say.write_sentence(before, after, np.array([0.01, 0.98, 0.01])) == (
        "write: row 1 (98% of the weight) changed most, by up to 0.55 in a cell; every other "
        "row by at most 0.01")


def test_figure6_sentence_reads_the_walks_and_the_jump():
    n, length = 8, 3
    write = np.stack([onehot(n, r) for r in (7, 6, 5, 4, 4, 4, 4)])
    read = np.stack([onehot(n, r) for r in (0, 0, 0, 7, 6, 5, 4)])
    assert say.episode_sentence(write, read, length) == (
        "Figure 6, a copy of 3 vectors: while the input arrives the write head moves one row "
        "up per step from row 7 to row 5; at the delimiter (step 3) the read head jumps to "
        "row 7, then moves one row up per step from row 7 to row 4")
    hidden = say.episode_sentence(write, read, length, hidden_from=3)
    assert hidden.endswith("the read weightings after the delimiter are hidden until you answer")
    assert "row 4" not in hidden


def test_errors_sentence():
    series = {"NTM": [(120, 0.033), (10, 0.0)], "LSTM": [(10, 0.25), (120, 46.7)]}
    assert say.errors_sentence(series) == (
        "% of bits wrong by sequence length: NTM 0% at L = 10 and 0.033% at L = 120; LSTM "
        "0.25% at L = 10 and 46.7% at L = 120")


# ------------------------------------------------------------------ feedback: rows


def test_the_issue_example_feedback():
    """"you chose row 6; the kernel put 0.5 on offset +1 and 0.3 on −1, so the mass split
    between rows 6 and 4 and γ = 3 picked row 6"."""
    source = onehot(16, 5)
    kernel = np.array([0.3, 0.2, 0.5])
    shifted = np.zeros(16)
    shifted[[4, 5, 6]] = [0.3, 0.2, 0.5]
    sharp = shifted ** 3 / (shifted ** 3).sum()
    why = fb.why_sharpen(source, kernel, shifted, sharp, 3.0)
    assert why == ("the focus was on row 5; the kernel put 0.50 on offset +1, 0.30 on −1 and "
                   "0.20 on 0, so the mass split between rows 6 and 4, and γ = 3 picked row 6 "
                   "(78%)")
    assert fb.row_feedback(6, sharp, why) == f"Right: {why}."
    assert fb.row_feedback(4, sharp, why) == f"You chose row 4; {why}."


def test_a_shift_guessed_the_wrong_way_round_gets_the_convention():
    source, kernel = onehot(16, 5), np.array([0, 0, 0, 0, 0, 0, 1.0])
    shifted = onehot(16, 8)
    wrong_way = fb.why_shift(source, kernel, shifted, guess=2)
    assert wrong_way == ("the focus was on row 5 and the kernel put 1.00 on offset +3, which "
                         "moves weight three rows down (w[i] ← w[i−3]), to row 8; you moved it "
                         "the other way: offset +3 moves the focus down, to larger row numbers")
    assert "other way" not in fb.why_shift(source, kernel, shifted, guess=9)
    assert fb.why_shift(onehot(16, 0), np.array([1.0, 0, 0]), onehot(16, 15), guess=1) == (
        "the focus was on row 0 and the kernel put 1.00 on offset −1, which moves weight one "
        "row up (w[i] ← w[i+1]), to row 15; you moved it the other way: offset −1 moves the "
        "focus up, to smaller row numbers")


def test_a_blur_says_where_the_mass_spread():
    shifted = np.zeros(8)
    shifted[[2, 3, 4]] = [0.3, 0.5, 0.2]
    assert fb.why_shift(onehot(8, 3), np.array([0.3, 0.5, 0.2]), shifted, guess=2) == (
        "the focus was on row 3 and the kernel put 0.50 on offset 0, 0.30 on −1 and 0.20 on "
        "+1, so the mass spread over rows 2, 3 and 4 and row 3 got the most (50%)")


def test_content_feedback_compares_the_guess_with_the_best_match():
    cos = np.array([0.1, 0.92, -0.5, 0.77])
    w = np.array([0.0, 0.80, 0.0, 0.17])
    assert fb.why_content(cos, w, 10.0, guess=3) == (
        "the key's cosine is +0.92 with row 1 but +0.77 with row 3, and β = 10 turns that gap "
        "into 80% against 17%")
    assert fb.why_content(cos, w, 10.0, guess=1, labels=["", "cousin", "", "brother"]) == (
        "the key's cosine with row 1 (cousin) is +0.92, the highest, and β = 10 turns that "
        "into 80% of the weight")


def test_gated_and_jump_feedback():
    prev, content = onehot(4, 2), onehot(4, 0)
    gated = 0.3 * content + 0.7 * prev
    assert fb.why_gated(content, prev, gated, 0.3) == (
        "g = 0.30 keeps 70% of the previous focus (row 2) and adds 30% of the content focus "
        "(row 0), so row 2 ends with 70%")
    w = onehot(128, 127)
    jump = fb.why_jump(127, 118, 0.97, w, 10, guess=118)
    assert jump == ("the write head stored the first vector in row 127 at step 0; at the "
                    "delimiter (step 10) the read head's content lookup won (97% of the new "
                    "row's weight) and it put 100% on row 127; row 118 is where the write head "
                    "stopped, not where the copy starts")


def test_ties_count_as_right():
    w = np.array([0.0, 0.48, 0.47, 0.05])
    assert fb.row_is_right(1, w) and fb.row_is_right(2, w)
    assert not fb.row_is_right(3, w) and not fb.row_is_right(7, w)


# ------------------------------------------------------------------ feedback: numbers, choices


def test_number_feedback_says_how_far_and_which_way():
    how = fb.how_gated(onehot(16, 9), onehot(16, 2), 0.3, 9)
    assert how == ("wᵍ(9) = g·wᶜ(9) + (1 − g)·w(t−1)(9) = 0.30 × 1.00 + 0.70 × 0.00 = 0.30")
    assert fb.number_feedback(0.6, 0.3, how, tolerance=0.1) == (
        f"You said 0.60; it is 0.30, 0.30 lower. {how}.")
    assert fb.number_feedback(0.35, 0.3, how, tolerance=0.1) == (
        f"Close: you said 0.35, it is 0.30. {how}.")
    assert fb.number_feedback(20, 46.7, "the LSTM got it", tolerance=10, unit="%", digits=1) == (
        "You said 20.0%; it is 46.7%, 26.7% higher. The LSTM got it.")


def test_write_feedback_is_the_forget_and_input_gates():
    assert fb.how_write(-0.39, 0.82, 0.5, 1.0) == (
        "after = before × (1 − w·e) + w·a = −0.39 × 0.59 + 0.82 × +1.00 = +0.59: the erase "
        "kept 59% of the old value, like a forget gate, and the add wrote in +0.82, like an "
        "input gate")


def test_content_number_feedback_explains_the_softmax_factor():
    cos = np.array([1.0, 0.93, 0.97])
    w = np.exp(10 * cos) / np.exp(10 * cos).sum()
    how = fb.how_content(cos, w, 10.0, 0)
    assert how.startswith("β = 10 turns the cosines +1.00 (row 0), +0.97 (row 2), +0.93 (row 1) "
                          f"into the weights {w[0]:.2f}, {w[2]:.2f}, {w[1]:.2f}")
    assert how.endswith("a cosine gap of 0.030 makes a factor of 1.35")


def test_choice_feedback_and_the_evidence_of_each_option():
    shown = np.array([0.0, 0.3, 0.5, 0.2, 0.0])
    options = {"s = .3 / .5 / .2": shown, "s = .2 / .5 / .3": shown[::-1].copy()}
    evidence = fb.evidence_options(shown, options)
    assert evidence == ("rows 1, 2 and 3 hold 0.30, 0.50 and 0.20 in the weighting shown; "
                        "s = .3 / .5 / .2 gives 0.30, 0.50 and 0.20; s = .2 / .5 / .3 gives "
                        "0.20, 0.50 and 0.30")
    assert fb.choice_feedback("s = .2 / .5 / .3", "s = .3 / .5 / .2", evidence) == (
        "You chose s = .2 / .5 / .3; it was s = .3 / .5 / .2. Rows 1, 2 and 3 hold 0.30, 0.50 "
        "and 0.20 in the weighting shown; s = .3 / .5 / .2 gives 0.30, 0.50 and 0.20; "
        "s = .2 / .5 / .3 gives 0.20, 0.50 and 0.30.")
    assert fb.choice_feedback("a", "a", "because") == "Right: a. Because."
    assert fb.evidence_jump(0.69, 0.9, 10) == ("at the delimiter (step 10) the read head's gate "
                                               "was g = 0.69, and 90% of its new row's weight "
                                               "came from the content lookup")
    assert fb.evidence_jump(0.24, 0.975, 20) == (
        "at the delimiter (step 20) the read head's gate was g = 0.24, and 98% of its new row's "
        "weight came from the content lookup; g alone does not decide it: a small g still wins "
        "when the old focus is spread thin")
    assert fb.evidence_jump(0.8, 0.1, 5).endswith(
        "90% of its new row's weight came from its old focus; the content lookup pointed elsewhere")
    assert fb.how_errors("LSTM", {20: 15.9, 120: 46.7}, 120, 20) == (
        "the LSTM got 46.7% of the bits wrong at L = 120, close to the 50% of a coin flip; at "
        "L = 20, the end of its training range, it got 15.9% wrong")
