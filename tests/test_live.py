"""Live training (ntm.training.live) and the Train-it-yourself page."""

import shlex
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import ntm
from ntm.app import trace_player as tp
from ntm.stepper import player
from ntm.training import cli, loop
from ntm.training import clients as C
from ntm.training import live as L
from ntm.training import manager as M

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "train.py")
TINY = replace(L.LIVE_DEFAULTS, task_params={"min_length": 1, "max_length": 3}, memory_rows=8,
               memory_width=4, controller_size=16, batch_size=4, eval_every=48,
               eval_sequences=12, lr=1e-2, max_seconds=60)
# AppTest's script runs share the GIL with the training thread: poll gently.


def wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture
def manager():
    m = M.RunManager(max_concurrent=2, max_queued=2)
    yield m
    m.shutdown()


def test_a_run_learns_and_saves_loadable_checkpoints(manager):
    run = manager.start("alice", replace(TINY, max_sequences=480))
    wait(lambda: run.finished, 120)
    snap = run.snapshot()
    assert snap.status == L.BUDGET and snap.sequences == 480
    assert len(snap.curve) == 10
    assert min(p["cost"] for p in snap.curve[-3:]) < snap.curve[0]["cost"]  # the loss fell
    model = ntm.load_model(snap.checkpoint)
    assert model.task == "copy" and model.metadata["sequences_seen"] == 480
    assert snap.probe["outputs"].shape == (7, 8) and snap.probe["read_weights"].shape == (7, 8)
    # its files live in its own private temporary directory, deleted when the run is dropped
    folder = snap.checkpoint.parent
    assert folder == run.directory and folder.name.startswith(L.RUN_DIR_PREFIX)
    assert folder.parent == Path(tempfile.gettempdir()) and folder.stat().st_mode & 0o777 == 0o700
    manager.forget(run)
    assert not folder.exists() and manager.get(run.id, "alice") is None


def test_pause_and_resume_keep_the_step_count(manager):
    run = manager.start("bob", TINY)
    wait(lambda: run.snapshot().steps > 5)
    run.pause()
    wait(lambda: run.status == L.PAUSED)
    time.sleep(0.3)  # let the step in flight finish
    steps = run.snapshot().steps
    time.sleep(0.5)
    assert run.snapshot().steps == steps
    run.resume()
    wait(lambda: run.snapshot().steps > steps + 5)
    run.stop()
    wait(lambda: run.finished)
    assert run.status == L.STOPPED


def test_runs_are_private_to_their_owner(manager):
    a = manager.start("alice", TINY)
    b = manager.start("bob", TINY)
    assert manager.get(a.id, "alice") is a and manager.get(a.id, "bob") is None
    assert manager.get(b.id, "bob") is b
    # a new run of the same owner replaces (stops) the previous one
    a2 = manager.start("alice", TINY)
    wait(lambda: a.finished)
    assert a.status == L.STOPPED and not a2.finished


def test_the_cap_is_enforced_with_a_queue_and_a_plain_refusal():
    m = M.RunManager(max_concurrent=1, max_queued=1)
    try:
        first = m.start("a", TINY)
        wait(lambda: first.status == L.RUNNING)
        second = m.start("b", TINY)
        time.sleep(0.5)
        snap = second.snapshot()
        assert snap.status == L.QUEUED and snap.queue_position == 1
        assert m.training() == 1
        with pytest.raises(C.Busy, match="busy"):
            m.start("c", TINY)
        first.stop()
        wait(lambda: second.status == L.RUNNING)
    finally:
        m.shutdown()


def test_worker_stops_when_its_session_ends_and_leaves_no_thread(manager):
    before = threading.active_count()
    alive = threading.Event()
    alive.set()
    run = manager.start("carol", TINY, alive=alive.is_set)
    wait(lambda: run.status == L.RUNNING)
    assert threading.active_count() == before + 1
    alive.clear()  # the browser session is gone
    wait(lambda: run.finished)
    run.thread.join(timeout=10)
    assert run.status == L.ABANDONED
    assert threading.active_count() == before


def test_time_cap_stops_a_paused_run(manager):
    manager.max_lifetime = 1.0
    run = manager.start("dave", TINY)
    wait(lambda: run.status == L.RUNNING)
    run.pause()
    wait(lambda: run.finished, 10)
    assert run.status == L.BUDGET and "time limit" in run.message


