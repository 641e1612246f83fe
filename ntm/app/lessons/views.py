"""The Lessons page's step view: the step's controls, its panels, its question cards, and the
"Share this lesson" panel. State, URL and scenes are the package's (:mod:`ntm.app.lessons`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from ...figures.style import WEIGHTING_SCALES
from ...lessons import links, panels
from ...lessons.controls import CONTROLS, Control
from ...lessons.questions import (
    NumberQuestion,
    Question,
    RowQuestion,
    Verdict,
)
from ...lessons.scenes import EpisodeScene, Scene
from ...lessons.steps import STEPS, Step
from ...plaintext import escape
from .. import colours
from .. import lessons as L
from . import live

#: How wide each panel is, relative to one stage column.
#: Panels that go on a row of their own under an addressing step's live panel.
SECOND_ROW = {"read"}
WIDTHS = {"memory": 2.3, "kernel": 1.2, "read": 2.2, "write": 3.2, "figure6": 2.4, "head": 1.2,
          "errors": 2.0}


# ------------------------------------------------------------------ controls


def control_widget(control: Control, key: str, *, disabled: bool = False,
                   label: str | None = None, help: str | None = None) -> Any:
    """The widget of a lesson control; its value lives in ``st.session_state[key]``."""
    args = dict(key=key, disabled=disabled, help=help or control.help)
    label = label or control.label
    if control.kind == "choice":
        return st.segmented_control(label, list(control.choices), required=True,
                                    format_func=control.shown, **args)
    if control.kind == "grid":
        return st.select_slider(label, options=list(control.choices), format_func=control.format,
                                **args)
    if control.kind == "int":
        return st.slider(label, int(control.lo), int(control.hi), step=1, **args)
    return st.slider(label, float(control.lo), float(control.hi), step=control.step or 0.05,
                     **args)


def _width(control: Control) -> float:
    """A control's share of the row: a choice as wide as its buttons' words."""
    if control.kind != "choice":
        return 2.0
    return min(6.0, max(1.5, 0.1 * sum(len(control.shown(c)) + 4 for c in control.choices)))


def controls(step: Step, s: links.LessonState) -> None:
    """The step's controls, once its questions are answered; locked ones fixed and disabled.
    What the student sets goes into the lesson state (and so into the URL). The stage controls
    of an addressing step are the live panel's (:mod:`ntm.app.lessons.live`), not widgets."""
    names = s.shown_controls(step)
    if not names:
        return
    if not s.answered(step):
        st.caption("Answer the question to unlock this step's controls: "
                   + ", ".join(CONTROLS[n].label for n in names) + ".")
        return
    in_panel = live.IN_PANEL if live.uses_panel(step) else ()
    names = [n for n in names if n not in in_panel]
    chosen = {k: v for k, v in s.chosen.items() if k in in_panel}
    if not names:
        return
    widths = [_width(CONTROLS[n]) for n in names]
    for column, name in zip(st.columns(widths), names, strict=True):
        control, key = CONTROLS[name], f"lc_{name}"
        locked = name in s.lock
        if locked or key not in st.session_state:
            st.session_state[key] = (s.lock[name] if locked else
                                     s.chosen.get(name, step.scene.get(name, control.default)))
        with column:
            label = step.labels.get(name, control.label)
            value = control_widget(
                control, key, disabled=locked, label=f"{label} (locked)" if locked else label,
                help=f"Locked to {control.shown(s.lock[name])} by this lesson link."
                if locked else None)
        if not locked and value is not None:
            chosen[name] = value
    if chosen != dict(s.chosen):
        L.set_state(s.updated(chosen=chosen))


# ------------------------------------------------------------------ panels


