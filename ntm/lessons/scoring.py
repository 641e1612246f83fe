"""The score: answers checked against the truth, counted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .questions import Verdict
from .steps import QUESTIONS


@dataclass(frozen=True)
class Score:
    right: int
    answered: int
    total: int = len(QUESTIONS)

    @property
    def text(self) -> str:
        """``"3 right of 5 answered (15 questions in all)"``."""
        return f"{self.right} right of {self.answered} answered ({self.total} questions in all)"


def score(verdicts: Iterable[Verdict]) -> Score:
    """One point per question answered right; every answer counts once (a verdict is final)."""
    verdicts = list(verdicts)
    return Score(sum(v.correct for v in verdicts), len(verdicts))
