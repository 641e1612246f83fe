"""The Lessons page's Streamlit side: session and URL, scenes (cached), and the pieces it draws.

The lesson's state is one :class:`ntm.lessons.links.LessonState` in ``st.session_state``: read
from the URL when the page opens (a reload keeps the step, the answers and so the score),
changed only by widget callbacks, and written back to the URL after every run. Truths and
feedback come from :mod:`ntm.lessons`; figures from :mod:`ntm.lessons.panels`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from ... import catalogue
from ...lessons import links, scenes
from ...lessons.controls import CONTROLS
from ...lessons.questions import Verdict, check
from ...lessons.scoring import Score
from ...lessons.steps import STEPS, Step
from ...plaintext import escape
from ...stepper.episode import random_batch, run_episode
from ...tasks import task_of
from .. import colours
from ..models import shipped_model

STATE, NOTICES, JUST = "lesson_state", "lesson_notices", "lesson_just_answered"
#: How many times the server set the live view's controls itself (another step, a restart):
#: the in-browser panel takes them whatever it shows; and how many answers were revealed.
PANEL_REVISION, REVEALS = "lesson_panel_revision", "lesson_reveals"
PLOT = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
KIND_WORDS = {"row": "click a row", "number": "predict a number", "choice": "choose one"}
#: Seconds between two server-drawn panels of the reveal (none when motion is reduced); the
#: addressing stages are animated in the browser instead (:mod:`ntm.app.lessons.live`).
REVEAL_PAUSE = 0.35
COPY_SEED = 1


# ------------------------------------------------------------------ state and URL


def state() -> links.LessonState:
    """The lesson state; read from the URL the first time the page runs in this session."""
    if STATE not in st.session_state:
        params = {k: st.query_params.get_all(k) for k in st.query_params}
        parsed, notices = links.parse_query(params)
        st.session_state[STATE] = parsed
        st.session_state[NOTICES] = notices
    return st.session_state[STATE]


def set_state(new: links.LessonState) -> None:
    st.session_state[STATE] = new


def sync_url() -> None:
    """Make the address bar hold the lesson state (written only when it changed), with the
    app's colour choice (:mod:`ntm.app.colours`) as its ``colors``."""
    wanted = links.to_query(state().updated(colors=colours.current()))
    current = st.query_params.to_dict()
    keep = {k: v for k, v in current.items() if k in links.STREAMLIT_PARAMS}
    if current != {**wanted, **keep}:
        st.query_params.from_dict({**wanted, **keep})


def go(number: int) -> None:
    """Move to step ``number``: its controls start from its preset."""
    for name in CONTROLS:
        st.session_state.pop(f"lc_{name}", None)
    st.session_state[PANEL_REVISION] = st.session_state.get(PANEL_REVISION, 0) + 1
    set_state(state().updated(step=int(number), chosen={}))


def _on_pick() -> None:
    go(st.session_state.get("lesson_pick") or state().step)


def _on_display(name: str) -> None:
    value = st.session_state[f"ld_{name}"]
    if name == "motion":
        set_state(state().updated(reduce_motion=bool(value)))
    else:
        set_state(state().updated(**{name: value}))


def _on_reset() -> None:
    """Forget every answer (the teacher's settings stay)."""
    for q in (q for s in STEPS for q in s.questions):
        st.session_state.pop(f"qa_{q.id}", None)
    set_state(state().updated(answers={}, chosen={}))
    go(1)


# ------------------------------------------------------------------ scenes and verdicts


def _copy_path():
    return catalogue.MODELS_DIR / catalogue.COPY_MODELS["NTM"]


@st.cache_resource(show_spinner="Running the copy model…", max_entries=16)
def _copy_scene(path: str, mtime: float, length: int) -> scenes.EpisodeScene:
    model = shipped_model(_copy_path(), "cpu")
    task = task_of(model)
    return scenes.episode_scene(run_episode(model, task, random_batch(task, COPY_SEED,
                                                                      length=length)))


@st.cache_data(show_spinner=False, max_entries=4)
def _evaluation_scene(stamps: tuple) -> scenes.EvaluationScene | None:
    found = catalogue.available(catalogue.COPY_MODELS)
    rows = {name: catalogue.load_evaluation(path) for name, path in found.items()}
    if set(rows) != {"NTM", "LSTM"} or not all(rows.values()):
        return None
    return scenes.evaluation_scene(rows)


def scene(step: Step, values: Mapping[str, Any]) -> scenes.Scene | None:
    """What ``step`` computes for these values (None when a shipped file is missing)."""
    if step.needs_model:
        path = _copy_path()
        if not path.is_file():
            return None
        return _copy_scene(str(path), path.stat().st_mtime, int(values["length"]))
    if step.needs_evaluations:
        found = catalogue.available(catalogue.COPY_MODELS)
        stamps = tuple(sorted((n, p.stat().st_mtime) for n, p in found.items()))
        return _evaluation_scene(stamps)
    return scenes.addressing_scene(values)


def preset_values(step: Step, s: links.LessonState) -> dict[str, Any]:
    """The values a step's questions are checked in: its preset and the teacher's locks."""
    return scenes.scene_values(step.scene, step.controls, s.lock)