def draw_panels(step: Step, s: links.LessonState, sc: Scene, look: panels.Look,
                revealed: set[str], verdicts: Mapping[str, Verdict]) -> None:
    """The step's panels side by side. An addressing step's visible stages are one live,
    in-browser panel (``stages``), placed where its first stage is, which animates the stages
    just revealed; the server's panels just revealed appear one after another."""
    extra = _moment(step, s) if isinstance(sc, EpisodeScene) else {}
    hidden = panels.hidden_parts(step, s.answers)
    in_panel = live.panel_stages(step, hidden) if live.uses_panel(step) else []
    names: list[str] = []
    for p in step.panels:  # the live panel's slot is where its first stage is
        name = "stages" if p in in_panel else p
        if name not in names:
            names.append(name)
    built = {p.name: p for p in panels.panels(step, sc, hidden, look, names=names, **extra)}
    stage = 1.5 if panels.labels_of(step, sc) is not None else 1.0  # named rows need room
    # Beside the memory and the live panel the read vector has no room: a row of its own.
    below = [n for n in names if n in SECOND_ROW and in_panel]
    rows = [[n for n in names if n not in below], below]
    pause = 0.0 if s.reduce_motion else L.REVEAL_PAUSE
    for row in filter(None, rows):
        widths = [1.6 * len(in_panel) + 0.4 if n == "stages" else WIDTHS.get(n, stage)
                  for n in row]
        if row is below:  # half the width, as in the row above
            widths.append(sum(widths))
        for column, name in zip(st.columns(widths, gap="small"), row, strict=False):
            with column, st.container(key=f"panel_{name}"):
                if name == "stages":
                    live.stage_panel(step, s, sc, look, revealed, verdicts)
                    continue
                if name in revealed and pause:
                    time.sleep(pause)
                panel = built[name]
                st.markdown(panel.header)
                L.chart(panel.figure, panel.sentence, f"fig_{panel.name}")


def _moment(step: Step, s: links.LessonState) -> dict[str, Any]:
    """Step 9's cursor: before the answer the write head's walk, after it the chosen moment."""
    values = L.live_values(step, s)
    sc = L.scene(step, values)
    moment = values.get("moment", "jump") if s.answered(step) else "write"
    cursor, head = sc.moment_step(moment)
    return {"cursor": cursor, "head": head}


# ------------------------------------------------------------------ questions


def _on_answer(qid: str) -> None:
    value = st.session_state.get(f"qa_{qid}")
    if value is None:
        st.session_state[f"qa_{qid}_missing"] = True
        return
    s = L.state()
    text = f"{value:g}" if isinstance(value, float) else str(value)
    L.set_state(s.updated(answers={**s.answers, qid: text}))
    st.session_state[L.JUST] = qid
    st.session_state[L.REVEALS] = st.session_state.get(L.REVEALS, 0) + 1


def question_card(q: Question, sc: Scene, s: links.LessonState, verdict: Verdict | None,
                  look: panels.Look, labels: Sequence[str] | None,
                  values: Mapping[str, Any], waiting: bool = False) -> None:
    """A question: its prompt and own figure; before the answer a form, after it the guess
    beside the truth and the sentence that explains the gap. ``waiting``: an earlier question
    of the step is still open, so this one only says that it comes next."""
    rows = sc.window if isinstance(sc, EpisodeScene) else None
    with st.container(border=True, key=f"card_{q.id}"):
        if waiting and verdict is None:
            st.markdown(f"**Next question · {L.KIND_WORDS[q.kind]}**  \n"
                        "It opens once you have answered the one above.")
            return
        st.markdown(f"**Question · {L.KIND_WORDS[q.kind]}**  \n{q.text(sc, values)}")
        own = panels.question_figure(q, sc, look, labels)
        if own is not None:
            L.chart(own[0], own[1], f"qfig_{q.id}")
        if verdict is None:
            _answer_form(q, labels, rows)
            return
        st.markdown(f"Your answer: **{escape(verdict.guess)}** · the truth: "
                    f"**{escape(verdict.truth)}**")
        say = st.success if verdict.correct else st.info
        say(escape(verdict.feedback, limit=2000),
            icon=":material/check_circle:" if verdict.correct else ":material/lightbulb:")
        reveal = panels.reveal_figure(q, verdict, look, labels, rows)
        if reveal is not None:
            L.chart(reveal[0], reveal[1], f"reveal_{q.id}")


