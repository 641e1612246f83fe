"""The Lessons page under Streamlit's AppTest (no browser): every step renders with a text
alternative on every figure; answers right and wrong get their feedback and score; a reload of
the URL keeps the step, the answers and the score; a teacher's locked and hidden controls hold
against the link, with a notice."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ntm.app.addressing_panel import StageControls
from ntm.app.lessons import live
from ntm.figures.style import CIVIDIS_COLORSCALE
from ntm.lessons import links
from ntm.lessons.steps import QUESTIONS, STEPS

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "lessons.py")


def run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def plain(text: str) -> str:
    """Markdown escapes removed (the page escapes every generated sentence)."""
    return re.sub(r"\\(.)", r"\1", text)


def score_text(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Score:**"))


def feedback(at: AppTest) -> list[str]:
    return [plain(e.value) for e in [*at.success, *at.info]]


def submit(at: AppTest, qid: str) -> None:
    next(b for b in at.button if b.proto.id.endswith(f"form_{qid}-Check my answer")).click()
    at.run()
    assert not at.exception, at.exception


def widget(at: AppTest, key: str):
    for kind in ("button_group", "number_input", "radio", "slider", "select_slider"):
        for w in at.get(kind):
            if w.key == key:
                return w
    raise KeyError(key)


def live_panel(at: AppTest) -> dict | None:
    """The data the step's live addressing panel (the in-browser component) received."""
    found = [json.loads(c.proto.json) for c in at.get("bidi_component")
             if c.proto.id.rsplit("-", 1)[-1].startswith("lesson_panel_")]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.mark.parametrize("number", [s.number for s in STEPS])
def test_every_step_renders_with_a_sentence_for_every_figure(number):
    step = STEPS[number - 1]
    answered = {q.id: "0" if q.kind != "choice" else next(iter(q.choices()))
                for q in step.questions}
    for query in ({"step": str(number)}, {"step": str(number), **answered}):
        at = run(query)
        assert at.title[0].value == f"Lesson {number} of 10: {step.title}"
        charts = at.get("plotly_chart")
        panel = live_panel(at)  # the addressing stages are drawn in the browser
        in_panel = len(panel["show"]["stages"]) if panel else 0
        assert len(charts) + in_panel >= len(step.panels)  # (the colour legend is the app's)
        for chart in charts:
            assert chart.proto.alt, chart.proto.id  # the accessible name ...
        captions = [plain(c.value) for c in at.caption]
        for chart in charts:  # ... is also the caption under the figure
            assert chart.proto.alt in captions
        assert not at.warning


def test_answering_right_then_wrong():
    at = run({"step": "6"})
    assert score_text(at) == f"**Score:** 0 right of 0 answered ({len(QUESTIONS)} questions in all)"
    assert any("Answer the question to unlock" in c.value for c in at.caption)
    widget(at, "qa_q6a").set_value(8)
    submit(at, "q6a")
    assert [s for s in feedback(at) if s.startswith("Right")] == [
        "Right: the focus was on row 5 and the kernel put 1.00 on offset +3, which moves weight "
        "three rows down (w[i] ← w[i−3]), to row 8."]
    widget(at, "qa_q6b").set_value("mirror")
    submit(at, "q6b")
    wrong = [s for s in feedback(at) if s.startswith("You chose")]
    assert wrong == ["You chose s = .2 / .5 / .3; it was s = .3 / .5 / .2. Rows 4, 5 and 6 hold "
                     "0.30, 0.50 and 0.20 in the weighting shown; s = .3 / .5 / .2 gives 0.30, "
                     "0.50 and 0.20; s = .2 / .5 / .3 gives 0.20, 0.50 and 0.30; s = .3 / .2 / .5 "
                     "gives 0.30, 0.20 and 0.50."]
    assert "1 right of 2 answered" in score_text(at)
    assert at.query_params == {"step": "6", "q6a": "8", "q6b": "mirror"}
    # answered: the step's controls are open in the live panel, and the shifted stage is drawn
    panel = live_panel(at)
    assert panel["show"] == {"stages": ["gated", "shifted"], "controls": ["prow", "kernel"]}
    assert panel["controls"]["R"] == 3 and panel["controls"]["kernel"] == [0, 0, 0, 0, 0, 0, 1]
    assert panel["guesses"] == [{"stage": "shifted", "row": 8,
                                 "text": "Your answer: row 8 · the truth: row 8"}]
    assert all("hidden until you answer" not in c.proto.alt for c in at.get("plotly_chart"))


