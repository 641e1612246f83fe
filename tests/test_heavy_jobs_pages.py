"""The pages share the server's slots for heavy work (issue 12, items 3 and 7): the
Generalisation page's Recompute takes one of the run manager's slots and says so when none is
free; the Train page shows a refusal as a message, never an exception."""

import time
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ntm.app import jobs
from ntm.training import clients as C
from ntm.training import live as L

PAGES = Path(__file__).resolve().parents[1] / "pages"


@pytest.fixture
def server():
    """The process's run manager, as the pages get it, with nothing left behind."""
    manager = jobs.run_manager()
    yield manager
    manager.shutdown(timeout=10)


def test_the_pages_share_one_manager(server):
    assert jobs.run_manager() is server


def recompute_button(at):
    return next(b for b in at.button if b.label == "Recompute now")


def test_recompute_waits_for_a_free_slot_with_a_clear_message(models_dir, server):
    at = AppTest.from_file(str(PAGES / "generalisation.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    assert any("slots shared with *Train it yourself* runs" in c.value for c in at.caption)
    held = [server.acquire_job(C.Client(f"browser:other-{i}"), "recompute")
            for i in range(server.max_concurrent)]
    try:
        at.slider(key="gseqs").set_value(20)
        recompute_button(at).click().run()
        assert not at.exception, at.exception
        assert any("server is busy" in w.value and "slots for heavy work" in w.value
                   for w in at.warning), [w.value for w in at.warning]
        assert "_gen_fresh" not in at.session_state
    finally:
        for job in held:
            job.release()
    recompute_button(at).click().run()
    assert not at.exception, at.exception
    assert len(at.session_state["_gen_fresh"]["NTM"]) == 7
    assert server.slots_in_use() == 0  # the recompute gave its slot back


def fake_train(self):
    self._set(L.RUNNING, "Training…")
    while not self._between_steps():
        time.sleep(0.01)
    self._set(*self._should_end())


def test_a_full_server_is_a_message_on_the_train_page(models_dir, server, monkeypatch):
    monkeypatch.setattr(L.LiveRun, "_train", fake_train)
    monkeypatch.setattr(server, "max_concurrent", 1)
    monkeypatch.setattr(server, "max_queued", 0)
    tiny = replace(L.LIVE_DEFAULTS, memory_rows=8, memory_width=4, controller_size=16)
    monkeypatch.setattr(L, "PRESETS", {"Tiny": tiny})
    other = server.start("someone-else", tiny)
    at = AppTest.from_file(str(PAGES / "train.py"), default_timeout=60).run()
    assert any("each browser may have 1 run" in c.value.lower() for c in at.caption)
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    assert any("server is busy" in e.value for e in at.error), [e.value for e in at.error]
    assert "live_run" not in at.session_state
    other.stop()