def _answer_form(q: Question, labels: Sequence[str] | None, rows: Sequence[int] | None) -> None:
    key = f"qa_{q.id}"
    with st.form(f"form_{q.id}", border=False):
        if isinstance(q, RowQuestion):
            options = list(rows) if rows is not None else list(range(q.rows))
            st.pills("Your answer: the row", options, key=key,
                     format_func=lambda r: f"{r} {labels[r]}" if labels and labels[r] else str(r))
        elif isinstance(q, NumberQuestion):
            st.number_input(f"Your guess ({q.label})", min_value=q.lo, max_value=q.hi,
                            value=None, step=q.step, key=key, format=f"%.{q.digits}f")
        else:
            choices = q.choices()  # type: ignore[attr-defined]
            st.radio("Your answer", list(choices), index=None, key=key,
                     format_func=choices.get)
        st.form_submit_button("Check my answer", type="primary", on_click=_on_answer,
                              args=(q.id,), icon=":material/done:")
    if st.session_state.pop(f"{key}_missing", False):
        st.warning("Pick an answer first.", icon=":material/touch_app:")


def reveal_parts(step: Step) -> set[str]:
    """The panels that appear one by one in this run: those hidden by the question just
    answered (once)."""
    just = st.session_state.pop(L.JUST, None)
    for q in step.questions:
        if q.id == just:
            names = set(q.hides)
            return names | ({"memory"} if "similarity" in names else set()) | (
                {"figure6"} if "read_weights" in names else set())
    return set()


# ------------------------------------------------------------------ share


def share_panel(s: links.LessonState) -> None:
    """A teacher's link: a step to open at, controls hidden or locked, the display modes; as
    text and as a QR code for the projector."""
    with st.expander("Share this lesson", icon=":material/share:"):
        form, out = st.columns([1.3, 1], gap="large")
        with form:
            step = st.selectbox("Open at step", [x.number for x in STEPS], index=s.step - 1,
                                format_func=lambda n: f"{n}. {STEPS[n - 1].title}",
                                key="share_step")
            names = list(CONTROLS)
            hide = st.multiselect("Hide these controls", names, key="share_hide",
                                  format_func=lambda n: CONTROLS[n].label)
            locked = st.multiselect("Lock these controls", [n for n in names if n not in hide],
                                    key="share_lock", format_func=lambda n: CONTROLS[n].label)
            lock = {n: _lock_value(n, STEPS[step - 1]) for n in locked}
            row = st.columns(3)
            classroom = row[0].toggle("Classroom mode", key="share_classroom",
                                      value=s.classroom)
            projector = row[1].toggle("Projector mode", key="share_projector",
                                      value=s.projector)
            colors = row[2].selectbox("Colours", list(WEIGHTING_SCALES), key="share_colors",
                                      index=list(WEIGHTING_SCALES).index(colours.current()))
        url = links.lesson_url(base_url(), links.teacher_query(
            step, hide=set(hide), lock=lock, classroom=classroom, projector=projector,
            colors=colors))
        with out:
            st.markdown("**The link**")
            st.code(url, language=None, wrap_lines=True)
            st.image(links.qr_png(url), width=260, caption="Scan to open the lesson",
                     alt="QR code of the lesson link above")


def _lock_value(name: str, step: Step) -> Any:
    control = CONTROLS[name]
    key = f"share_lock_{name}"
    st.session_state.setdefault(key, step.scene.get(name, control.default))
    return control_widget(control, key, label=f"Lock {control.label} to")


def base_url() -> str:
    """The app's address as the browser sees it (``http://host:port``)."""
    url = st.context.url or "http://localhost:8501"
    return url.split("/lessons")[0].rstrip("/")
