"""Fair training slots (ntm.training.live.RunManager): paused runs give their slot back, the queue
always moves, per-client limits, jobs sharing the slots, pruning, and a concurrency stress test.

The training itself is replaced by a cheap loop that goes through the real pause/resume/stop
code between its steps, so these tests exercise the manager, not PyTorch.
"""

import base64
import os
import random
import threading
import time
from dataclasses import replace

import pytest

from ntm.training import clients as C
from ntm.training import live as L
from ntm.training import manager as M

CONFIG = replace(L.LIVE_DEFAULTS, memory_rows=8, memory_width=4, controller_size=16)


def wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    raise AssertionError("timed out")


def fake_train(self):
    """Steps every 10 ms until stopped, through the real between-steps logic."""
    self._set(L.RUNNING, "Training…")
    while True:
        time.sleep(0.01)
        with self._lock:
            self.steps += 1
        ended = self._between_steps()
        if ended:
            self._set(*ended)
            return


@pytest.fixture(autouse=True)
def cheap_training(monkeypatch):
    monkeypatch.setattr(L.LiveRun, "_train", fake_train)


@pytest.fixture
def managers():
    made = []

    def make(**kwargs):
        made.append(M.RunManager(**kwargs))
        return made[-1]

    yield make
    for m in made:
        m.shutdown(timeout=10)


def browser(name, address=None):
    return C.Client(f"browser:{name}", address)


# ------------------------------------------------------------------ slots and the queue


def test_a_paused_run_gives_its_slot_back_and_queues_again_on_resume(managers):
    m = managers(max_concurrent=1, max_queued=2)
    a = m.start("a", CONFIG)
    wait(lambda: a.status == L.RUNNING)
    b = m.start("b", CONFIG)
    wait(lambda: b.snapshot().queue_position == 1)
    a.pause()
    wait(lambda: b.status == L.RUNNING)  # the queue moved at once
    assert a.status == L.PAUSED and m.training() == 1
    snap = a.snapshot()
    assert snap.queue_position is None and 0 < snap.pause_left <= m.max_paused
    steps = a.snapshot().steps
    time.sleep(0.2)
    assert a.snapshot().steps == steps
    a.resume()  # back of the queue: b keeps the slot
    wait(lambda: a.snapshot().queue_position == 1)
    assert a.status == L.QUEUED and b.status == L.RUNNING
    b.stop()
    wait(lambda: a.status == L.RUNNING)
    wait(lambda: a.snapshot().steps > steps + 3)  # it went on where it stopped
    assert b.status == L.STOPPED


def test_a_paused_run_is_stopped_after_the_pause_limit(managers):
    m = managers(max_concurrent=1, max_queued=1, max_paused=0.3)
    run = m.start("a", CONFIG)
    wait(lambda: run.status == L.RUNNING)
    run.pause()
    wait(lambda: run.finished)
    assert run.status == L.STOPPED and "paused for more than 0.3 seconds" in run.message
    assert m.slots_in_use() == 0


def test_the_queue_skips_runs_that_stopped_while_waiting(managers):
    m = managers(max_concurrent=1, max_queued=3)
    a = m.start("a", CONFIG)
    wait(lambda: a.status == L.RUNNING)
    b, c = m.start("b", CONFIG), m.start("c", CONFIG)
    wait(lambda: c.snapshot().queue_position == 2)
    b.stop()
    wait(lambda: c.snapshot().queue_position == 1)
    a.stop()
    wait(lambda: c.status == L.RUNNING)
    wait(lambda: b.finished)
    assert b.status == L.STOPPED and b.message == "Stopped before it started."


def test_a_pause_and_resume_before_the_worker_notices_keep_the_slot(managers):
    m = managers(max_concurrent=1, max_queued=1)
    run = m.start("a", CONFIG)
    wait(lambda: run.status == L.RUNNING)
    for _ in range(50):
        run.pause()
        run.resume()
    wait(lambda: run.status == L.RUNNING)
    assert m.training() == 1 and m.waiting() == 0


# ------------------------------------------------------------------ per-client limits


def test_one_run_per_browser_across_its_tabs(managers):
    m = managers(max_concurrent=2, max_queued=4)
    first = m.start("tab-1", CONFIG, client=browser("x"))
    with pytest.raises(C.Busy, match="another tab or window of this browser"):
        m.start("tab-2", CONFIG, client=browser("x"))
    assert m.start("tab-3", CONFIG, client=browser("y"))  # another browser is fine
    again = m.start("tab-1", CONFIG, client=browser("x"))  # the same tab replaces its run
    wait(lambda: first.finished)
    assert first.status == L.STOPPED and not again.finished
    again.stop()  # a stopped run no longer counts
    assert m.start("tab-2", CONFIG, client=browser("x"))