def test_an_answer_is_needed_before_checking():
    at = run({"step": "3"})
    submit(at, "q3a")
    assert any(w.value == "Pick an answer first." for w in at.warning)
    assert "0 right of 0 answered" in score_text(at)


def test_a_reload_keeps_the_step_and_the_score():
    at = run({"step": "2"})
    widget(at, "qa_q2").set_value(5)
    submit(at, "q2")
    next(b for b in at.button if b.key == "lesson_next").click()
    at.run()
    widget(at, "qa_q3a").set_value(0.9)
    submit(at, "q3a")
    query = dict(at.query_params)
    assert query == {"step": "3", "q2": "5", "q3a": "0.9"}
    before = score_text(at)
    assert "1 right of 2 answered" in before
    again = run(query)  # a reload: a new session with only the URL
    assert again.title[0].value.startswith("Lesson 3 of 10")
    assert score_text(again) == before
    assert any(s.startswith("You said 0.90") for s in feedback(again))


def test_a_locked_control_holds_against_the_link_with_a_notice():
    at = run({"step": "4", "lock": "beta:20", "beta": "100", "q4a": "0.5", "q4b": "tea"})
    notice = plain(at.warning[0].value)
    assert "Key strength β is locked to `20` by this lesson link; `beta=100` ignored." in notice
    panel = live_panel(at)  # β is the live panel's: shown, locked (disabled) at the link's 20
    assert panel["show"]["controls"] == ["beta"] and panel["locked"] == ["beta"]
    assert panel["controls"]["beta"] == 20.0
    assert widget(at, "lc_kmix").label.startswith("Blend")  # the key's blend stays a widget
    assert at.query_params == {"step": "4", "q4a": "0.5", "q4b": "tea", "lock": "beta:20"}


def test_a_hidden_control_is_not_shown_and_refuses_the_link():
    at = run({"step": "7", "hide": "gamma", "gamma": "50", "q7a": "6", "q7b": "20"})
    assert "Sharpening γ is hidden by this lesson link" in plain(at.warning[0].value)
    keys = {w.key for kind in ("slider", "select_slider", "button_group")
            for w in at.get(kind)}
    assert "lc_gamma" not in keys
    assert live_panel(at)["show"]["controls"] == ["kernel"]  # γ hidden, the kernel shown


def test_classroom_projector_and_colours_from_the_link():
    at = run({"step": "5", "classroom": "true", "projector": "true", "colors": "cividis"})
    assert any(m.value == "**g = 1 jumps to the content match, g = 0 keeps the last focus.**"
               for m in at.markdown)
    assert not any(m.value.startswith("The gate g mixes") for m in at.markdown)
    assert any("font-size" in h.proto.body for h in at.get("html"))  # the projector's style
    assert live_panel(at)["colorscale"] == [[float(t), c] for t, c in CIVIDIS_COLORSCALE]
    assert at.query_params["colors"] == "cividis"  # the app's colour choice, kept in the link


def test_the_share_panel_builds_the_teachers_link():
    at = run({"step": "3"})
    at.selectbox(key="share_step").set_value(6)
    at.multiselect(key="share_hide").set_value(["prow"])
    at.multiselect(key="share_lock").set_value(["kernel"])
    at.run()
    widget(at, "share_lock_kernel").set_value("p1")
    at.toggle(key="share_classroom").set_value(True)
    at.run()
    assert not at.exception
    link = at.get("code")[0].value
    assert link == ("http://localhost:8501/lessons?step=6&hide=prow&lock=kernel:p1"
                    "&classroom=true")
    # the link itself opens the lesson there, with the kernel locked and the row hidden
    opened = run({"step": "6", "hide": "prow", "lock": "kernel:p1", "classroom": "true",
                  "q6a": "6", "q6b": "blur"})
    panel = live_panel(opened)
    assert panel["show"]["controls"] == ["kernel"] and panel["locked"] == ["kernel"]
    assert panel["controls"]["kernel"] == [0, 0, 0, 0, 1, 0, 0]  # "+1"

    assert any(s.startswith("Right: the focus was on row 5 and the kernel put 1.00 on offset +1")
               for s in feedback(opened))


