"""One generated sentence per figure: what is where, and how much.

Every stage panel and Figure-6 view of the lessons carries one of these sentences, as its caption
and as the chart's accessible name (``st.plotly_chart(..., alt=...)``), so the same words serve a
screen reader and a teacher's captions. Each function reads the numbers it is given, never a
figure: ``weighting_sentence([0, .05, .91, .04], "read weighting", previous_row=1)`` is
"read weighting: 91% on row 2, one row below the last step's focus".

Rows are memory locations; row 0 is drawn on top, so a larger row number is *below*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .style import as_array

_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
#: A row counts as sharing the focus when it holds at least this share of the peak's weight.
_SHARE = 1 / 3


def number_word(n: int) -> str:
    """``1`` -> ``"one"`` ... ``10`` -> ``"ten"``; larger numbers as digits."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def pct(x: float) -> str:
    """A share (0..1) as a whole percentage; a tiny non-zero share as "<1%"."""
    x = max(float(x), 0.0)
    return "<1%" if 0 < x < 0.005 else f"{x:.0%}"


def signed(x: float) -> str:
    """``+0.50`` / ``−0.25`` with a real minus sign (legible on a projector)."""
    return f"{x:+.2f}".replace("-", "−")


def offset_word(d: int) -> str:
    """An offset as written on the kernel's axis: ``+1``, ``0``, ``−3``."""
    return f"{d:+d}".replace("-", "−") if d else "0"


def row_name(row: int, labels: Sequence[str] | None = None) -> str:
    """``row 5``, or ``row 1 (tea)`` when the rows have names."""
    label = labels[row] if labels is not None and row < len(labels) else ""
    return f"row {row} ({label})" if label else f"row {row}"


def circular_offset(to_row: int, from_row: int, rows: int) -> int:
    """The signed circular distance from ``from_row`` to ``to_row``, in ``(-N/2, N/2]``."""
    d = (to_row - from_row) % rows
    return d - rows if d > rows // 2 else d


def moved_phrase(d: int) -> str:
    """``2`` -> "two rows below", ``-1`` -> "one row above", ``0`` -> "the same row as"."""
    if d == 0:
        return "the same row as"
    rows = "row" if abs(d) == 1 else "rows"
    return f"{number_word(abs(d))} {rows} {'below' if d > 0 else 'above'}"


def focus_rows(weighting: Any, most: int = 3) -> list[int]:
    """The rows holding the focus, largest first: the peak and every row (of the ``most``
    largest) with at least a third of the peak's weight."""
    w = as_array(weighting).ravel()
    order = np.argsort(-w, kind="stable")[:most]
    return [int(r) for r in order if w[r] >= _SHARE * w[order[0]] and w[r] >= 0.05] or [
        int(order[0])]


def flat(weighting: Any) -> bool:
    """Whether a weighting over at least 6 rows is nearly uniform (no row above 2/N)."""
    w = as_array(weighting).ravel()
    return w.size >= 6 and float(w.max(initial=0.0)) < 2.0 / w.size


def weighting_words(weighting: Any, labels: Sequence[str] | None = None) -> str:
    """Where a weighting's mass is, without a name: "91% on row 14", "split between row 1
    (tea, 48%) and row 2 (milk, 47%)", "spread almost evenly over all 16 rows"."""
    w = as_array(weighting).ravel()
    n, peak = w.size, float(w.max(initial=0.0))
    top = int(np.argmax(w))
    if flat(w):
        return f"spread almost evenly over all {n} rows (at most {pct(peak)}, on {row_name(top, labels)})"
    rows = focus_rows(w)
    if len(rows) == 1:
        return f"{pct(peak)} on {row_name(top, labels)}"
    parts = [f"{row_name(r, labels)} ({pct(w[r])})" for r in rows]
    return "split between " + ", ".join(parts[:-1]) + " and " + parts[-1]


def weighting_sentence(weighting: Any, name: str, *, previous_row: int | None = None,
                       labels: Sequence[str] | None = None,
                       reference: str = "the last step's focus") -> str:
    """``"read weighting: 91% on row 14, one row below the last step's focus"``.

    ``previous_row`` (a focus to compare with, named ``reference``) adds where the peak sits
    relative to it.
    """
    w = as_array(weighting).ravel()
    text = f"{name}: {weighting_words(w, labels)}"
    if previous_row is not None and not flat(w):
        d = circular_offset(int(np.argmax(w)), int(previous_row), w.size)
        text += f", {moved_phrase(d)} {reference}"
    return text


def hidden_sentence(name: str) -> str:
    return f"{name}: hidden until you answer the question"


def kernel_sentence(kernel: Any) -> str:
    """``"shift kernel: 0.30 on offset −1, 0.50 on 0 and 0.20 on +1"`` (offsets ``−R..+R``)."""
    s = as_array(kernel).ravel()
    radius = (s.size - 1) // 2
    used = [(d, float(v)) for d, v in zip(range(-radius, radius + 1), s, strict=True) if v >= 0.005]
    if len(used) == 1:
        d = used[0][0]
        if d == 0:
            return "shift kernel: all weight on offset 0, so the focus stays where it is"
        rows = "row" if abs(d) == 1 else "rows"
        return (f"shift kernel: all weight on offset {offset_word(d)}, which moves the focus "
                f"{number_word(abs(d))} {rows} {'down' if d > 0 else 'up'}")
    parts = [f"{v:.2f} on {'offset ' if i == 0 else ''}{offset_word(d)}"
             for i, (d, v) in enumerate(used)]
    return "shift kernel: " + ", ".join(parts[:-1]) + " and " + parts[-1]


