"""A step's panels as the page shows them: a header, a Plotly figure, one sentence.

:func:`panels` turns a step and its scene into :class:`Panel` values, hiding what the step's
unanswered questions ask about; :func:`question_figure` and :func:`reveal_figure` draw a
question's own figure (the mystery weighting) and the student's guess beside the truth. Each
figure comes in the chosen colours and, for a projector, larger type
(:func:`ntm.figures.lessons.styled`); each sentence is the figure's text alternative
(:mod:`ntm.figures.describe`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ..figures import describe as say
from ..figures import lessons as figs
from ..figures.addressing import kernel_bar, memory_heatmap, read_figure, write_figure
from ..figures.episode import STAGE_NAMES as EPISODE_STAGES
from ..figures.episode import episode_grid, stage_panel
from ..figures.evaluation import error_curve
from .questions import MysteryQuestion, NumberQuestion, Question, RowQuestion, Verdict
from .scenes import EpisodeScene, EvaluationScene, Scene
from .steps import Step

STAGE_HEADERS = {
    "previous": "$w_{t-1}$ previous focus",
    "content": "$w^c$ content · eqs. 5–6",
    "gated": "$w^g$ gated · eq. 7",
    "shifted": r"$\tilde w$ shifted · eq. 8",
    "sharpened": "$w$ sharpened · eq. 9",
}
STAGE_NAMES = {"previous": "previous focus w(t−1)", "content": "content weighting wᶜ",
               "gated": "gated weighting wᵍ", "shifted": "shifted weighting w̃",
               "sharpened": "final weighting w"}
STAGE_LABELS = {"previous": "w(t−1)", "content": "wᶜ", "gated": "wᵍ", "shifted": "w̃",
                "sharpened": "w"}


@dataclass(frozen=True)
class Panel:
    name: str
    header: str  #: Markdown (with inline LaTeX)
    figure: go.Figure
    sentence: str  #: the text alternative: caption and accessible name


@dataclass(frozen=True)
class Look:
    """How figures are drawn: colour scale name, projector type, panel height."""

    colors: str = "default"
    projector: bool = False
    height: int = 440

    @property
    def small(self) -> int:
        """The height of a question's own figures, beside the text."""
        return int(self.height * 0.78)

    def __call__(self, fig: go.Figure) -> go.Figure:
        return figs.styled(fig, self.colors, self.projector)


def labels_of(step: Step, scene: Scene) -> list[str] | None:
    """Row names: the drinks, or the step's own ("cousin", "brother")."""
    if getattr(scene, "row_labels", None) is not None:
        return scene.row_labels
    if step.row_names:
        n = scene.settings.rows
        return [step.row_names.get(i, "") for i in range(n)]
    return None


def numbered(labels: Sequence[str] | None) -> list[str] | None:
    """Tick labels of named rows: ``"5 cousin"``, and the bare number for unnamed rows."""
    return None if labels is None else [f"{i} {name}".rstrip() for i, name in enumerate(labels)]


def hidden_parts(step: Step, answers: dict[str, str]) -> set[str]:
    """The parts of the view that the step's unanswered questions ask about."""
    return {part for q in step.questions if q.id not in answers for part in q.hides}


def panels(step: Step, scene: Scene, hidden: set[str], look: Look,
           names: Sequence[str] | None = None, **extra: Any) -> list[Panel]:
    """The panels of ``step``'s live view, in order (only those in ``names`` when given)."""
    return [_BUILDERS[name](step, scene, hidden, look, **extra) for name in step.panels
            if names is None or name in names]


def _memory(step: Step, r: Any, hidden: set[str], look: Look, **_: Any) -> Panel:
    labels = labels_of(step, r)
    with_key = step.number > 1
    sim = None if "similarity" in hidden or not with_key else r.similarity
    fig = memory_heatmap(r.memory, key=r.key if with_key else None, similarity=sim,
                         row_labels=labels, column_labels=r.column_labels)
    header = ("**Memory M**" + (" with the key k on top" if with_key else "")
              + (" and cos(k, M(i)) per row" if sim is not None else ""))
    sentence = say.memory_sentence(r.memory, row_labels=labels, similarity=sim)
    return Panel("memory", header, look(fig), sentence)


