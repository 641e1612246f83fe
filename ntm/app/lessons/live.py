"""A lesson step's live addressing view: the playground's in-browser component
(:mod:`ntm.app.addressing_panel`), preset to the step's values and showing only its stages and
its controls.

Steps 2–7 show addressing stages. Their stage panels and the controls ``prow``, ``β``, ``g``,
the kernel and ``γ`` live in the browser: a slider move redraws the stages there, and only the
release reaches the server (:func:`on_release`), which turns the released values back into the
lesson's own (``beta`` on its grid, the kernel by its name) and so into the URL. A teacher's
locked control is shown disabled with the link's value; a hidden one is not shown. The other
controls of these steps (the key's blend, the noise) change the memory or the key, which the
server sends, and stay Streamlit widgets (:func:`ntm.app.lessons.views.controls`).

After an answer the component animates the stages the question hid (``reveal``) and outlines
the student's guess on its stage (``guesses``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import streamlit as st

from ...lessons import links, panels
from ...lessons.controls import (
    BETA_GRID,
    CONTROLS,
    GAMMA_GRID,
    KERNEL_NAMES,
    KERNELS,
    kernel_changes,
    to_settings,
)
from ...lessons.questions import NumberQuestion, RowQuestion, Verdict
from ...lessons.steps import STEPS, Step
from .. import addressing_panel as ap
from .. import lessons as L

#: The lesson controls the component holds, by the component's names (the same ones).
IN_PANEL = ("prow", "beta", "g", "kernel", "gamma")


def uses_panel(step: Step) -> bool:
    return any(p in ap.STAGES for p in step.panels)


def panel_key(step: Step) -> str:
    return f"lesson_panel_{step.number}"


def panel_stages(step: Step, hidden: set[str]) -> list[str]:
    """The step's stages the component draws: those its open questions do not hide."""
    return [p for p in step.panels if p in ap.STAGES and p not in hidden]


def panel_controls(step: Step, s: links.LessonState) -> list[str]:
    """The step's controls in the component: once answered, its own less the hidden ones."""
    if not s.answered(step):
        return []
    return [n for n in s.shown_controls(step) if n in IN_PANEL]


def stage_controls(values: Mapping[str, Any]) -> ap.StageControls:
    """The component's controls for a step's values (its preset, locks and choices)."""
    return ap.StageControls.from_values(to_settings(values).values)


def kernel_choices() -> list[dict[str, Any]]:
    """The lesson's named kernels as the component offers them."""
    out = []
    for name in KERNELS:
        changes = kernel_changes(name)
        out.append({"name": name, "label": KERNEL_NAMES[name], "R": changes["R"],
                    "kernel": [changes[p] for p in ap.KERNEL_PARAMS]})
    return out


def kernel_name(controls: ap.StageControls) -> str | None:
    """The named kernel these controls hold (None: none of the lesson's)."""
    for choice in kernel_choices():
        if choice["R"] == controls.R and np.allclose(choice["kernel"], controls.kernel,
                                                     rtol=0, atol=1e-12):
            return choice["name"]
    return None


def lesson_values(controls: ap.StageControls, names: Sequence[str]) -> dict[str, Any]:
    """The lesson's values of ``names`` from released controls, each brought onto its control
    (β and γ on their grids, the kernel by its name; one that is none of them is left out)."""
    out: dict[str, Any] = {}
    for name in names:
        if name == "kernel":
            kernel = kernel_name(controls)
            if kernel is not None:
                out[name] = kernel
        else:
            out[name] = CONTROLS[name].clamp(float(getattr(controls, name)))
    return out


def guesses(step: Step, verdicts: Mapping[str, Verdict], stages: Sequence[str]
            ) -> list[dict[str, Any]]:
    """The step's answered row and number questions as the component outlines them: the
    guessed row (a number question: its row) on the stage asked about, with the guess beside
    the truth in words."""
    out = []
    for q in step.questions:
        verdict = verdicts.get(q.id)
        if verdict is None:
            continue
        if isinstance(q, RowQuestion):
            stage, row = q.stage, verdict.guess_value
        elif isinstance(q, NumberQuestion) and q.row is not None:
            stage, row = next((h for h in q.hides if h in ap.STAGES), None), q.row
        else:
            continue
        if stage in stages and row is not None:
            out.append({"stage": stage, "row": int(row),
                        "text": f"Your answer: {verdict.guess} · the truth: {verdict.truth}"})
    return out


def reveal(step: Step, revealed: set[str], stages: Sequence[str]) -> dict[str, Any] | None:
    """The stages to animate in this run (those the question just answered hid), once."""
    names = [p for p in stages if p in revealed]
    if not names:
        return None
    return {"id": f"{step.number}:{st.session_state.get(L.REVEALS, 0)}", "stages": names}


def on_release(number: int) -> None:
    """A gesture ended in the component: its values become the student's choices (and so the
    URL's); locked and hidden controls keep the link's values."""
    step, s = STEPS[number - 1], L.state()
    value = st.session_state.get(panel_key(step))
    release = value.get("release") if hasattr(value, "get") else None
    rows = to_settings(L.live_values(step, s)).rows
    controls = ap.StageControls.from_json(release, rows)
    if controls is None or s.step != number:
        return
    chosen = released_choices(step, s, controls)
    if chosen != dict(s.chosen):
        L.set_state(s.updated(chosen=chosen))


def released_choices(step: Step, s: links.LessonState, controls: ap.StageControls
                     ) -> dict[str, Any]:
    """The student's choices after a release: the step's shown, unlocked controls take the
    released values; a locked or hidden one is never taken from the browser."""
    names = [n for n in panel_controls(step, s) if n not in s.lock]
    return {**s.chosen, **lesson_values(controls, names)}


def stage_panel(step: Step, s: links.LessonState, scene: Any, look: panels.Look,
                revealed: set[str], verdicts: Mapping[str, Verdict]) -> None:
    """Mount the step's live addressing view (nothing when its stages are all still hidden)."""
    stages = panel_stages(step, panels.hidden_parts(step, s.answers))
    if not stages:
        return
    names = panel_controls(step, s)
    display = ap.Display(
        stages=stages, controls=names, locked=[n for n in names if n in s.lock],
        grids={"beta": BETA_GRID, "gamma": GAMMA_GRID}, kernels=kernel_choices(),
        guesses=guesses(step, verdicts, stages), reveal=reveal(step, revealed, stages),
        reduce_motion=s.reduce_motion, projector=s.projector)
    ap.addressing_panel(
        scene.memory, scene.key, stage_controls(L.live_values(step, s)),
        row_labels=panels.labels_of(step, scene), key=panel_key(step),
        channel=f"lesson{step.number}", classroom=s.classroom or s.projector,
        revision=st.session_state.get(L.PANEL_REVISION, 0), colors=look.colors,
        on_release=lambda: on_release(step.number), display=display)