def memory_sentence(memory: Any, *, row_labels: Sequence[str] | None = None,
                    similarity: Any = None) -> str:
    """``"memory: 16 rows × 6 columns, values from −0.98 to +1.00; the key is most like row 5
    (cos +0.92), then row 9 (cos +0.77)"``."""
    m = as_array(memory)
    n, width = m.shape
    text = (f"memory: {n} rows × {width} columns, values from {signed(float(m.min()))} "
            f"to {signed(float(m.max()))}")
    if row_labels is not None:
        named = [label for label in row_labels if label]
        text += f"; the rows store {', '.join(named[:4])}{' …' if len(named) > 4 else ''}"
    if similarity is not None:
        s = as_array(similarity).ravel()
        first, second = (int(i) for i in np.argsort(-s, kind="stable")[:2])
        text += (f"; the key is most like {row_name(first, row_labels)} (cos {signed(s[first])}), "
                 f"then {row_name(second, row_labels)} (cos {signed(s[second])})")
    return text


def read_sentence(read: Any, weighting: Any, *, column_labels: Sequence[str] | None = None,
                  row_labels: Sequence[str] | None = None) -> str:
    """``"read vector: highest in leafy (+0.50) and creamy (+0.50); it mixes row 1 (tea, 48%)
    and row 2 (milk, 47%)"``."""
    r = as_array(read).ravel()
    cols = list(column_labels) if column_labels is not None else [str(c) for c in range(r.size)]
    top = [int(c) for c in np.argsort(-r, kind="stable")[:2]]
    high = " and ".join(f"{cols[c]} ({signed(r[c])})" for c in top)
    mix = weighting_words(weighting, row_labels)
    return f"read vector: highest in {high}; it reads {mix}"


def write_sentence(before: Any, after: Any, weighting: Any,
                   row_labels: Sequence[str] | None = None) -> str:
    """``"write: row 5 (98% of the weight) changed most, by up to 0.55 in a cell; every other
    row by at most 0.01"``."""
    change = np.abs(as_array(after) - as_array(before)).max(axis=1)
    w = as_array(weighting).ravel()
    top = int(np.argmax(change))
    rest = float(np.delete(change, top).max(initial=0.0))
    return (f"write: {row_name(top, row_labels)} ({pct(w[top])} of the weight) changed most, "
            f"by up to {change[top]:.2f} in a cell; every other row by at most {rest:.2f}")


def walk_words(rows: Sequence[int], n: int) -> str:
    """How a head's focus moves over consecutive steps: "moves one row up per step from row 127
    to row 118" (the most common step; "stays on row 3" when it does not move)."""
    rows = [int(r) for r in rows]
    if len(rows) < 2:
        return f"sits on row {rows[0]}" if rows else "does nothing"
    steps = [circular_offset(b, a, n) for a, b in zip(rows, rows[1:], strict=False)]
    values, counts = np.unique(steps, return_counts=True)
    d = int(values[np.argmax(counts)])
    if d == 0:
        return f"stays on row {rows[0]}"
    way = "down" if d > 0 else "up"
    rows_word = "row" if abs(d) == 1 else "rows"
    return (f"moves {number_word(abs(d))} {rows_word} {way} per step from row {rows[0]} "
            f"to row {rows[-1]}")


def episode_sentence(write_weights: Any, read_weights: Any, length: int,
                     hidden_from: int | None = None) -> str:
    """Figure 6 of a copy run in one sentence: where the write head walks while the input
    arrives, and where the read head goes after the delimiter (step ``length``).

    ``hidden_from`` (a step) says that the read weightings from there on are hidden.
    """
    ww, rw = as_array(write_weights), as_array(read_weights)
    n = ww.shape[1]
    writes = ww[:length].argmax(axis=1)
    text = (f"Figure 6, a copy of {length} vectors: while the input arrives the write head "
            f"{walk_words(writes, n)}")
    if hidden_from is not None and hidden_from <= length:
        return text + "; the read weightings after the delimiter are hidden until you answer"
    reads = rw[length:].argmax(axis=1)
    if reads.size:
        text += (f"; at the delimiter (step {length}) the read head jumps to row {reads[0]}, "
                 f"then {walk_words(reads, n)}")
    return text


def errors_sentence(series: Mapping[str, Sequence[tuple[float, float]]],
                    what: str = "of bits wrong") -> str:
    """``"% of bits wrong by length: NTM 0% at L = 10 and 0.03% at L = 120; LSTM 0.25% at
    L = 10 and 46.7% at L = 120"`` from ``{model: [(length, percent), ...]}``."""
    parts = []
    for name, points in series.items():
        pts = sorted(points)
        if pts:
            (l0, v0), (l1, v1) = pts[0], pts[-1]
            parts.append(f"{name} {v0:.3g}% at L = {l0:g} and {v1:.3g}% at L = {l1:g}")
    return f"% {what} by sequence length: " + "; ".join(parts)


def guess_sentence(guess: str, truth: str) -> str:
    """The caption of a guess-beside-truth figure: "your guess: row 2; the truth: 100% on row
    8"."""
    return f"your guess: {guess}; the truth: {truth}"