def test_a_bad_link_gives_notices_and_a_working_page():
    at = run({"step": "12", "q2": "abc", "colors": "neon", "x": "1"})
    assert at.title[0].value.startswith("Lesson 1 of 10")
    notice = plain(at.warning[0].value)
    for part in ("`step=12`", "`q2=abc`", "`colors=neon`", "unknown parameter `x`"):
        assert part in notice


def test_one_question_at_a_time():
    """A later question may show an earlier one's answer (step 7's mystery γ makes one row
    win), so it opens only once the one above is answered."""
    at = run({"step": "7"})
    forms = [b.proto.id for b in at.button if "Check my answer" in b.proto.id]
    assert len(forms) == 1 and forms[0].endswith("form_q7a-Check my answer")
    assert all(not c.proto.id.endswith("qfig_q7b") for c in at.get("plotly_chart"))
    assert any("opens once you have answered the one above" in m.value for m in at.markdown)
    widget(at, "qa_q7a").set_value(6)
    submit(at, "q7a")
    assert any(c.proto.id.endswith("qfig_q7b") for c in at.get("plotly_chart"))


def test_lessons_come_first_after_home_in_the_navigation():
    source = (Path(PAGE).parents[1] / "explorer_app.py").read_text()
    pages = re.findall(r'st\.Page\("pages/(\w+)\.py"', source)
    assert pages[:2] == ["home", "lessons"]
    assert 'url_path="lessons"' in source


def test_an_addressing_step_mounts_the_live_panel_with_only_its_controls():
    """Before the answer: only the stages not asked about and no controls; after it: the
    step's stages and controls, β and γ on the lesson's notches, the kernels by name, and the
    reveal of what the question hid (once)."""
    at = run({"step": "5"})
    panel = live_panel(at)
    assert panel["show"] == {"stages": ["previous", "content"], "controls": []}
    assert panel["reveal"] is None and panel["guesses"] == []
    widget(at, "qa_q5").set_value(0.4)
    submit(at, "q5")
    panel = live_panel(at)
    assert panel["show"] == {"stages": ["previous", "content", "gated"],
                             "controls": ["prow", "g"]}
    assert panel["locked"] == [] and panel["controls"]["g"] == 0.3
    assert panel["controls"]["prow"] == 2 and panel["controls"]["beta"] == 30.0
    assert panel["reveal"]["stages"] == ["gated"] and panel["reduceMotion"] is False
    assert panel["guesses"][0]["stage"] == "gated" and panel["guesses"][0]["row"] == 9
    assert panel["guesses"][0]["text"].startswith("Your answer: 0.40 · the truth: ")
    assert [k["name"] for k in panel["kernels"]][:3] == ["stay", "p1", "m1"]
    assert panel["grids"]["beta"][-1] == 100.0 and panel["grids"]["gamma"][0] == 1.0
    at.run()  # any later run: no reveal again
    assert live_panel(at)["reveal"] is None


def test_a_teachers_lock_holds_in_the_live_panel_and_against_a_release():
    at = run({"step": "6", "lock": "kernel:p1", "hide": "prow", "motion": "reduce",
              "q6a": "6", "q6b": "blur"})
    panel = live_panel(at)
    assert panel["show"]["controls"] == ["kernel"] and panel["locked"] == ["kernel"]
    assert panel["reduceMotion"] is True
    state = links.LessonState(step=6, answers={"q6a": "6", "q6b": "blur"}, lock={"kernel": "p1"},
                              hide=frozenset({"prow"}))
    released = StageControls(prow=9, R=3, kernel=(0, 0, 0, 0, 0, 0, 1.0), g=0.0)
    assert live.released_choices(STEPS[5], state, released) == {}  # locked and hidden: refused
    free = state.updated(lock={}, hide=frozenset())
    assert live.released_choices(STEPS[5], free, released) == {"prow": 9, "kernel": "p3"}


def test_released_values_become_the_lessons_own():
    c = StageControls(beta=20.0, gamma=3.0, g=0.35, prow=4, R=1, kernel=(0, 0, 0.3, 0.5, 0.2, 0, 0))
    assert live.lesson_values(c, ["beta", "gamma", "g", "prow", "kernel"]) == {
        "beta": 20.0, "gamma": 3.0, "g": 0.35, "prow": 4, "kernel": "blur"}
    odd = StageControls(beta=7.0, R=2, kernel=(0, 0.1, 0.2, 0.3, 0.2, 0.1, 0))
    assert live.lesson_values(odd, ["beta", "kernel"]) == {"beta": 8.0}  # nearest notch
