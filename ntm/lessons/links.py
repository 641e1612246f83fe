"""The lesson's URL: where a student is and what they answered, and a teacher's link.

``/lessons?step=6&q2=5&q3a=0.4&kernel=p1`` reopens step 6 with the answers given so far (so
the score survives a reload) and the controls as the student left them. A teacher's link adds:

* ``hide=gamma,g``: those controls are not shown, on any step; they keep the step's preset;
* ``lock=beta:20,kernel:p1``: those controls are shown but fixed to the value, on every step
  that has them (TensorFlow Playground's ``_hide`` flags, generalised);
* ``classroom=true``, ``projector=true``, ``colors=cividis``, ``motion=reduce``.

A link may hold anything, so parsing never raises: bad values are ignored or clamped, with a
notice; a value given for a locked or hidden control is refused, with a notice: the lock wins.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import segno

from ..plaintext import plain
from ..urlcheck import APP_PARAMS, parse_colors
from .controls import CONTROLS, parse_hide, parse_lock
from .questions import parse_answer
from .steps import QUESTIONS, STEPS, Step

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
#: Query parameters Streamlit itself uses: never reported, never written.
STREAMLIT_PARAMS = frozenset({"embed", "embed_options"})
FLAGS = ("classroom", "projector")


@dataclass(frozen=True)
class LessonState:
    """Everything the lesson's URL holds."""

    step: int = 1
    answers: Mapping[str, str] = field(default_factory=dict)  #: question id -> answer
    chosen: Mapping[str, Any] = field(default_factory=dict)  #: this step's control values
    hide: frozenset[str] = frozenset()
    lock: Mapping[str, Any] = field(default_factory=dict)
    classroom: bool = False
    projector: bool = False
    colors: str = "default"
    reduce_motion: bool = False

    @property
    def current(self) -> Step:
        return STEPS[self.step - 1]

    def updated(self, **changes: Any) -> LessonState:
        return replace(self, **changes)

    def answered(self, step: Step) -> bool:
        """Whether every question of ``step`` has an answer."""
        return all(q.id in self.answers for q in step.questions)

    def shown_controls(self, step: Step) -> list[str]:
        """The controls ``step`` shows: its own, less the hidden ones."""
        return [c for c in step.controls if c not in self.hide]


def _last(value: str | list[str]) -> str:
    return value[-1] if isinstance(value, list) else value


def _flag(name: str, text: str, notices: list[str]) -> bool:
    word = text.strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    notices.append(f"`{name}={plain(text)}` is not true or false; using false.")
    return False


def parse_query(params: Mapping[str, str | list[str]]) -> tuple[LessonState, list[str]]:
    """The lesson state a link describes, and a notice for every value it could not use."""
    notices = [f"`{plain(k)}` is given {len(v)} times in the link; using the last value."
               for k, v in params.items() if isinstance(v, list) and len(v) > 1]
    raw = {k: _last(v) for k, v in params.items() if v not in ([], "")}
    lock, more = parse_lock(raw.get("lock", ""))
    hide, hidden_notices = parse_hide(raw.get("hide", ""))
    notices += more + hidden_notices
    step = _parse_step(raw.get("step"), notices)
    state = LessonState(
        step=step, hide=hide, lock=lock,
        answers=_parse_answers(raw, notices),
        chosen=_parse_controls(raw, STEPS[step - 1], lock, hide, notices),
        classroom=_flag("classroom", raw["classroom"], notices) if "classroom" in raw else False,
        projector=_flag("projector", raw["projector"], notices) if "projector" in raw else False,
        colors=_parse_colors(raw.get("colors"), notices),
        reduce_motion=raw.get("motion", "").strip() == "reduce",
    )
    known = {"step", "lock", "hide", "motion", *FLAGS, *QUESTIONS, *CONTROLS,
             *STREAMLIT_PARAMS, *APP_PARAMS}
    notices += [f"unknown parameter `{plain(k)}` ignored." for k in raw if k not in known]
    return state, notices


def _parse_step(text: str | None, notices: list[str]) -> int:
    if text is None:
        return 1
    word = text.strip()
    if word.isdigit() and 1 <= int(word) <= len(STEPS):
        return int(word)
    notices.append(f"`step={plain(text)}` is not a step from 1 to {len(STEPS)}; opening step 1.")
    return 1