def _stage(name: str) -> Callable[..., Panel]:
    def build(step: Step, r: Any, hidden: set[str], look: Look, **_: Any) -> Panel:
        labels = labels_of(step, r)
        w = r.stages[name]
        if name in hidden:
            fig = figs.stage_figure(w, STAGE_LABELS[name], hidden=True, row_labels=numbered(labels),
                                    height=look.height)
            return Panel(name, STAGE_HEADERS[name], look(fig), say.hidden_sentence(
                STAGE_NAMES[name]))
        gate = float(r.settings["g"])
        reference = {"gated": (r.previous, "the previous focus") if gate < 1 else None,
                     "shifted": (r.gated, "the focus before the shift"),
                     "sharpened": (r.gated, "the focus before the shift")}.get(name)
        previous_row = int(np.argmax(reference[0])) if reference else None
        sentence = say.weighting_sentence(
            w, STAGE_NAMES[name], labels=labels, previous_row=previous_row,
            reference=reference[1] if reference else "")
        fig = figs.stage_figure(w, STAGE_LABELS[name], row_labels=numbered(labels),
                                height=look.height)
        return Panel(name, STAGE_HEADERS[name], look(fig), sentence)

    return build


def _kernel(step: Step, r: Any, hidden: set[str], look: Look, **_: Any) -> Panel:
    return Panel("kernel", "**Kernel s** over offsets",
                 look(kernel_bar(r.kernel, height=240)), say.kernel_sentence(r.kernel))


def _read(step: Step, r: Any, hidden: set[str], look: Look, **_: Any) -> Panel:
    name = "read vector r = Σ w(i) M(i) · eq. 2"
    if "read" in hidden:
        fig = figs.stage_figure(np.zeros(3), "r", hidden=True, height=260)
        return Panel("read", f"**{name}**", look(fig), say.hidden_sentence("read vector"))
    fig = read_figure(r.memory, r.sharpened, r.read, row_labels=labels_of(step, r),
                      column_labels=r.column_labels)
    sentence = say.read_sentence(r.read, r.sharpened, column_labels=r.column_labels,
                                 row_labels=labels_of(step, r))
    return Panel("read", f"**{name}**", look(fig), sentence)


def _write(step: Step, r: Any, hidden: set[str], look: Look, **_: Any) -> Panel:
    header = "**Write** · eqs. 3–4: erase e, then add a"
    after = r.memory if "write" in hidden else r.written
    fig = write_figure(r.memory, after, r.sharpened, column_labels=r.column_labels,
                       height=look.height + 20)
    if "write" in hidden:
        fig.add_annotation(text="after the write: answer first", xref="paper", yref="paper",
                           x=0.75, y=0.5, showarrow=False,
                           font={"size": 18, "color": "#333"}, bgcolor="white")
        return Panel("write", header, look(fig), say.hidden_sentence("memory after the write"))
    return Panel("write", header, look(fig), say.write_sentence(r.memory, r.written, r.sharpened))


def _figure6(step: Step, e: EpisodeScene, hidden: set[str], look: Look, *, cursor: int,
             **_: Any) -> Panel:
    ep, tr = e.episode, e.episode.trace
    reads = tr.read.weights[:, 0, 0].astype(np.float64).copy()
    hide_from = e.jump_step if "read_weights" in hidden else None
    if hide_from is not None:
        reads[hide_from:] = np.nan
    fig = episode_grid(ep.inputs, ep.outputs, tr.write.add[:, 0, 0], tr.reads[:, 0, 0],
                       tr.write.weights[:, 0, 0], reads, cursor=cursor, rows=e.window,
                       height=560)
    sentence = say.episode_sentence(tr.write.weights[:, 0, 0], tr.read.weights[:, 0, 0],
                                    e.length, hidden_from=hide_from)
    return Panel("figure6", "**Figure 6**: the whole run, time left to right", look(fig), sentence)