def test_a_run_paused_too_long_is_stopped_and_keeps_its_checkpoint():
    m = M.RunManager(max_concurrent=1, max_queued=1, max_paused=0.5)
    try:
        run = m.start("ivy", TINY)
        wait(lambda: run.snapshot().checkpoint is not None)
        run.pause()
        wait(lambda: run.finished, 10)
        snap = run.snapshot()
        assert snap.status == L.STOPPED and "paused for more than 0.5 seconds" in snap.message
        assert "checkpoint is kept" in snap.message
        assert ntm.load_model(snap.checkpoint).task == "copy"
        assert m.training() == 0 and m.slots_in_use() == 0
    finally:
        m.shutdown()


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_model(manager, monkeypatch):
    real = loop.train_step
    calls = {"n": 0}

    def flaky(config, model, optimizer, batch):
        calls["n"] += 1
        if calls["n"] > 30:  # after a few evaluations have saved a checkpoint
            raise loop.NonFiniteLoss("the loss is nan")
        return real(config, model, optimizer, batch)

    monkeypatch.setattr(loop, "train_step", flaky)
    run = manager.start("erin", TINY)
    wait(lambda: run.finished)
    snap = run.snapshot()
    assert snap.status == L.FAILED and "nan" in snap.message and "last good model" in snap.message
    model = ntm.load_model(snap.checkpoint)
    assert model.metadata["sequences_seen"] == snap.curve[-1]["sequences"]
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_the_saved_command_reproduces_the_run_with_every_setting(manager):
    # two read heads used to be left out of the command, which then trained another model
    config = replace(TINY, read_heads=2, write_heads=2, gate_bias=-2.0, curriculum=2,
                     curriculum_threshold=1e9, lr_decay_below=1e9, lr_decay=0.5,
                     max_sequences=96)
    command = config.command()
    for option in ("--read-heads 2", "--write-heads 2", "--gate-bias -2.0", "--curriculum 2",
                   "--lr-decay-below", "--lr-decay 0.5", "--max-length 3"):
        assert option in command, (option, command)
    assert cli.parse_config(shlex.split(command)[3:]) == config
    run = manager.start("frank", config)
    wait(lambda: run.finished, 120)
    snap = run.snapshot()
    assert snap.status == L.BUDGET and snap.sequences == 96
    # the live run went through the same loop: curriculum stages and the learning-rate cut
    assert [p["stage"] for p in snap.curve] == [1, 2]
    assert snap.curve[-1]["lr"] == pytest.approx(TINY.lr * 0.5)
    model = ntm.load_model(snap.checkpoint)
    assert model.config.read_heads == 2 and model.config.write_heads == 2
    assert model.metadata["command"] == command
    assert cli.parse_config(shlex.split(model.metadata["command"])[3:]) == config
    assert model.metadata["source"] == "Train-it-yourself page"


def test_live_runs_are_ntms(manager):
    with pytest.raises(ValueError, match="NTM"):
        manager.start("gina", replace(TINY, model="lstm"))


# ------------------------------------------------------------------ the page


@pytest.fixture
def stop_page_runs():
    yield
    M.shutdown_all()


def click(at, label):
    next(b for b in at.button if b.label == label).click().run()


def test_page_starts_polls_and_finishes_a_run(monkeypatch, models_dir, stop_page_runs):
    tiny = {"Tiny": replace(TINY, max_sequences=240)}
    monkeypatch.setattr(L, "PRESETS", tiny)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    assert any("press **Start**" in i.value for i in at.info)
    click(at, "Start")
    assert not at.exception, at.exception
    run_id = at.session_state["live_run"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        at.run()
        if any("Finished its budget" in i.value for i in at.info):
            break
        time.sleep(2.0)  # poll like the page's fragment, without hogging the GIL
    else:
        raise AssertionError("the run did not finish")
    assert not at.exception, at.exception
    assert at.session_state["live_run"] == run_id
    assert at.metric[0].value == "240"
    assert "live_checkpoint" in at.session_state
    labels = [b.label for b in at.button]
    assert "Open in the stepper" in labels
    assert at.get("download_button")
    # the run ended: the trace player steps through the student's own model on the probe
    players = [e for e in at.get("bidi_component") if e.proto.component_name == tp.COMPONENT_NAME]
    assert len(players) == 1
    header, arrays = player.unpack(players[0].proto.bytes)
    ep = L.probe_episode(at.session_state["live_checkpoint"])
    assert header["steps"] == ep.steps == 7 and header["title"] == "your model"
    np.testing.assert_allclose(arrays["outputs"], ep.outputs, atol=1e-6)
    np.testing.assert_allclose(arrays["inputs"], L.probe_batch(ep.task).inputs[:, 0].numpy())


def test_page_pause_resume_and_sessions_stay_apart(monkeypatch, models_dir, stop_page_runs):
    monkeypatch.setattr(L, "PRESETS", {"Tiny": TINY})
    a = AppTest.from_file(PAGE, default_timeout=60).run()
    b = AppTest.from_file(PAGE, default_timeout=60).run()
    click(a, "Start")
    click(b, "Start")
    ra, rb = a.session_state["live_run"], b.session_state["live_run"]
    assert ra != rb
    # the run's thread takes its slot, then says "running": Pause is enabled from then on
    wait(lambda: not next(x for x in a.run().button if x.label == "Pause").disabled)
    click(a, "Pause")
    a.run()
    assert any("Paused" in i.value for i in a.info)
    assert not any("Paused" in i.value for i in b.run().info)  # b's run is untouched
    click(a, "Resume")
    click(a, "Stop")
    click(b, "Stop")
    assert not a.exception and not b.exception


def test_page_advanced_options_reach_the_run_and_its_command(monkeypatch, models_dir,
                                                             stop_page_runs):
    monkeypatch.setattr(L, "PRESETS", {"Tiny": TINY})
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert "--max-length 3" in at.code[0].value and "--gate-bias" not in at.code[0].value
    at.slider(key="t_gate").set_value(-2.0)
    at.slider(key="t_stages").set_value(2)
    at.number_input(key="t_cut_below").set_value(0.5)
    at.slider(key="t_rheads").set_value(2)
    at.number_input(key="t_quiet").set_value(0.05)
    at.run()
    command = at.code[0].value
    for option in ("--gate-bias -2.0", "--curriculum 2", "--lr-decay-below 0.5", "--read-heads 2",
                   "--answer-write-penalty 0.05"):
        assert option in command, (option, command)
    click(at, "Start")
    assert not at.exception, at.exception
    owner, run_id = at.session_state["_live_owner"], at.session_state["live_run"]
    live = next(filter(None, (m.get(run_id, owner) for m in M.RunManager.instances)))
    assert live.config.gate_bias == -2.0 and live.config.curriculum == 2
    assert live.config.answer_write_penalty == 0.05
    assert live.config.command() == command