def _parse_answers(raw: Mapping[str, str], notices: list[str]) -> dict[str, str]:
    answers = {}
    for qid, (_, question) in QUESTIONS.items():
        if qid in raw:
            answer, problem = parse_answer(question, raw[qid])
            if answer is None:
                notices.append(f"`{qid}={plain(raw[qid])}` {problem}; that answer is ignored.")
            else:
                answers[qid] = answer
    return answers


def _parse_controls(raw: Mapping[str, str], step: Step, lock: Mapping[str, Any],
                    hide: frozenset[str], notices: list[str]) -> dict[str, Any]:
    """This step's control values from the link; a locked or hidden control refuses them."""
    chosen = {}
    for name, control in CONTROLS.items():
        if name not in raw:
            continue
        shown = f"`{name}={plain(raw[name])}`"
        if name in lock:
            value, _ = control.parse(raw[name])
            if value is None or control.format(value) != control.format(lock[name]):
                notices.append(f"{control.label} is locked to `{control.format(lock[name])}` by "
                               f"this lesson link; {shown} ignored.")
            continue
        if name in hide:
            notices.append(f"{control.label} is hidden by this lesson link and keeps the step's "
                           f"value; {shown} ignored.")
            continue
        if name not in step.controls:
            notices.append(f"{shown}: step {step.number} has no such control; ignored.")
            continue
        value, problem = control.parse(raw[name])
        if problem:
            notices.append(f"{shown} {problem}{'' if value is not None else '; ignored'}.")
        if value is not None:
            chosen[name] = value
    return chosen


def _parse_colors(text: str | None, notices: list[str]) -> str:
    """The app-wide colour choice (:func:`ntm.urlcheck.parse_colors`), as the link gives it."""
    name, notice = parse_colors(text)
    if notice:
        notices.append(notice)
    return name


def to_query(state: LessonState) -> dict[str, str]:
    """The query parameters that reproduce ``state`` (control values only where they differ
    from the step's preset)."""
    query = {"step": str(state.step), **{q: a for q, a in sorted(state.answers.items())}}
    preset = state.current.scene
    for name, value in state.chosen.items():
        control = CONTROLS[name]
        if control.format(value) != control.format(preset.get(name, control.default)):
            query[name] = control.format(value)
    query.update(display_query(state.hide, state.lock, state.classroom, state.projector,
                               state.colors, state.reduce_motion))
    return query


def display_query(hide: frozenset[str] | set[str] = frozenset(),
                  lock: Mapping[str, Any] | None = None, classroom: bool = False,
                  projector: bool = False, colors: str = "default",
                  reduce_motion: bool = False) -> dict[str, str]:
    """The teacher's part of a link (only what differs from the defaults)."""
    query: dict[str, str] = {}
    if hide:
        query["hide"] = ",".join(sorted(hide))
    if lock:
        query["lock"] = ",".join(f"{k}:{CONTROLS[k].format(v)}" for k, v in sorted(lock.items()))
    query.update({name: "true" for name, on in (("classroom", classroom),
                                                ("projector", projector)) if on})
    if colors != "default":
        query["colors"] = colors
    if reduce_motion:
        query["motion"] = "reduce"
    return query


def teacher_query(step: int, **display: Any) -> dict[str, str]:
    """A teacher's link: a fresh lesson (no answers) opening at ``step``."""
    return {"step": str(step), **display_query(**display)}


def lesson_url(base: str, query: Mapping[str, str]) -> str:
    """``base`` (the app's address) + ``/lessons?`` + the query, commas and colons kept
    readable."""
    return f"{base.rstrip('/')}/lessons?{urlencode(dict(query), safe=',:')}"


def qr_code(url: str) -> segno.QRCode:
    """The link as a QR code (error correction M: readable off a projector)."""
    return segno.make(url, error="m", micro=False, boost_error=False)


def qr_png(url: str, scale: int = 6) -> bytes:
    """The QR code of ``url`` as PNG bytes (black on white, with its quiet zone)."""
    out = io.BytesIO()
    qr_code(url).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
