"""Live training for the Train-it-yourself page: a background worker per run, and a server-wide
manager that shares a few slots for heavy work fairly between clients.

A :class:`LiveRun` is a thread consuming :func:`ntm.training.loop.fit`, the loop of
``python -m ntm.train``, so the page stays responsive and a student can leave and come back.
Between two steps the thread pauses, resumes or stops; after every evaluation it saves the
checkpoint and a snapshot of the probe sequence for the page. A run belongs to one browser
session: nobody else can see, pause or stop it. Every run has a training-time budget and a
wall-clock cap, and stops by itself when its session ends (``alive()`` turns false), when it
converges, or on a NaN/inf loss, which keeps the last good checkpoint.

The :class:`RunManager` is the server's fairness policy:

* **Slots.** At most ``max_concurrent`` pieces of heavy work run at once: training runs and
  other jobs (the Generalisation page's Recompute, :meth:`RunManager.acquire_job`) share them.
  Runs wait for a slot in a first-come, first-served queue; a job never waits (it is refused
  while every slot is taken or promised to a queued run). Whenever a slot frees, the first
  runs of the queue that fit take it.
* **Pausing.** A paused run gives its slot back at once. Resuming puts it at the back of the
  queue; a run paused longer than ``max_paused`` seconds is stopped (its checkpoint is kept).
* **Admission.** At most ``max_concurrent + max_queued`` runs are unfinished (training, paused
  or queued) at once. Per client (:class:`Client`): at most ``max_per_browser`` unfinished runs
  and one job per browser, and at most ``max_per_address`` runs and jobs together per network
  address.
* **Housekeeping.** Each run keeps its files in its own private temporary directory (mode
  0700); :meth:`RunManager.prune` drops runs that have ended and whose session is gone (or
  that the same session replaced) and deletes their directories. Every access to the run
  table holds the manager's lock.

No Streamlit here; the page polls :meth:`LiveRun.snapshot` from a fragment.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from .config import TrainConfig
from .loop import BUDGET, CONVERGED, NAN, Evaluation, Finished, Rate, Step, fit, start
from .state import save_run


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


#: How many pieces of heavy work (training runs, recomputes) run at once on this server
#: (``NTM_MAX_TRAININGS`` overrides).
DEFAULT_MAX_CONCURRENT = _env_int("NTM_MAX_TRAININGS", 2)
#: How many more runs may be admitted (queued or paused) before new runs are refused.
DEFAULT_MAX_QUEUED = _env_int("NTM_MAX_QUEUED", 6)
#: Wall-clock cap of a run from the moment it first gets a slot, paused and re-queued time
#: included (seconds).
DEFAULT_MAX_LIFETIME = 900.0
#: A run paused longer than this (seconds) is stopped; its last checkpoint is kept.
DEFAULT_MAX_PAUSED = float(_env_int("NTM_MAX_PAUSED_SECONDS", 300))
#: Unfinished runs (training, paused or queued) one browser may have: all its tabs together.
DEFAULT_MAX_PER_BROWSER = _env_int("NTM_MAX_RUNS_PER_BROWSER", 1)
#: Runs and jobs together from one network address (0: no limit). Several students behind one
#: NAT share an address, so this is larger than the per-browser limit; raise it (or set 0)
#: when a whole class reaches the server through one address.
DEFAULT_MAX_PER_ADDRESS = _env_int("NTM_MAX_RUNS_PER_ADDRESS", 4)
#: Streamlit's XSRF cookie: set by the server on the first page load, sent by every tab of the
#: browser afterwards. Its secret token (not its per-load mask) identifies the browser.
XSRF_COOKIE = "_streamlit_xsrf"
#: Prefix of each run's private temporary directory (``tempfile.mkdtemp``, mode 0700).
RUN_DIR_PREFIX = "ntm-live-"
#: The seed of the probe sequence the page shows after every evaluation.
PROBE_SEED = 12345

#: The live page's starting point: a small copy NTM. Adam at 3e-3 trains these small models in
#: about a minute; the CLI's defaults (RMSProp 3e-4, N = 128) are tuned for the full task.
LIVE_DEFAULTS = TrainConfig(
    task_params={"min_length": 1, "max_length": 8}, memory_rows=32, memory_width=8,
    controller_size=64, optimizer="adam", lr=3e-3, lr_decay_below=0.0, device="cpu",
    max_seconds=180.0, max_sequences=0, eval_every=400, eval_sequences=64,
)

#: Presets shown on the page (all converge in about a minute or two on a laptop CPU).
PRESETS = {
    "Copy, small memory (about a minute)": LIVE_DEFAULTS,
    "Copy, LSTM controller (slower, a few minutes)": replace(LIVE_DEFAULTS, controller="lstm"),
    "Copy, longer sequences (1–12)": replace(
        LIVE_DEFAULTS, task_params={"min_length": 1, "max_length": 12}, memory_rows=48),
}

#: Statuses a run goes through.
QUEUED, RUNNING, PAUSED = "queued", "running", "paused"
STOPPED, FAILED, ABANDONED = "stopped", "failed", "abandoned"
FINISHED = (CONVERGED, BUDGET, STOPPED, FAILED, ABANDONED)
#: The message of a run ended from outside the loop.
ENDINGS = {STOPPED: "Stopped.", ABANDONED: "Stopped: the browser session ended.",
           BUDGET: "Stopped: this run reached the server's time limit."}


class Busy(RuntimeError):
    """The server (or this client's share of it) has no room for more work right now."""


# ----------------------------------------------------------------------------------- clients


@dataclass(frozen=True)
class Client:
    """Who asks for work, for the per-client limits (ownership and privacy are the session's).

    ``browser`` is a hash of the browser's Streamlit XSRF cookie token, the same in all its tabs
    (``"session:<token>"`` when there is no cookie: one per tab). ``address`` is the websocket's
    remote address, or ``None`` when it is loopback or unknown (local use, or a reverse proxy on
    the same host, where every student would look the same): then no address limit applies.
    Neither is proof of identity (cookies can be cleared, addresses shared or spoofed); together
    with the server-wide caps they keep one student from taking every slot by opening tabs.
    """

    browser: str
    address: str | None = None


def xsrf_token(cookie: object) -> bytes | None:
    """The secret bytes of a Streamlit XSRF cookie, or None if it is not one.

    Version 2 (``2|mask|masked token|timestamp``) gets a new random mask on every page load, so
    the raw value differs between tabs; the unmasked token does not. Version 1 is the hex token.
    """
    if not isinstance(cookie, str) or not 0 < len(cookie) <= 512:
        return None
    value = cookie.strip("\"'")
    try:
        if value.startswith("2|"):
            _, mask_hex, masked_hex, _timestamp = value.split("|")
            mask, masked = bytes.fromhex(mask_hex), bytes.fromhex(masked_hex)
            if len(mask) != 4:
                return None
            token = bytes(b ^ mask[i % 4] for i, b in enumerate(masked))
        else:
            token = bytes.fromhex(value)
    except ValueError:
        return None
    return token or None


def client_of(cookies: Mapping[str, str], address: str | None, session: str) -> Client:
    """The :class:`Client` of a browser session from its cookies and remote address.

    Only a hash of the cookie's token is kept (the token itself is a secret of the browser).
    """
    token = xsrf_token(cookies.get(XSRF_COOKIE)) if isinstance(cookies, Mapping) else None
    browser = ("browser:" + hashlib.sha256(token).hexdigest()[:32]) if token else f"session:{session}"
    if address in ("", "::1", "127.0.0.1", "::ffff:127.0.0.1"):
        address = None
    return Client(browser, address)


# -------------------------------------------------------------------------------------- runs


@dataclass
class Snapshot:
    """A consistent copy of a run's progress, safe to read from the page."""

    status: str
    message: str
    sequences: int
    steps: int
    train_seconds: float
    rate: float  #: sequences per second, recent
    curve: list[dict]
    probe: dict | None  #: targets, outputs, wrong, read/write weights (numpy) at the last eval
    queue_position: int | None
    checkpoint: Path | None  #: the last good checkpoint, if any
    pause_left: float | None = None  #: seconds before a paused run is stopped


@dataclass(eq=False)  # compared and hashed by identity (it sits in sets and queues)
class LiveRun:
    """One student's training run, in its own thread."""

    id: int
    owner: str
    config: TrainConfig
    alive: Callable[[], bool]
    manager: RunManager
    client: Client
    directory: Path  #: private (0700) temporary directory of this run's files
    status: str = QUEUED
    message: str = "Waiting for a free training slot…"
    sequences: int = 0
    steps: int = 0
    train_seconds: float = 0.0
    rate: float = 0.0
    curve: list[dict] = field(default_factory=list)
    probe: dict | None = None
    checkpoint: Path | None = None
    created: float = field(default_factory=time.monotonic)
    started: float | None = None  #: when it first got a slot (the lifetime counts from here)
    paused_at: float | None = None
    superseded: bool = False  #: its session started another run: prune it once it ended

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self._resume.set()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._main, name=f"ntm-live-{self.id}", daemon=True)

    # ---------------------------------------------------------------- controls (any thread)
    def pause(self) -> None:
        """Pause a running run between two steps; its slot goes to the next run in the queue
        (a queued run cannot be paused)."""
        with self._lock:
            if self.status == RUNNING:
                self._resume.clear()
                self.paused_at = time.monotonic()
                self.status, self.message = PAUSED, (
                    "Paused: your training slot is free for others meanwhile. Resume to continue "
                    "where it stopped (after a wait in the queue if every slot is busy).")

    def resume(self) -> None:
        """Resume a paused run: it queues for a slot again, at the back of the queue."""
        with self._lock:
            if self.status == PAUSED:
                self.paused_at = None
                self.status, self.message = QUEUED, "Resumed: waiting for a free training slot…"
            self._resume.set()

    def stop(self) -> None:
        self._stop.set()
        self._resume.set()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def ending(self) -> bool:
        """Finished, or asked to stop: it no longer counts against any limit."""
        return self.finished or self._stop.is_set()

    def snapshot(self) -> Snapshot:
        with self._lock:
            pause_left = (max(0.0, self.manager.max_paused - (time.monotonic() - self.paused_at))
                          if self.paused_at is not None and self.status == PAUSED else None)
            return Snapshot(self.status, self.message, self.sequences, self.steps,
                            self.train_seconds, self.rate, list(self.curve),
                            dict(self.probe) if self.probe else None,
                            self.manager.queue_position(self), self.checkpoint, pause_left)

    # ---------------------------------------------------------------- the worker
    def _set(self, status: str, message: str) -> None:
        with self._lock:
            self.status, self.message = status, message

    def _should_end(self) -> tuple[str, str] | None:
        """(status, message) if the run must end now, from outside the training loop."""
        if self._stop.is_set():
            return STOPPED, ENDINGS[STOPPED]
        if not self.alive():
            return ABANDONED, ENDINGS[ABANDONED]
        now = time.monotonic()
        if self.started is not None and now - self.started > self.manager.max_lifetime:
            return BUDGET, ENDINGS[BUDGET]
        paused_at = self.paused_at
        if paused_at is not None and now - paused_at > self.manager.max_paused:
            return STOPPED, (
                f"Stopped: it was paused for more than {duration_words(self.manager.max_paused)}, the "
                "most a run may stay paused. Its last checkpoint is kept.")
        return None

    def _main(self) -> None:
        try:
            ended = self.manager._acquire(self)
            if ended:
                status, message = ended
                self._set(status, "Stopped before it started." if status == STOPPED else message)
                return
            self.started = time.monotonic()
            try:
                self._train()
            finally:
                self.manager._release(self)
        except Exception as exc:  # report, never crash the server
            self._set(FAILED, f"Training failed: {type(exc).__name__}: {exc}")
        finally:
            self.manager._notify()

    def _train(self) -> None:
        run = start(self.config)
        point = run.task.training_points()[-1]  # the largest sizes: the hardest sequence
        probe = run.task.batch(1, torch.Generator().manual_seed(PROBE_SEED), **point)
        path = self.directory / "run.pt"
        rate = Rate(0, every=1.0)
        self._set(RUNNING, "Training…")
        for event in fit(self.config, run):
            if isinstance(event, Step):
                with self._lock:
                    self.steps, self.sequences, self.train_seconds = run.steps, run.sequences, run.seconds
                    if rate.update(run.sequences):
                        self.rate = rate.value
            elif isinstance(event, Evaluation):
                self._evaluated(event, probe, point, path)
            else:
                self._set(*self._ending(event))
                return
            ended = self._between_steps()
            if ended:
                self._set(*ended)
                return

    def _between_steps(self) -> tuple[str, str] | None:
        """Go on, or wait while paused (with the slot given back, then queued for one again);
        why the run must end now, if it must."""
        ended = self._should_end()
        if ended:
            return ended
        with self._lock:
            if self._resume.is_set():  # not paused (a pause undone before we saw it included)
                if self.status != RUNNING:
                    self.status, self.message = RUNNING, "Training…"
                return None
        self.manager._release(self)
        while not self._resume.wait(timeout=0.25):
            ended = self._should_end()
            if ended:
                return ended
        ended = self.manager._acquire(self)  # resumed (or stopped: that ends in the queue)
        if ended:
            return ended
        self._set(RUNNING, "Training…")
        return None

    def _evaluated(self, event: Evaluation, probe, point: dict, path: Path) -> None:
        run = event.run
        save_run(path, self.config, run, CONVERGED if event.converged else "training",
                 [self.config.command()], resumable=False, source="Train-it-yourself page")
        with torch.no_grad():
            trace = run.model.trace(probe.inputs.to(run.device))
        scored = (probe.mask[:, 0] > 0).numpy()
        logits, targets = trace.logits[:, 0], probe.targets[:, 0].numpy()
        with self._lock:
            self.curve = list(run.curve)
            self.train_seconds = run.seconds
            self.checkpoint = path
            self.probe = {
                "targets": targets, "outputs": trace.outputs[:, 0],
                "wrong": ((logits > 0) != targets) & scored[:, None], "scored": scored,
                "read_weights": trace.read.weights[:, 0, 0],
                "write_weights": trace.write.weights[:, 0, 0],
                "sequences": run.sequences, "point": point,
            }

    def _ending(self, event: Finished) -> tuple[str, str]:
        """The status and message of a run the loop finished."""
        run, cfg = event.run, self.config
        if event.status == CONVERGED:
            return CONVERGED, (f"Converged: {run.curve[-1]['bit_errors']:.3f} bit errors per "
                               f"sequence on held-out sequences after {run.sequences:,} "
                               f"sequences ({run.seconds:.0f} s of training).")
        if event.status == NAN:
            kept = (f"the last good model (after {self.curve[-1]['sequences']:,} sequences) "
                    "is kept") if self.curve else "no model was saved yet"
            return FAILED, f"Training stopped: {event.reason}; {kept}. Try a lower learning rate."
        if cfg.max_sequences and run.sequences >= cfg.max_sequences:
            return BUDGET, f"Finished its budget of {cfg.max_sequences:,} sequences."
        return BUDGET, (f"Finished its {cfg.max_seconds:.0f} s training budget without reaching "
                        f"{cfg.target_bit_errors} bit errors per sequence.")


