"""The Model stepper page under AppTest: default render, the trace player's payload, long
inputs, bad uploads, URL state, and sessions that share one cached model without sharing runs.

The time cursor lives in the browser (``tests/browser/test_browser_trace_player.py``): here the
page is checked through what it mounts, the player's payload (``ntm.stepper.player``), and
through the one message the player sends, where its cursor stopped."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import ntm
from ntm import catalogue
from ntm.app import trace_player as tp
from ntm.evaluate import task_of
from ntm.stepper import episode, player

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "stepper.py")


def run(query=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if query:
        at.query_params.update(query)
    return at.run()


def mounted_player(at):
    """The trace player element the page mounted (the sidebar also holds Plotly's preloader)."""
    players = [e for e in at.get("bidi_component") if e.proto.component_name == tp.COMPONENT_NAME]
    assert len(players) == 1, "expected one trace player"
    return players[0]


def payload(at) -> tuple[dict, dict]:
    """The trace player's header and arrays, as the page mounted them."""
    return player.unpack(mounted_player(at).proto.bytes)


def cursor_heading(at) -> str:
    """The player's heading at the step it opens at (what the browser shows first)."""
    header, _ = payload(at)
    t = header["start"]
    phase = header["phases"][t]
    return f"#### t = {t} of {header['steps'] - 1}" + (f" · {phase}" if phase else "")


@pytest.fixture
def copy_path(models_dir):
    return models_dir / "copy.pt"


def test_default_render(copy_path):
    at = run()
    assert not at.exception, at.exception
    assert cursor_heading(at).startswith("#### t = 0 of 40")
    assert at.selectbox(key="model").value == "copy"
    header, _ = payload(at)
    assert len(header["figures"]) >= 8
    assert not at.get("plotly_chart")  # every time-dependent figure is in the player


def test_the_player_gets_the_trace_values(copy_path):
    at = run({"seed": "5", "length": "8"})
    assert not at.exception, at.exception
    model = catalogue.load_ntm(copy_path)
    ep = episode.run_episode(model, task_of(model), episode.random_batch(task_of(model), 5, length=8))
    header, arrays = payload(at)
    assert header["steps"] == 17 and header["start"] == 0
    np.testing.assert_allclose(arrays["write.beta"], ep.trace.write.beta[:, 0], atol=1e-6)
    np.testing.assert_allclose(arrays["read.gate"], ep.trace.read.gate[:, 0], atol=1e-6)
    np.testing.assert_allclose(arrays["read.weights"],
                               ep.trace.read.weights[:, 0][..., header["rows"]], atol=1e-6)


@pytest.fixture
def stop_at(monkeypatch):
    """Make the mounted player report a stop at the given step in the next run (as the browser
    does once its cursor stops)."""
    real = tp._component()
    stops: list[int | None] = []

    def mount(**kwargs):
        result = real(**kwargs)
        return SimpleNamespace(stop=stops.pop(0) if stops else None, real=result)

    monkeypatch.setattr(tp, "_component", lambda: mount)
    return stops


def test_where_the_cursor_stopped_goes_into_the_link(copy_path, stop_at):
    at = run({"seed": "5", "length": "8"})
    payload_before = mounted_player(at).proto.bytes
    stop_at.append(3)
    at.run()
    assert not at.exception, at.exception
    assert at.query_params == {"seed": "5", "length": "8", "t": "3"}
    # the player keeps its payload (and so its cursor): the stop does not rebuild it
    assert mounted_player(at).proto.bytes == payload_before
    at.run()
    assert at.query_params["t"] == "3"


def test_long_sequences_beyond_training(copy_path):
    at = run()
    at.number_input(key="length").set_value(120).run()
    assert not at.exception, at.exception
    assert cursor_heading(at).startswith("#### t = 0 of 240")
    assert len(mounted_player(at).proto.bytes) <= 3_000_000
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
    shown = [e.value.replace("\\", "") for e in at.error]  # Markdown escapes removed
    assert any("broken.pt" in e and "cannot be used" in e for e in shown)


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
        a.run()
        b.run()
    assert cursor_heading(a).startswith("#### t = 0 of 10")
    assert cursor_heading(b).startswith("#### t = 0 of 18")
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
    at.run()
    assert not any("outside" in i.value for i in at.info)  # said once


def test_typed_input_is_stepped(copy_path):
    at = run({"input": "typed"})
    assert not at.exception, at.exception
    assert cursor_heading(at) == "#### t = 0 of 12 · input: vector 1 of 6"  # 6 typed rows