def _head(step: Step, e: EpisodeScene, hidden: set[str], look: Look, *, cursor: int,
          head: str, **_: Any) -> Panel:
    h = getattr(e.episode.trace, head)
    stages = [h.previous, h.content, h.gated, h.shifted, h.weights]
    values = [s[cursor, 0, 0] for s in stages]
    fig = stage_panel(*values, rows=e.window, height=560)
    fig.update_xaxes(tickangle=0, tickvals=list(EPISODE_STAGES),
                     ticktext=list(STAGE_LABELS.values()))
    fig.update_layout(margin={"t": 40})  # room for the stage names on top
    sentence = say.weighting_sentence(values[-1], f"{head} weighting at step {cursor}",
                                      previous_row=int(np.argmax(values[0])))
    return Panel("head", f"**The {head} head's four stages** at step {cursor}", look(fig),
                 sentence)


def _errors(step: Step, s: EvaluationScene, hidden: set[str], look: Look, **_: Any) -> Panel:
    header = "**% of bits wrong against sequence length**, trained on L ≤ 20"
    if "errors" in hidden:
        fig = figs.stage_figure(np.zeros(3), "?", hidden=True, height=380)
        return Panel("errors", header, look(fig), say.hidden_sentence("error curves"))
    rows = {name: [{"length": k, "bits_wrong_pct": v} for k, v in sorted(points.items())]
            for name, points in s.percent.items()}
    fig = error_curve(rows, y="bits_wrong_pct", y_title="% of bits wrong",
                      train_max=s.train_max, height=420)
    sentence = say.errors_sentence({n: sorted(p.items()) for n, p in s.percent.items()})
    return Panel("errors", header, look(fig), sentence)


_BUILDERS: dict[str, Callable[..., Panel]] = {
    "memory": _memory, "kernel": _kernel, "read": _read, "write": _write,
    "figure6": _figure6, "head": _head, "errors": _errors,
    **{name: _stage(name) for name in STAGE_HEADERS},
}


def question_figure(question: Question, scene: Scene, look: Look,
                    labels: Sequence[str] | None = None) -> tuple[go.Figure, str] | None:
    """The figure a question itself shows (a mystery weighting), with its sentence."""
    if not isinstance(question, MysteryQuestion):
        return None
    w = question.shown(scene)
    fig = figs.stage_figure(w, "?", row_labels=numbered(labels), height=look.small)
    return look(fig), say.weighting_sentence(w, "the weighting in question", labels=labels)


def reveal_figure(question: Question, verdict: Verdict, look: Look,
                  labels: Sequence[str] | None = None, rows: Sequence[int] | None = None
                  ) -> tuple[go.Figure, str] | None:
    """The student's guess beside the truth as a figure, and its sentence (None for a plain
    choice, whose guess and truth are words)."""
    if isinstance(question, RowQuestion):
        w, guess = verdict.weights, verdict.guess_value
        truth = say.weighting_words(w, labels)
        ticks = numbered(labels)
        if rows is not None:  # a model's memory: only the rows its heads use, true numbers
            rows = list(rows)
            w, ticks = w[rows], [str(r) for r in rows]
            guess = rows.index(guess) if guess in rows else None
        fig = figs.guess_rows_figure(guess, w, "truth", row_labels=ticks, height=look.small)
    elif isinstance(question, NumberQuestion):
        fig = figs.guess_number_figure(verdict.guess_value, verdict.truth_value,
                                       label=question.label, lo=question.lo, hi=question.hi,
                                       unit=question.unit)
        truth = verdict.truth
    elif verdict.options is not None:
        fig = figs.options_figure(verdict.options, truth=verdict.truth, guess=verdict.guess,
                                  row_labels=numbered(labels), height=look.small + 20)
        truth = verdict.truth
    else:
        return None
    return look(fig), say.guess_sentence(verdict.guess, truth)