def duration_words(seconds: float) -> str:
    """``300`` -> ``5 minutes``, ``90`` -> ``90 seconds``."""
    if seconds >= 120 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:g} seconds"


class Job:
    """A slot held by heavy work other than a run (e.g. a recompute); a context manager that
    gives the slot back on exit."""

    def __init__(self, manager: RunManager, client: Client, what: str) -> None:
        self.manager, self.client, self.what = manager, client, what

    def release(self) -> None:
        """Give the slot back (again is harmless)."""
        self.manager._release(self)

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class RunManager:
    """The server's heavy work: slots, the run queue and the per-client limits (see the module
    docstring)."""

    #: Every manager of this process (weakly), so a server or test can stop all runs at exit.
    instances: weakref.WeakSet[RunManager] = weakref.WeakSet()

    def __init__(self, max_concurrent: int = DEFAULT_MAX_CONCURRENT,
                 max_queued: int = DEFAULT_MAX_QUEUED,
                 max_lifetime: float = DEFAULT_MAX_LIFETIME,
                 max_paused: float = DEFAULT_MAX_PAUSED,
                 max_per_browser: int = DEFAULT_MAX_PER_BROWSER,
                 max_per_address: int = DEFAULT_MAX_PER_ADDRESS) -> None:
        RunManager.instances.add(self)
        self.max_concurrent, self.max_queued = max_concurrent, max_queued
        self.max_lifetime, self.max_paused = max_lifetime, max_paused
        self.max_per_browser, self.max_per_address = max_per_browser, max_per_address
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a slot freed or the queue changed
        self._holders: set[LiveRun | Job] = set()  # who holds a slot now
        self._queue: list[LiveRun] = []  # runs waiting for a slot, first come first served
        self._runs: dict[int, LiveRun] = {}
        self._ids = itertools.count(1)

    # ---------------------------------------------------------------- runs
    def start(self, owner: str, config: TrainConfig, alive: Callable[[], bool] = lambda: True,
              client: Client | None = None) -> LiveRun:
        """Start (or queue) a run for ``owner``; its previous unfinished run is stopped.

        ``client`` (default: one of its own, named after ``owner``) is who the per-client limits
        count. Raises :class:`Busy`, with a message for the student, when there is no room.
        """
        if config.model != "ntm":  # the page shows the NTM's weightings
            raise ValueError("live runs train NTMs (model='ntm')")
        client = client or Client(f"session:{owner}")
        self.prune()
        with self._lock:
            runs = list(self._runs.values())
        gone = {r.id for r in runs if not _alive(r)}  # (a reloaded tab's old run is ending)
        with self._lock:
            others = [r for r in self._runs.values()
                      if r.owner != owner and not r.ending and r.id not in gone]
            self._admit(client, others)
            for old in self._runs.values():
                if old.owner == owner:
                    old.superseded = True
                    old.stop()
            run = LiveRun(next(self._ids), owner, config, alive, self, client,
                          Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX)))
            self._runs[run.id] = run
            self._queue.append(run)
        try:
            run.thread.start()
        except RuntimeError as exc:  # "can't start new thread"
            with self._changed:
                self._runs.pop(run.id, None)
                self._queue.remove(run)
                self._changed.notify_all()
            shutil.rmtree(run.directory, ignore_errors=True)
            raise Busy(f"The server cannot start another run right now ({exc}).") from None
        return run

    def _admit(self, client: Client, others: list[LiveRun]) -> None:
        """Raise :class:`Busy` unless ``client`` may add a run (the lock is held)."""
        if len(others) >= self.max_concurrent + self.max_queued:
            training = sum(r in self._holders for r in others)
            raise Busy(f"The server is busy: {training} runs are training and "
                       f"{len(others) - training} are waiting or paused. Please try again in a "
                       "few minutes.")
        mine = sum(r.client.browser == client.browser for r in others)
        if mine >= self.max_per_browser:
            runs = "run" if self.max_per_browser == 1 else "runs"
            raise Busy("You already have a training run in another tab or window of this browser "
                       f"(one browser may have {self.max_per_browser} {runs} training, paused or "
                       "queued at a time). Stop it there, or wait until it finishes.")
        self._check_address(client, others)

    def _check_address(self, client: Client, runs: list[LiveRun]) -> None:
        if client.address is None or self.max_per_address <= 0:
            return
        jobs = [h for h in self._holders if isinstance(h, Job)]
        used = sum(x.client.address == client.address for x in [*runs, *jobs])
        if used >= self.max_per_address:
            raise Busy(f"{used} training runs and recomputes from your network address are already "
                       f"running or waiting, the most one address may have. Please wait until one "
                       "of them finishes.")

    def get(self, run_id: int | None, owner: str) -> LiveRun | None:
        """The run ``run_id`` if ``owner`` owns it (nobody sees another's run)."""
        with self._lock:
            run = self._runs.get(run_id) if run_id is not None else None
        return run if run is not None and run.owner == owner else None

    def _acquire(self, run: LiveRun) -> tuple[str, str] | None:
        """Queue ``run`` (at the back, if it is not queued yet) and wait until it takes a slot;
        (status, message) instead if it must end while it waits."""
        with self._changed:
            if run not in self._queue:
                self._queue.append(run)
        while True:
            ended = run._should_end()  # outside the lock: it calls the session's alive()
            with self._changed:
                if ended is None and self._may_take(run):
                    self._queue.remove(run)
                    self._holders.add(run)
                    return None
                if ended is not None:
                    if run in self._queue:
                        self._queue.remove(run)
                    self._changed.notify_all()
                    return ended
                self._changed.wait(timeout=0.25)

    def _may_take(self, run: LiveRun) -> bool:
        """Is ``run`` among the first queued runs that fit in the free slots? (lock held)"""
        free = self.max_concurrent - len(self._holders)
        return free > 0 and run in [r for r in self._queue if not r.ending][:free]

    def _release(self, holder: LiveRun | Job) -> None:
        """Give a slot back (no-op if ``holder`` has none); the queue moves at once."""
        with self._changed:
            if holder in self._holders:
                self._holders.discard(holder)
                self._changed.notify_all()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def queue_position(self, run: LiveRun) -> int | None:
        """1 for the next run to get a slot; None if ``run`` is not waiting."""
        with self._lock:
            waiting = [r for r in self._queue if not r.ending]
            return waiting.index(run) + 1 if run in waiting else None

    def training(self) -> int:
        """Runs holding a slot now (every page polls this, while runs come and go)."""
        with self._lock:
            return sum(isinstance(h, LiveRun) for h in self._holders)

    def slots_in_use(self) -> int:
        """Slots held now by runs and jobs together."""
        with self._lock:
            return len(self._holders)

    def waiting(self) -> int:
        """Runs queued for a slot now."""
        with self._lock:
            return sum(not r.ending for r in self._queue)

    # ---------------------------------------------------------------- other heavy work
    def acquire_job(self, client: Client, what: str = "recompute") -> Job:
        """A slot for ``what`` now, as a :class:`Job` (use it in a ``with`` block), or
        :class:`Busy` if every slot is taken or promised to a queued run, if this browser
        already runs a job, or if its address has its share. Jobs never wait."""
        with self._lock:
            if any(isinstance(h, Job) and h.client.browser == client.browser
                   for h in self._holders):
                raise Busy(f"You are already running a {what} in another tab or window of this "
                           "browser. Wait until it finishes.")
            self._check_address(client, [r for r in self._runs.values() if not r.ending])
            waiting = sum(not r.ending for r in self._queue)
            if self.max_concurrent - len(self._holders) - waiting <= 0:
                raise Busy(
                    f"The server is busy: all {self.max_concurrent} slots for heavy work "
                    f"(training runs and recomputes) are in use"
                    + (f" and {waiting} training runs are waiting" if waiting else "")
                    + f". Please try the {what} again in a minute.")
            job = Job(self, client, what)
            self._holders.add(job)
            return job

    # ---------------------------------------------------------------- housekeeping
    def prune(self) -> int:
        """Drop the runs that have ended (thread done) and whose session is gone or started
        another run, deleting their directories; how many were dropped."""
        with self._lock:
            runs = list(self._runs.values())
        gone = [r for r in runs
                if r.finished and not r.thread.is_alive() and (r.superseded or not _alive(r))]
        with self._changed:
            for run in gone:
                self._runs.pop(run.id, None)
                if run in self._queue:
                    self._queue.remove(run)
            self._changed.notify_all()
        for run in gone:
            shutil.rmtree(run.directory, ignore_errors=True)
        return len(gone)

    def forget(self, run: LiveRun) -> None:
        """Stop a run and drop it (and its directory and checkpoint)."""
        run.stop()
        run.thread.join(timeout=30)
        with self._lock:
            self._runs.pop(run.id, None)
        shutil.rmtree(run.directory, ignore_errors=True)

    def shutdown(self, timeout: float = 30) -> None:
        """Stop every run, wait for the threads, and delete the runs and their directories."""
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop()
        for run in runs:
            run.thread.join(timeout=timeout)
        with self._lock:
            for run in runs:
                if not run.thread.is_alive():
                    self._runs.pop(run.id, None)
        for run in runs:
            if not run.thread.is_alive():
                shutil.rmtree(run.directory, ignore_errors=True)


def _alive(run: LiveRun) -> bool:
    try:
        return bool(run.alive())
    except Exception:  # a broken check counts as a session that is gone
        return False


def shutdown_all(timeout: float = 30) -> None:
    """Stop every run of every manager in this process, wait for the threads and delete the
    runs' directories."""
    for manager in list(RunManager.instances):
        manager.shutdown(timeout)


# A server stopped normally (Ctrl-C, or SIGTERM, which Streamlit turns into a clean exit) leaves
# no run directories behind. A killed process does: they are private, and small.
atexit.register(shutdown_all, 5.0)


def probe_arrays(snapshot: Snapshot) -> tuple[np.ndarray, ...] | None:
    """(targets, outputs, wrong, scored steps) of the probe, or None before the first eval."""
    p = snapshot.probe
    if not p:
        return None
    return p["targets"], p["outputs"], p["wrong"], np.flatnonzero(p["scored"])
