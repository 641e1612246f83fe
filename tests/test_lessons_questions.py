"""The lesson as data, and its questions: every question's truth is judged right and a wrong
answer wrong, with a feedback sentence built from the scene's numbers; a teacher's lock changes
the truth and the prompt together; the score counts."""

from __future__ import annotations

import numpy as np
import pytest

from ntm import catalogue
from ntm.lessons import scenes
from ntm.lessons.controls import CONTROLS, KERNELS, to_settings
from ntm.lessons.questions import (
    ChoiceQuestion,
    MysteryQuestion,
    NumberQuestion,
    RowQuestion,
    check,
    parse_answer,
)
from ntm.lessons.scoring import score
from ntm.lessons.steps import QUESTIONS, STEPS
from ntm.stepper.episode import random_batch, run_episode
from ntm.tasks import task_of

PARTS = {"similarity", "content", "gated", "shifted", "sharpened", "read", "write",
         "read_weights", "errors"}


@pytest.fixture(scope="module")
def copy_scene():
    model = catalogue.load_ntm(catalogue.MODELS_DIR / "copy.pt")
    task = task_of(model)
    return scenes.episode_scene(run_episode(model, task, random_batch(task, 1, length=10)))


@pytest.fixture(scope="module")
def evaluation_scene():
    rows = {name: catalogue.load_evaluation(catalogue.MODELS_DIR / f)
            for name, f in catalogue.COPY_MODELS.items()}
    return scenes.evaluation_scene(rows)


def scene_of(step, copy_scene, evaluation_scene, locks=None):
    if step.needs_model:
        return copy_scene
    if step.needs_evaluations:
        return evaluation_scene
    return scenes.addressing_scene(scenes.scene_values(step.scene, step.controls, locks or {}))


def right_and_wrong(question, sc) -> tuple[str, str]:
    """An answer that is right and one that is wrong, from the scene's own numbers."""
    if isinstance(question, RowQuestion):
        w = scenes.stage_weights(sc, question.stage)
        best = int(np.argmax(w))
        return str(best), str(int(np.argmin(w)))
    if isinstance(question, NumberQuestion):
        truth = float(question.measure(sc))
        far = question.lo if truth - question.lo > question.hi - truth else question.hi
        return f"{truth:g}", f"{far:g}"
    if isinstance(question, MysteryQuestion):
        right = CONTROLS[question.param].format(question.answer)
        return right, next(k for k in question.choices() if k != right)
    truth = question.truth(sc)
    return truth, next(k for k in question.options if k != truth)


def test_the_lesson_follows_the_story():
    assert [s.number for s in STEPS] == list(range(1, 11))
    assert [s.title for s in STEPS][:2] == ["Memory is rows", "Reading by similarity"]
    assert all(s.questions for s in STEPS[1:])
    kinds = {q.kind for s in STEPS for q in s.questions}
    assert kinds == {"row", "number", "choice"}
    assert any(isinstance(q, MysteryQuestion) for s in STEPS for q in s.questions)
    assert len(QUESTIONS) == sum(len(s.questions) for s in STEPS)  # ids are unique
    for s in STEPS:
        assert set(s.controls) <= set(CONTROLS), s.slug
        for q in s.questions:
            assert set(q.hides) <= PARTS, q.id


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_every_question_judges_its_truth_right_and_a_wrong_answer_wrong(qid, copy_scene,
                                                                       evaluation_scene):
    step, question = QUESTIONS[qid]
    sc = scene_of(step, copy_scene, evaluation_scene)
    right, wrong = right_and_wrong(question, sc)
    assert parse_answer(question, right)[0] is not None
    good, bad = check(question, sc, right), check(question, sc, wrong)
    assert good.correct and not bad.correct
    assert good.feedback.startswith(("Right", "Close"))
    assert bad.feedback.startswith(("You chose", "You said"))
    assert good.truth == bad.truth and bad.guess != bad.truth
    assert any(ch.isdigit() for ch in bad.feedback), "the gap is explained with numbers"
    text = question.text(sc, scenes.scene_values(step.scene, step.controls, {}))
    assert "{" not in text and "?" in text


