"""The sentence after an answer: the guess, the truth, and why, derived from the numbers.

One function per kind of question composes the feedback (:func:`row_feedback`,
:func:`number_feedback`, :func:`choice_feedback`); the ``why_*``, ``how_*`` and ``evidence_*``
functions write the explanation from the computed stages, e.g. :func:`why_sharpen` gives
"the focus was on row 5; the kernel put 0.50 on offset +1 and 0.30 on −1, so the mass split
between rows 6 and 4, and γ = 3 picked row 6 (79%)". Every function takes plain numbers (numpy
arrays, floats), so each sentence is unit-tested on hand-made weightings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..figures.describe import (
    number_word,
    offset_word,
    pct,
    row_name,
    signed,
)
from ..figures.style import as_array

#: A row guess is right when its weight is at least this share of the peak's (ties count).
ROW_TIE = 0.9


def row_is_right(guess: int, weights: Any) -> bool:
    """Whether ``guess`` holds the focus: its weight is within :data:`ROW_TIE` of the peak."""
    w = as_array(weights).ravel()
    return 0 <= guess < w.size and w[guess] >= ROW_TIE * w.max(initial=0.0) > 0


def row_feedback(guess: int, weights: Any, why: str) -> str:
    """``"You chose row 2; <why>."`` or ``"Right: <why>."``; ``why`` ends at the truth."""
    if row_is_right(guess, weights):
        return f"Right: {why}."
    return f"You chose row {guess}; {why}."


def number_feedback(guess: float, truth: float, how: str, *, tolerance: float,
                    unit: str = "", digits: int = 2) -> str:
    """``"Close: you said 0.30, it is 0.29. <how>."`` or ``"You said 0.60; it is 0.29, 0.31
    lower. <how>."``"""
    def fmt(x: float) -> str:
        return f"{x:.{digits}f}{unit}"

    gap = truth - guess
    if abs(gap) <= tolerance:
        return f"Close: you said {fmt(guess)}, it is {fmt(truth)}. {_sentence(how)}."
    way = "higher" if gap > 0 else "lower"
    return f"You said {fmt(guess)}; it is {fmt(truth)}, {fmt(abs(gap))} {way}. {_sentence(how)}."


def choice_feedback(guess: str, truth: str, evidence: str) -> str:
    """``"Right: γ = 20. <evidence>."`` or ``"You chose γ = 1; it was γ = 20. <evidence>."``"""
    if guess == truth:
        return f"Right: {truth}. {_sentence(evidence)}."
    return f"You chose {guess}; it was {truth}. {_sentence(evidence)}."


# ------------------------------------------------------------------ why: row questions


def _offsets(kernel: Any, most: int = 3) -> list[tuple[int, float]]:
    """The kernel's offsets with weight (≥ 0.05), largest first: ``[(+1, 0.5), (−1, 0.3)]``."""
    s = as_array(kernel).ravel()
    radius = (s.size - 1) // 2
    used = [(d, float(v)) for d, v in zip(range(-radius, radius + 1), s, strict=True) if v >= 0.05]
    return sorted(used, key=lambda dv: -dv[1])[:most]


def _kernel_words(kernel: Any) -> str:
    used = _offsets(kernel)
    parts = [f"{v:.2f} on {'offset ' if i == 0 else ''}{offset_word(d)}"
             for i, (d, v) in enumerate(used)]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _move_words(d: int) -> str:
    """``3`` -> "three rows down", ``-1`` -> "one row up"."""
    rows = "row" if abs(d) == 1 else "rows"
    return f"{number_word(abs(d))} {rows} {'down' if d > 0 else 'up'}"


def _sentence(text: str) -> str:
    """``text`` with its first letter capitalised, to follow a full stop."""
    if len(text) > 1 and text[0].islower() and text[1].isascii() and text[1].isalpha():
        return text[:1].upper() + text[1:]
    return text


def _rows_words(rows: Sequence[int]) -> str:
    rows = [str(r) for r in rows]
    return rows[0] if len(rows) == 1 else ", ".join(rows[:-1]) + " and " + rows[-1]


