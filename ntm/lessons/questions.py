"""The three kinds of question, an answer read from a link, and its verdict.

* :class:`RowQuestion` ("click a row"): which row will hold the focus of a stage;
* :class:`NumberQuestion` ("predict a number"): about how much weight, or how many errors;
* :class:`ChoiceQuestion` ("choose among options"), and :class:`MysteryQuestion`, the choice
  "which β / γ / kernel made this weighting?".

:func:`check` turns an answer into a :class:`Verdict`: right or not, the guess and the truth
side by side, and the sentence that explains the gap (:mod:`ntm.lessons.feedback`). Truths are
always computed from the scene, never written down, so a teacher's locks change them
consistently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .controls import CONTROLS
from .feedback import (
    choice_feedback,
    evidence_options,
    number_feedback,
    row_feedback,
    row_is_right,
)
from .scenes import Scene, stage_weights, variant

#: How a mystery question names the value it asks about.
SYMBOLS = {"beta": "β", "gamma": "γ", "g": "g", "kernel": "s"}


@dataclass(frozen=True, kw_only=True)
class Question:
    """What every question has: an id (its URL parameter), a prompt, and the parts of the
    view it hides until answered (``"content"``, ``"similarity"``, ``"read_weights"`` ...)."""

    kind: ClassVar[str] = ""
    id: str
    prompt: str  #: may hold ``{name}`` fields, filled from :meth:`facts`
    hides: tuple[str, ...] = ()
    #: Numbers the prompt quotes, from the scene: ``{"before": "+0.52"}``.
    facts: Callable[[Scene], Mapping[str, Any]] | None = field(default=None, compare=False)

    def text(self, scene: Scene, values: Mapping[str, Any]) -> str:
        """The prompt with the scene's numbers and the step's values filled in."""
        shown = {k: CONTROLS[k].shown(v) if k in CONTROLS else v for k, v in values.items()}
        return self.prompt.format(**shown, **(self.facts(scene) if self.facts else {}))


@dataclass(frozen=True, kw_only=True)
class RowQuestion(Question):
    kind: ClassVar[str] = "row"
    stage: str  #: the weighting asked about, a key of the scene's ``stages``
    why: Callable[[Scene, int | None], str] = field(compare=False)
    rows: int = 16  #: the memory's rows (answers from a link must be below this)


@dataclass(frozen=True, kw_only=True)
class NumberQuestion(Question):
    kind: ClassVar[str] = "number"
    measure: Callable[[Scene], float] = field(compare=False)
    how: Callable[[Scene], str] = field(compare=False)
    label: str  #: what the number is, for the guess-beside-truth chart
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.01
    tolerance: float = 0.1
    unit: str = ""
    digits: int = 2
    #: The row whose weight is asked for, if any: the reveal outlines it (the stage is the
    #: first of ``hides``).
    row: int | None = None


@dataclass(frozen=True, kw_only=True)
class ChoiceQuestion(Question):
    kind: ClassVar[str] = "choice"
    options: Mapping[str, str]  #: key -> label
    truth: Callable[[Scene], str] = field(compare=False)
    evidence: Callable[[Scene], str] = field(compare=False)

    def choices(self) -> dict[str, str]:
        return dict(self.options)


@dataclass(frozen=True, kw_only=True)
class MysteryQuestion(Question):
    """"Which value of ``param`` made this weighting?": the card shows ``stage`` computed with
    ``param = answer``; the options are ``values``."""

    kind: ClassVar[str] = "choice"
    param: str
    values: tuple
    answer: Any
    stage: str

    def choices(self) -> dict[str, str]:
        control = CONTROLS[self.param]
        return {control.format(v): f"{SYMBOLS.get(self.param, self.param)} = {control.shown(v)}"
                for v in self.values}

    def weightings(self, scene: Scene) -> dict[str, np.ndarray]:
        """Each option's weighting, by option key."""
        return {CONTROLS[self.param].format(v): stage_weights(variant(scene, self.param, v),
                                                              self.stage)
                for v in self.values}

    def shown(self, scene: Scene) -> np.ndarray:
        """The mystery weighting the student is asked about."""
        return self.weightings(scene)[CONTROLS[self.param].format(self.answer)]


@dataclass(frozen=True)
class Verdict:
    """A checked answer: what the reveal shows."""

    question: str
    kind: str
    correct: bool
    guess: str  #: the guess in words ("row 2", "0.40", "γ = 3")
    truth: str
    feedback: str
    guess_value: Any = None
    truth_value: Any = None
    weights: np.ndarray | None = None  #: row questions: the true weighting
    options: dict[str, np.ndarray] | None = None  #: mystery questions: each option's weighting


def parse_answer(question: Question, text: str) -> tuple[str | None, str | None]:
    """An answer as a link carries it, checked: ``(canonical text, None)`` or ``(None,
    problem)``. Numbers are clamped to the question's range."""
    word = str(text).strip()
    if isinstance(question, RowQuestion):
        if word.isdigit() and len(word) <= 4 and int(word) < question.rows:
            return str(int(word)), None
        return None, f"is not a row from 0 to {question.rows - 1}"
    if isinstance(question, NumberQuestion):
        try:
            number = float(word)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            return None, "is not a number"
        return f"{min(max(number, question.lo), question.hi):g}", None
    choices = question.choices()  # type: ignore[attr-defined]
    if word in choices:
        return word, None
    return None, f"is not one of {', '.join(choices)}"


def check(question: Question, scene: Scene, answer: str) -> Verdict:
    """The verdict on ``answer`` (canonical, see :func:`parse_answer`) in ``scene``."""
    if isinstance(question, RowQuestion):
        return _check_row(question, scene, int(answer))
    if isinstance(question, NumberQuestion):
        return _check_number(question, scene, float(answer))
    if isinstance(question, MysteryQuestion):
        return _check_mystery(question, scene, answer)
    return _check_choice(question, scene, answer)  # type: ignore[arg-type]


def _check_row(q: RowQuestion, scene: Scene, guess: int) -> Verdict:
    w = stage_weights(scene, q.stage)
    best = int(np.argmax(w))
    return Verdict(q.id, q.kind, row_is_right(guess, w), f"row {guess}", f"row {best}",
                   row_feedback(guess, w, q.why(scene, guess)), guess, best, weights=w)


def _check_number(q: NumberQuestion, scene: Scene, guess: float) -> Verdict:
    truth = float(q.measure(scene))
    right = abs(truth - guess) <= q.tolerance
    fmt = f"{{:.{q.digits}f}}{q.unit}"
    return Verdict(q.id, q.kind, right, fmt.format(guess), fmt.format(truth),
                   number_feedback(guess, truth, q.how(scene), tolerance=q.tolerance,
                                   unit=q.unit, digits=q.digits), guess, truth)


def _check_choice(q: ChoiceQuestion, scene: Scene, guess: str) -> Verdict:
    truth = q.truth(scene)
    names = q.choices()
    return Verdict(q.id, q.kind, guess == truth, names[guess], names[truth],
                   choice_feedback(names[guess], names[truth], q.evidence(scene)), guess, truth)


def _check_mystery(q: MysteryQuestion, scene: Scene, guess: str) -> Verdict:
    names = q.choices()
    truth = CONTROLS[q.param].format(q.answer)
    options = q.weightings(scene)
    evidence = evidence_options(options[truth], {names[k]: w for k, w in options.items()})
    return Verdict(q.id, q.kind, guess == truth, names[guess], names[truth],
                   choice_feedback(names[guess], names[truth], evidence), guess, truth,
                   options={names[k]: w for k, w in options.items()})