def live_values(step: Step, s: links.LessonState) -> dict[str, Any]:
    """The values the view shows: once answered, what the student chose too."""
    chosen = s.chosen if s.answered(step) else {}
    return scenes.scene_values(step.scene, step.controls, s.lock, chosen)


def verdicts(s: links.LessonState) -> dict[str, Verdict]:
    """Every answer given so far, checked against the scene it was asked in."""
    out = {}
    for step in STEPS:
        given = [q for q in step.questions if q.id in s.answers]
        if not given:
            continue
        sc = scene(step, preset_values(step, s))
        if sc is not None:
            out.update({q.id: check(q, sc, s.answers[q.id]) for q in given})
    return out


# ------------------------------------------------------------------ page look


def page_style(s: links.LessonState) -> None:
    """Projector mode: larger type, black on white, stronger borders, less padding, so the
    stage panels and their controls fit one 1920 × 1080 screen."""
    if not s.projector:
        return
    st.html("""<style>
    [data-testid="stMainBlockContainer"] { padding-top: 3.2rem; padding-bottom: 1rem;
                                           max-width: 100%; }
    [data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
    [data-testid="stMain"] [data-testid="stMarkdownContainer"] li { font-size: 1.3rem;
        line-height: 1.35; color: #000; }
    [data-testid="stMain"] h1 { font-size: 2.1rem; padding: 0.2rem 0; color: #000; }
    [data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {
        font-size: 1.1rem; color: #000 !important; }
    [data-testid="stWidgetLabel"] p { font-size: 1.15rem; font-weight: 700; color: #000; }
    [data-testid="stMain"] button { border: 2px solid #000; color: #000; font-size: 1.1rem; }
    [data-testid="stAlert"] { border: 2px solid #000; }
    [data-testid="stAlert"] p { color: #000; }
    </style>""")


def display_settings(s: links.LessonState) -> None:
    """The sidebar's display toggles (each in the URL). The colours are the app's one choice,
    with its legend (:mod:`ntm.app.colours`, in the sidebar of every page)."""
    seeds = {"projector": s.projector, "classroom": s.classroom, "motion": s.reduce_motion}
    for name, value in seeds.items():
        st.session_state.setdefault(f"ld_{name}", value)
    with st.sidebar:
        st.markdown("**Lesson display**")
        st.toggle("Projector mode", key="ld_projector", on_change=_on_display,
                  args=("projector",), help="Larger type, high contrast; every stage panel "
                  "and its controls on one 1920 × 1080 screen.")
        st.toggle("Classroom mode", key="ld_classroom", on_change=_on_display,
                  args=("classroom",), help="The teacher talks: each step shows one line "
                  "instead of its text.")
        st.toggle("Reduce motion", key="ld_motion", on_change=_on_display, args=("motion",),
                  help="Reveal every stage at once instead of one after another.")


def chart(fig, sentence: str, key: str) -> None:
    """A figure with its one-sentence text alternative, as caption and accessible name."""
    st.plotly_chart(fig, key=key, config=PLOT, theme=None, alt=sentence)
    st.caption(escape(sentence, limit=2000))


# ------------------------------------------------------------------ header and navigation


def header(step: Step, s: links.LessonState, result: Score) -> None:
    top = st.columns([4, 2.2], vertical_alignment="bottom")
    top[0].title(f"Lesson {step.number} of {len(STEPS)}: {step.title}")
    top[1].markdown(f"**Score:** {result.text}")
    st.session_state["lesson_pick"] = s.step
    st.segmented_control(
        "Step", [st_.number for st_ in STEPS], key="lesson_pick", required=True,
        on_change=_on_pick, label_visibility="collapsed",
        format_func=lambda n: f"{n} ✓" if STEPS[n - 1].questions and s.answered(STEPS[n - 1])
        else str(n))
    notices = st.session_state.get(NOTICES) or []
    if notices:
        st.warning("This link asked for things the lesson cannot do as given:\n\n"
                   + "\n".join(f"- {n}" for n in notices), icon=":material/link_off:")
        st.button("Dismiss", key="lesson_dismiss", on_click=notices.clear, type="tertiary")


def step_text(step: Step, s: links.LessonState, values: Mapping[str, Any]) -> None:
    shown = {k: CONTROLS[k].shown(v) for k, v in values.items() if k in CONTROLS}
    if s.classroom:
        st.markdown(f"**{step.summary}**")
    else:
        st.markdown(step.text.format(**shown))


def navigation(s: links.LessonState) -> None:
    with st.container(horizontal=True):
        st.button("Back", icon=":material/arrow_back:", disabled=s.step == 1, on_click=go,
                  args=(s.step - 1,), key="lesson_back")
        st.button("Next step", icon=":material/arrow_forward:", type="primary",
                  disabled=s.step == len(STEPS), on_click=go, args=(s.step + 1,),
                  key="lesson_next")
        st.button("Start again", icon=":material/restart_alt:", on_click=_on_reset,
                  key="lesson_reset", type="tertiary",
                  help="Forget every answer and go back to step 1.")