def why_content(similarity: Any, content: Any, beta: float, guess: int | None = None,
                labels: Sequence[str] | None = None) -> str:
    """Why the content weighting peaks where it does: the cosines and β."""
    cos, w = as_array(similarity).ravel(), as_array(content).ravel()
    best = int(np.argmax(w))
    if guess is None or guess == best or not 0 <= guess < w.size:
        return (f"the key's cosine with {row_name(best, labels)} is {signed(cos[best])}, the "
                f"highest, and β = {beta:g} turns that into {pct(w[best])} of the weight")
    return (f"the key's cosine is {signed(cos[best])} with {row_name(best, labels)} but "
            f"{signed(cos[guess])} with {row_name(guess, labels)}, and β = {beta:g} turns that "
            f"gap into {pct(w[best])} against {pct(w[guess])}")


def why_shift(source: Any, kernel: Any, shifted: Any, guess: int | None = None) -> str:
    """Why the shifted weighting lands where it does: the focus before and the kernel's offsets.

    A guess on the mirror image of the truth (shifted up instead of down) gets a reminder of
    the convention: offset +d moves the focus d rows *down*.
    """
    src, w = as_array(source).ravel(), as_array(shifted).ravel()
    n, p, best = w.size, int(np.argmax(src)), int(np.argmax(w))
    used = _offsets(kernel)
    text = f"the focus was on row {p} and the kernel put {_kernel_words(kernel)}"
    if len(used) == 1:
        d = used[0][0]
        sign = "−" if d > 0 else "+"
        text += f", which moves weight {_move_words(d)} (w[i] ← w[i{sign}{abs(d)}]), to row {best}"
        if d and guess is not None and guess == (p - d) % n and guess != best:
            way = "down, to larger row numbers" if d > 0 else "up, to smaller row numbers"
            text += f"; you moved it the other way: offset {offset_word(d)} moves the focus {way}"
        return text
    rows = sorted(int(r) for r in np.flatnonzero(w >= 0.05))
    return text + f", so the mass spread over rows {_rows_words(rows)} and row {best} got the most ({pct(w[best])})"


def why_sharpen(source: Any, kernel: Any, shifted: Any, sharpened: Any, gamma: float) -> str:
    """``"the focus was on row 5; the kernel put 0.50 on offset +1 and 0.30 on −1, so the
    mass split between rows 6 and 4, and γ = 3 picked row 6 (79%)"``."""
    src, sh, w = (as_array(x).ravel() for x in (source, shifted, sharpened))
    p, best = int(np.argmax(src)), int(np.argmax(w))
    split = [int(r) for r in np.argsort(-sh, kind="stable")[:2] if sh[r] >= 0.05]
    text = f"the focus was on row {p}; the kernel put {_kernel_words(kernel)}"
    if len(split) > 1:
        text += f", so the mass split between rows {split[0]} and {split[1]}"
    else:
        text += f", so the mass sat on row {split[0]}"
    return text + f", and γ = {gamma:g} picked row {best} ({pct(w[best])})"


def why_gated(content: Any, previous: Any, gated: Any, gate: float) -> str:
    """Why the gated weighting peaks where it does: g of the content focus, 1 − g of the
    previous one."""
    c, prev, w = (as_array(x).ravel() for x in (content, previous, gated))
    rc, rp, best = int(np.argmax(c)), int(np.argmax(prev)), int(np.argmax(w))
    return (f"g = {gate:.2f} keeps {pct(1 - gate)} of the previous focus (row {rp}) and adds "
            f"{pct(gate)} of the content focus (row {rc}), so row {best} ends with "
            f"{pct(w[best])}")


def why_jump(first_row: int, last_row: int, content_share: float, weights: Any, step: int,
             guess: int | None = None) -> str:
    """Why the copy model's read head goes where it does at the delimiter (step ``step``);
    ``content_share``: the part of its new row's weight that came from the content lookup."""
    w = as_array(weights).ravel()
    best = int(np.argmax(w))
    text = (f"the write head stored the first vector in row {first_row} at step 0; at the "
            f"delimiter (step {step}) the read head's content lookup "
            f"{'won' if content_share > 0.5 else 'lost to its old focus'} "
            f"({pct(content_share)} of the new row's weight) and it put {pct(w[best])} on "
            f"row {best}")
    if guess is not None and guess == last_row and guess != best:
        text += f"; row {last_row} is where the write head stopped, not where the copy starts"
    return text


# ------------------------------------------------------------------ how: number questions