def test_a_paused_run_still_counts_for_its_browser(managers):
    m = managers(max_concurrent=2, max_queued=4)
    run = m.start("tab-1", CONFIG, client=browser("x"))
    wait(lambda: run.status == L.RUNNING)
    run.pause()
    with pytest.raises(C.Busy):
        m.start("tab-2", CONFIG, client=browser("x"))


def test_runs_per_address_have_a_larger_limit(managers):
    m = managers(max_concurrent=2, max_queued=6, max_per_address=3)
    for name in "abc":
        m.start(name, CONFIG, client=browser(name, "10.0.0.7"))
    with pytest.raises(C.Busy, match="network address"):
        m.start("d", CONFIG, client=browser("d", "10.0.0.7"))
    m.start("e", CONFIG, client=browser("e", "10.0.0.8"))
    m.start("f", CONFIG, client=browser("f", None))  # loopback / unknown: no address limit
    unlimited = managers(max_concurrent=2, max_queued=6, max_per_address=0)
    for name in "abcd":
        unlimited.start(name, CONFIG, client=browser(name, "10.0.0.7"))


def test_the_server_wide_admission_cap(managers):
    m = managers(max_concurrent=1, max_queued=1)
    m.start("a", CONFIG)
    m.start("b", CONFIG)
    with pytest.raises(C.Busy, match="busy"):
        m.start("c", CONFIG)


# ------------------------------------------------------------------ clients


def xsrf_cookie(token: bytes, mask: bytes) -> str:
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
    return f"2|{mask.hex()}|{masked.hex()}|1700000000"


def test_a_browser_is_its_xsrf_token_whatever_the_mask():
    token = os.urandom(16)
    one = C.client_of({C.XSRF_COOKIE: xsrf_cookie(token, b"\x01\x02\x03\x04")}, "10.0.0.5", "s1")
    two = C.client_of({C.XSRF_COOKIE: xsrf_cookie(token, b"\xff\x00\xaa\x55")}, "10.0.0.5", "s2")
    other = C.client_of({C.XSRF_COOKIE: xsrf_cookie(os.urandom(16), b"abcd")}, "10.0.0.5", "s3")
    assert one == two and one.browser.startswith("browser:") and one.address == "10.0.0.5"
    assert other.browser != one.browser
    assert token.hex() not in one.browser  # only a hash of the secret is kept
    assert C.client_of({C.XSRF_COOKIE: token.hex()}, None, "s").browser.startswith("browser:")


@pytest.mark.parametrize("cookie", [None, "", "2|zz|00|1", "2|0102|abcd|1", "2|01020304|", "x" * 600,
                                    base64.b64encode(b"junk").decode(), "2|01020304||1"])
def test_no_usable_cookie_means_one_client_per_session(cookie):
    cookies = {} if cookie is None else {C.XSRF_COOKIE: cookie}
    client = C.client_of(cookies, "127.0.0.1", "tok")
    assert client == C.Client("session:tok", None)


# ------------------------------------------------------------------ jobs share the slots


def test_jobs_take_slots_that_runs_then_wait_for(managers):
    m = managers(max_concurrent=1, max_queued=2)
    job = m.acquire_job(browser("x"))
    run = m.start("a", CONFIG)
    time.sleep(0.3)
    assert run.status == L.QUEUED and run.snapshot().queue_position == 1
    with pytest.raises(C.Busy, match="slots for heavy work"):
        m.acquire_job(browser("y"))
    with job:
        pass  # leaving the block gives the slot back
    wait(lambda: run.status == L.RUNNING)
    with pytest.raises(C.Busy, match="busy"):
        m.acquire_job(browser("y"))


def test_a_job_does_not_jump_the_queue(managers):
    m = managers(max_concurrent=2, max_queued=2)
    first = m.acquire_job(browser("x"))
    a = m.start("a", CONFIG)
    wait(lambda: a.status == L.RUNNING)
    b = m.start("b", CONFIG)
    wait(lambda: b.snapshot().queue_position == 1)
    first.release()
    with pytest.raises(C.Busy, match="busy"):
        m.acquire_job(browser("y"))  # the freed slot is b's, whether b took it yet or not
    wait(lambda: b.status == L.RUNNING)


