"""Lessons: a guided, predict-then-reveal walk through NTM addressing, in ten steps.

Thin page: the lesson is data (``ntm.lessons.steps``); the state lives in the session and the
URL (``ntm.app.lessons``); truths, feedback and figures come from ``ntm.lessons``. Each step:
its text and questions on the left; on the right its controls (once the questions are answered)
and its panels, with what the questions ask about hidden until then.
"""

import streamlit as st

from ntm.app import colours
from ntm.app import lessons as L
from ntm.app.lessons import views
from ntm.app.navigation import ensure_app_navigation
from ntm.lessons import panels
from ntm.lessons.scoring import score

ensure_app_navigation()
state = L.state()
L.page_style(state)
L.display_settings(state)

state = L.state()
step = state.current
checked = L.verdicts(state)
L.header(step, state, score(checked.values()))

text_side, view_side = st.columns([1, 2.6], gap="medium")
with view_side:
    views.controls(step, state)
state = L.state()  # the controls may have changed it
look = panels.Look(colours.current(), state.projector, height=430 if state.projector else 440)
live = L.scene(step, L.live_values(step, state))
asked = L.scene(step, L.preset_values(step, state))

if live is None or asked is None:
    st.warning("This step needs the shipped copy model and its evaluations in "
               "`assets/models/`, which this server does not have. Train them with the commands "
               "in the README, or go on to another step.", icon=":material/folder_off:")
else:
    with text_side:
        L.step_text(step, state, L.live_values(step, state))
        labels = panels.labels_of(step, asked) if not step.needs_model else None
        waiting = False  # one question at a time: a later one may show an earlier's answer
        for question in step.questions:
            views.question_card(question, asked, state, checked.get(question.id), look, labels,
                                L.preset_values(step, state), waiting=waiting)
            waiting = waiting or question.id not in state.answers
        if step.needs_model and state.answered(step):
            st.markdown("**What the stepper's narration reads in this run**")
            st.markdown("\n".join(f"- {note}" for note, _ in live.notes))
    with view_side:
        views.draw_panels(step, state, live, look, views.reveal_parts(step), checked)

L.navigation(state)
views.share_panel(state)
L.sync_url()