def test_the_truths_the_lesson_is_built_on(copy_scene, evaluation_scene):
    truths = {}
    for qid, (step, q) in QUESTIONS.items():
        sc = scene_of(step, copy_scene, evaluation_scene)
        truths[qid] = check(q, sc, right_and_wrong(q, sc)[0]).truth
    assert truths["q2"] == "row 5"  # the cousin
    assert truths["q6a"] == "row 8"  # +3 from row 5: three rows down
    assert truths["q7a"] == "row 6"  # the example
    assert truths["q9a"] == f"row {copy_scene.first_row}"  # back to the first vector's row
    assert truths["q9b"].startswith("by content")
    assert truths["q10b"] == "under 1% of bits wrong"
    assert float(truths["q10a"].rstrip("%")) > 35  # the LSTM is near chance at L = 120


def test_a_lock_changes_the_truth_and_the_prompt_together():
    step, q = QUESTIONS["q6a"]
    locked = scenes.scene_values(step.scene, step.controls, {"kernel": "p1"})
    sc = scenes.addressing_scene(locked)
    assert q.text(sc, locked) == ("The focus is on row 5 and the kernel is +1. Where will the "
                                  "focus be after the shift?")
    assert check(q, sc, "6").correct and not check(q, sc, "8").correct
    # a lock on a control the step does not show leaves it alone
    assert scenes.scene_values(step.scene, step.controls, {"beta": 1.0}) == dict(step.scene)


def test_values_precedence_preset_then_student_then_lock():
    step = STEPS[2]  # β
    assert scenes.scene_values(step.scene, step.controls, {}, {"beta": 50.0})["beta"] == 50.0
    assert scenes.scene_values(step.scene, step.controls, {"beta": 5.0}, {"beta": 50.0})[
        "beta"] == 5.0
    # a value for a control the step does not show is not used
    assert scenes.scene_values(step.scene, step.controls, {}, {"g": 0.1})["g"] == step.scene["g"]


def test_named_kernels_become_the_playground_kernel():
    for name, weights in KERNELS.items():
        s = to_settings({"kernel": name})
        r = scenes.addressing_scene({"kernel": name})
        assert s.radius == (len(weights) - 1) // 2
        assert r.kernel == pytest.approx(np.array(weights) / sum(weights))


def test_a_mystery_question_shows_the_weighting_its_answer_makes():
    step, q = QUESTIONS["q7b"]
    sc = scene_of(step, None, None)
    options = q.weightings(sc)
    assert list(options) == ["1", "3", "20"]
    assert q.shown(sc) == pytest.approx(options["20"])
    assert options["1"] == pytest.approx(sc.shifted)  # γ = 1 leaves w̃ as it is
    assert check(q, sc, "3").options is not None


def test_the_score_counts_right_answers():
    step, q = QUESTIONS["q6a"]
    sc = scene_of(step, None, None)
    verdicts = [check(q, sc, "8"), check(q, sc, "2")]
    result = score(verdicts)
    assert (result.right, result.answered, result.total) == (1, 2, len(QUESTIONS))
    assert result.text == f"1 right of 2 answered ({len(QUESTIONS)} questions in all)"


@pytest.mark.parametrize(("qid", "text", "parsed"), [
    ("q2", "05", "5"), ("q2", "-1", None), ("q2", "1e3", None), ("q3a", " 0.25 ", "0.25"),
    ("q3a", "inf", None), ("q8", "-9", "-2"), ("q3b", "100", "100"), ("q4b", "TEA", None),
])
def test_answers_from_a_link_are_checked(qid, text, parsed):
    assert parse_answer(QUESTIONS[qid][1], text)[0] == parsed


def test_choice_questions_have_their_truth_among_the_options(copy_scene, evaluation_scene):
    for step, q in QUESTIONS.values():
        if isinstance(q, ChoiceQuestion):
            assert q.truth(scene_of(step, copy_scene, evaluation_scene)) in q.options
