"""The Model stepper page under AppTest: default render, stepping, long inputs, bad uploads,
URL state, and sessions that share one cached model without sharing runs."""

from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import ntm
from ntm import catalogue
from ntm.evaluate import task_of
from ntm.stepper import episode

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "stepper.py")


def run(query=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if query:
        at.query_params.update(query)
    return at.run()


def cursor_heading(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("#### t = "))


def metric(at, label: str, head: int) -> float:
    """Value of a metric; head 0 = write head block, 1 = read head block."""
    values = [m.value for m in at.metric if m.label == label]
    return float(values[head])


@pytest.fixture
def copy_path(models_dir):
    return models_dir / "copy.pt"


def test_default_render(copy_path):
    at = run()
    assert not at.exception, at.exception
    assert cursor_heading(at).startswith("#### t = 0 of 40")
    assert at.selectbox(key="model").value == "copy"
    assert len(at.get("plotly_chart")) >= 8


def test_stepping_moves_the_cursor_and_shows_the_trace_values(copy_path):
    at = run({"seed": "5", "length": "8"})
    assert not at.exception, at.exception
    model = catalogue.load_ntm(copy_path)
    ep = episode.run_episode(model, task_of(model), episode.random_batch(task_of(model), 5, length=8))
    for expected_t in (1, 2, 3):
        next(b for b in at.button if b.label == "Next").click().run()
        assert not at.exception, at.exception
        assert cursor_heading(at).startswith(f"#### t = {expected_t} of 16")
        assert metric(at, "β key strength", 0) == pytest.approx(ep.trace.write.beta[expected_t, 0, 0], abs=0.006)
        assert metric(at, "g gate", 1) == pytest.approx(ep.trace.read.gate[expected_t, 0, 0], abs=0.006)
    next(b for b in at.button if b.label == "Back").click().run()
    assert cursor_heading(at).startswith("#### t = 2 of 16")
    next(b for b in at.button if b.label == "Last").click().run()
    assert cursor_heading(at).startswith("#### t = 16 of 16")


def test_long_sequences_beyond_training(copy_path):
    at = run()
    at.number_input(key="length").set_value(120).run()
    assert not at.exception, at.exception
    assert cursor_heading(at).startswith("#### t = 0 of 240")
    assert any("beyond the training range" in i.value for i in at.info)


def test_url_restores_model_seed_length_and_cursor(copy_path):
    at = run({"seed": "9", "length": "7", "t": "5"})
    assert not at.exception, at.exception
    assert at.number_input(key="seed").value == 9
    assert at.number_input(key="length").value == 7
    assert cursor_heading(at).startswith("#### t = 5 of 14")


@pytest.mark.parametrize("query", [{"length": "100000"}, {"seed": "abc"}, {"t": "nan"},
                                   {"model": "nope"}, {"device": "tpu"}])
def test_garbage_in_the_url_gives_a_notice_and_a_working_page(copy_path, query):
    at = run(query)
    assert not at.exception, at.exception
    assert at.warning, "expected a notice"
    assert cursor_heading(at).startswith("#### t = ")


def test_corrupt_upload_gives_a_message_not_an_exception(copy_path):
    at = run({"model": "upload"})
    assert not at.exception, at.exception
    at.file_uploader[0].set_value(("broken.pt", b"this is not a checkpoint", "application/octet-stream"))
    at.run()
    assert not at.exception, at.exception
    assert any("broken.pt" in e.value and "cannot be used" in e.value for e in at.error)


def test_good_upload_is_stepped(copy_path):
    at = run({"model": "upload"})
    at.file_uploader[0].set_value(("mine.pt", copy_path.read_bytes(), "application/octet-stream"))
    at.run()
    assert not at.exception, at.exception
    assert cursor_heading(at).startswith("#### t = 0 of 40")


def test_two_sessions_share_the_model_but_not_their_runs(copy_path):
    a = run({"seed": "1", "length": "5"})
    b = run({"seed": "2", "length": "9"})
    model = catalogue.load_ntm(copy_path)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for _ in range(2):  # interleave
        next(x for x in a.button if x.label == "Next").click().run()
        next(x for x in b.button if x.label == "Next").click().run()
    assert cursor_heading(a).startswith("#### t = 2 of 10")
    assert cursor_heading(b).startswith("#### t = 2 of 18")
    ea, eb = a.session_state["_episode"], b.session_state["_episode"]
    task = task_of(model)
    for ep, seed, length in ((ea, 1, 5), (eb, 2, 9)):
        fresh = episode.run_episode(model, task, episode.random_batch(task, seed, length=length))
        np.testing.assert_array_equal(ep.inputs, fresh.inputs)
        np.testing.assert_allclose(ep.trace.read.weights, fresh.trace.read.weights, atol=1e-6)
    # the cached, shared model is untouched
    from ntm.app.models import shipped_model
    shared = shipped_model(copy_path, "cpu")
    reloaded = ntm.load_model(copy_path)
    for k, v in reloaded.state_dict().items():
        assert torch.equal(shared.state_dict()[k], v), k
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_a_model_that_did_not_learn_is_flagged(models_dir):
    model = ntm.load_model(models_dir / "copy.pt")
    ntm.save_model(model, models_dir / "copy.pt",
                   curve=[{"sequences": 500, "cost": 60.0, "bit_errors": 30.0}])
    at = run()
    assert not at.exception, at.exception
    assert any("has not learned its task" in w.value for w in at.warning)


def test_a_trained_model_is_not_flagged(copy_path):
    at = run()
    assert not any("has not learned" in w.value for w in at.warning)