def test_one_job_per_browser_and_jobs_count_for_the_address(managers):
    m = managers(max_concurrent=3, max_queued=2, max_per_address=2)
    job = m.acquire_job(browser("x", "10.0.0.9"))
    with pytest.raises(C.Busy, match="already running a recompute"):
        m.acquire_job(browser("x", "10.0.0.9"))
    m.start("a", CONFIG, client=browser("a", "10.0.0.9"))
    with pytest.raises(C.Busy, match="network address"):
        m.acquire_job(browser("y", "10.0.0.9"))
    job.release()
    job.release()  # twice is harmless
    m.acquire_job(browser("y", "10.0.0.9")).release()


# ------------------------------------------------------------------ pruning


def test_prune_drops_ended_runs_whose_session_is_gone(managers):
    m = managers(max_concurrent=2, max_queued=2)
    session = threading.Event()
    session.set()
    gone = m.start("a", CONFIG, alive=session.is_set)
    kept = m.start("b", CONFIG)
    wait(lambda: gone.status == L.RUNNING and kept.status == L.RUNNING)
    kept.stop()
    wait(lambda: kept.finished)
    kept.thread.join(5)
    session.clear()  # a's browser session ends: its run stops, then may be pruned
    wait(lambda: gone.finished)
    gone.thread.join(5)
    assert gone.status == L.ABANDONED and gone.directory.is_dir()
    assert m.prune() == 1
    assert not gone.directory.exists() and m.get(gone.id, "a") is None
    assert m.get(kept.id, "b") is kept and kept.directory.is_dir()  # its session is still here


def test_a_replaced_run_is_pruned_once_it_ended(managers):
    m = managers(max_concurrent=2, max_queued=2)
    old = m.start("a", CONFIG)
    new = m.start("a", CONFIG)
    wait(lambda: old.finished)
    old.thread.join(5)
    m.prune()
    assert m.get(old.id, "a") is None and not old.directory.exists()
    assert m.get(new.id, "a") is new


def test_shutdown_removes_every_run_directory(managers):
    m = managers(max_concurrent=1, max_queued=2)
    runs = [m.start(name, CONFIG) for name in "abc"]
    m.shutdown(timeout=10)
    assert all(r.finished and not r.directory.exists() for r in runs)
    assert all(m.get(r.id, r.owner) is None for r in runs)


# ------------------------------------------------------------------ the stress test


def test_many_threads_polling_and_churning_runs_raise_nothing(managers):
    """Students polling every page while others start, pause, resume, stop and reset runs and
    recompute: no exception anywhere, and never more slots in use than the cap."""
    m = managers(max_concurrent=2, max_queued=3, max_per_address=3, max_paused=0.5)
    errors, over_cap, polls = [], [], [0]
    deadline = time.monotonic() + 4.0
    directories = set()

    def guard(fn):
        def body(seed):
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                try:
                    fn(rng)
                except C.Busy:
                    pass
                except Exception as exc:  # noqa: BLE001 - the test collects every failure
                    errors.append(repr(exc))
                    return
        return body

    def poll(rng):
        m.training()
        m.waiting()
        in_use = m.slots_in_use()
        if in_use > m.max_concurrent:
            over_cap.append(in_use)
        for owner in "abcdefgh":
            run = m.get(rng.randrange(1, 200), owner)
            if run is not None:
                run.snapshot()
        polls[0] += 1

    def churn(rng):
        owner = rng.choice("abcdefgh")
        client = browser(owner, rng.choice([None, "10.0.0.1", "10.0.0.2"]))
        alive = rng.random() > 0.2
        run = m.start(owner, CONFIG, alive=lambda: alive, client=client)
        directories.add(run.directory)
        for _ in range(rng.randrange(1, 6)):
            time.sleep(rng.random() * 0.05)
            rng.choice([run.pause, run.resume, run.snapshot, run.stop, lambda: None])()
        if rng.random() < 0.3:
            run.stop()
            m.forget(run)
        m.prune()

    def recompute(rng):
        with m.acquire_job(browser(rng.choice("xyz"), rng.choice([None, "10.0.0.1"]))):
            time.sleep(rng.random() * 0.05)

    threads = ([threading.Thread(target=guard(poll), args=(i,)) for i in range(6)]
               + [threading.Thread(target=guard(churn), args=(10 + i,)) for i in range(4)]
               + [threading.Thread(target=guard(recompute), args=(20 + i,)) for i in range(2)])
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert errors == [] and over_cap == []
    assert polls[0] > 100 and len(directories) > 5
    m.shutdown(timeout=10)
    assert not [d for d in directories if d.exists()]
    assert m.slots_in_use() == 0 and m.waiting() == 0


def test_no_fixed_shared_folder_is_used():
    assert not hasattr(L, "LIVE_DIR")
