"""The server's heavy work: slots shared by training runs and other jobs, the run queue and
the per-client limits.

:class:`RunManager` is the fairness policy:


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

No Streamlit here.
"""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

from .clients import (
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_MAX_LIFETIME,
    DEFAULT_MAX_PAUSED,
    DEFAULT_MAX_PER_ADDRESS,
    DEFAULT_MAX_PER_BROWSER,
    DEFAULT_MAX_QUEUED,
    Busy,
    Client,
)
from .config import TrainConfig
from .live import RUN_DIR_PREFIX, LiveRun


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
