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


@pytest.fixture
def with_repeat_copy(models_dir):
    torch.manual_seed(0)
    model = ntm.NTM(ntm.NTMConfig(input_size=10, output_size=9, memory_rows=32, memory_width=6,
                                  controller_size=16))
    ntm.save_model(model, models_dir / "repeat-copy.pt", task="repeat-copy",
                   task_params={"bits": 8, "min_length": 1, "max_length": 10,
                                "min_repeats": 1, "max_repeats": 10})
    return models_dir


def test_the_links_sizes_are_checked_against_the_models_task(with_repeat_copy):
    """Repeat copy stops at length 20 where copy goes to 120: length=50 used to be cut silently."""
    at = run({"model": "repeat-copy", "length": "50"})
    assert not at.exception, at.exception
    assert [w.value for w in at.warning] == ["`length=50` is outside 1–20; using the default instead."]
    assert at.number_input(key="length").value == 5 and at.number_input(key="repeats").value == 3
    assert dict(at.query_params) == {"model": "repeat-copy"}
    assert cursor_heading(at).startswith("#### t = 0 of 21")  # 5 + 1 + 3 x 5 + 1 steps


def test_notices_of_both_checks_of_the_link_are_shown(with_repeat_copy):
    at = run({"model": "repeat-copy", "length": "50", "seed": "abc", "input": "typed"})
    assert not at.exception, at.exception
    text = " ".join(w.value for w in at.warning)
    for part in ("`seed=abc` is not a whole number", "`length=50` is outside 1–20",
                 "`input=typed` is not one of random"):
        assert part in text, text
    assert len(at.warning) == 3
    assert dict(at.query_params) == {"model": "repeat-copy"}


def test_the_copy_model_still_takes_long_lengths_from_the_link(copy_path):
    at = run({"length": "50"})
    assert not at.warning and at.number_input(key="length").value == 50


def test_switching_to_a_model_with_shorter_sizes_says_so(with_repeat_copy):
    at = run({"length": "50"})
    at.selectbox(key="model").set_value("repeat-copy").run()
    assert not at.exception, at.exception
    assert at.number_input(key="length").value == 5
    assert any("length 50 is outside 1–20 for this model; using 5" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Next").click().run()
    assert not any("outside" in i.value for i in at.info)  # said once


def test_typed_input_is_stepped(copy_path):
    at = run({"input": "typed"})
    assert not at.exception, at.exception
    assert cursor_heading(at) == "#### t = 0 of 12 · input: vector 1 of 6"  # 6 typed rows