def how_content(similarity: Any, content: Any, beta: float, row: int,
                labels: Sequence[str] | None = None) -> str:
    """How much weight a row gets from content: its cosine against its rivals, through β."""
    cos, w = as_array(similarity).ravel(), as_array(content).ravel()
    top = [int(r) for r in np.argsort(-w, kind="stable")[:3]]
    if row not in top:
        top = [*top[:2], row]
    rivals = [r for r in top if r != row]
    gap = float(cos[row] - cos[rivals[0]])
    parts = ", ".join(f"{signed(cos[r])} ({row_name(r, labels)})" for r in top)
    weights = ", ".join(f"{w[r]:.2f}" for r in top)
    return (f"β = {beta:g} turns the cosines {parts} into the weights {weights}: a weight grows "
            f"as e^(β·cos), so a cosine gap of {abs(gap):.3f} makes a factor of "
            f"{math.exp(beta * abs(gap)):.3g}")


def how_gated(content: Any, previous: Any, gate: float, row: int) -> str:
    """``"wᵍ(9) = g·wᶜ(9) + (1 − g)·w(t−1)(9) = 0.30 × 0.98 + 0.70 × 0.00 = 0.29"``."""
    c, prev = float(as_array(content).ravel()[row]), float(as_array(previous).ravel()[row])
    total = gate * c + (1 - gate) * prev
    return (f"wᵍ({row}) = g·wᶜ({row}) + (1 − g)·w(t−1)({row}) = {gate:.2f} × {c:.2f} + "
            f"{1 - gate:.2f} × {prev:.2f} = {total:.2f}")


def how_write(before: float, weight: float, erase: float, add: float) -> str:
    """The write of one cell, eqs. 3–4: the erase keeps ``1 − w·e`` of the old value (the
    LSTM's forget gate), the add puts in ``w·a`` (its input gate)."""
    keep = 1 - weight * erase
    after = before * keep + weight * add
    return (f"after = before × (1 − w·e) + w·a = {signed(before)} × {keep:.2f} + "
            f"{weight:.2f} × {signed(add)} = {signed(after)}: the erase kept {pct(keep)} of the "
            f"old value, like a forget gate, and the add wrote in {signed(weight * add)}, "
            "like an input gate")


def how_errors(name: str, points: Mapping[int, float], length: int, train_max: int) -> str:
    """How a model's % of bits wrong at ``length`` compares with chance and its training range."""
    value = points[length]
    inside = points.get(train_max)
    text = f"the {name} got {value:.3g}% of the bits wrong at L = {length}"
    text += ", close to the 50% of a coin flip" if value > 35 else ""
    if inside is not None:
        text += f"; at L = {train_max}, the end of its training range, it got {inside:.3g}% wrong"
    return text


# ------------------------------------------------------------------ evidence: choices


def evidence_options(shown: Any, options: Mapping[str, Any]) -> str:
    """Each option's weights on the rows where the weighting shown has its largest weights:
    "rows 4, 5 and 6 hold 0.30, 0.50 and 0.20 in the weighting shown; γ = 1 gives …"."""
    w = as_array(shown).ravel()
    rows = sorted(int(r) for r in np.argsort(-w, kind="stable")[:3])

    def values(x: Any) -> str:
        v = as_array(x).ravel()
        return _rows_words([f"{v[r]:.2f}" for r in rows])

    parts = "; ".join(f"{name} gives {values(x)}" for name, x in options.items())
    return f"rows {_rows_words(rows)} hold {values(w)} in the weighting shown; {parts}"


def evidence_read(read: Any, column_labels: Sequence[str]) -> str:
    r = as_array(read).ravel()
    top = [int(c) for c in np.argsort(-r, kind="stable")[:2]]
    return ("the read vector is highest in "
            + " and ".join(f"{column_labels[c]} ({signed(r[c])})" for c in top))


def evidence_jump(gate: float, content_share: float, step: int) -> str:
    """How the read head got back at the delimiter: the gate, and where the weight of its new
    row came from (eq 7: g w^c from the content lookup, (1 - g) w_{t-1} from the old focus)."""
    how = "the content lookup" if content_share > 0.5 else "its old focus"
    text = (f"at the delimiter (step {step}) the read head's gate was g = {gate:.2f}, and "
            f"{pct(max(content_share, 1 - content_share))} of its new row's weight came from {how}")
    if gate <= 0.5 < content_share:
        text += "; g alone does not decide it: a small g still wins when the old focus is spread thin"
    elif content_share <= 0.5 < gate:
        text += "; the content lookup pointed elsewhere"
    return text


def evidence_errors(name: str, value: float, length: int) -> str:
    return f"the {name} got {value:.2g}% of the bits wrong at L = {length}"
