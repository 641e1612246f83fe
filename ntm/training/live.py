"""Live training for the Train-it-yourself page: a background worker per run, and a server-wide
manager that caps how many train at once.

A :class:`LiveRun` is a thread consuming :func:`ntm.training.loop.fit`, the loop of
``python -m ntm.train``, so the page stays responsive and a student can leave and come back.
Between two steps the thread pauses, resumes or stops; after every evaluation it saves the
checkpoint and a snapshot of the probe sequence for the page. A run belongs to one browser
session: nobody else can see, pause or stop it. Every run has a training-time budget and a
wall-clock cap, and stops by itself when its session ends (``alive()`` turns false), when it
converges, or on a NaN/inf loss, which keeps the last good checkpoint.

No Streamlit here; the page polls :meth:`LiveRun.snapshot` from a fragment.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from .config import TrainConfig
from .loop import BUDGET, CONVERGED, NAN, Evaluation, Finished, Rate, Step, fit, start
from .state import save_run

#: How many runs may train at once on this server (``NTM_MAX_TRAININGS`` overrides).
DEFAULT_MAX_CONCURRENT = int(os.environ.get("NTM_MAX_TRAININGS", "2"))
#: How many may wait for a slot before new runs are refused.
DEFAULT_MAX_QUEUED = int(os.environ.get("NTM_MAX_QUEUED", "6"))
#: Wall-clock cap of a run from its start, paused time included (seconds).
DEFAULT_MAX_LIFETIME = 900.0
#: Where live checkpoints go (one file per run, removed when the run is forgotten).
LIVE_DIR = Path(tempfile.gettempdir()) / "ntm-explorer-live"
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
    """The server has no room for another run right now."""


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


@dataclass
class LiveRun:
    """One student's training run, in its own thread."""

    id: int
    owner: str
    config: TrainConfig
    alive: Callable[[], bool]
    manager: RunManager
    status: str = QUEUED
    message: str = "Waiting for a free training slot…"
    sequences: int = 0
    steps: int = 0
    train_seconds: float = 0.0
    rate: float = 0.0
    curve: list[dict] = field(default_factory=list)
    probe: dict | None = None
    checkpoint: Path | None = None
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self._resume.set()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._main, name=f"ntm-live-{self.id}", daemon=True)

    # ---------------------------------------------------------------- controls (any thread)
    def pause(self) -> None:
        """Pause a running run between two steps (a queued run cannot be paused)."""
        with self._lock:
            if self.status == RUNNING:
                self._resume.clear()
                self.status, self.message = PAUSED, "Paused. Resume to continue where it stopped."

    def resume(self) -> None:
        with self._lock:
            if self.status == PAUSED:
                self.status, self.message = RUNNING, "Training…"
            self._resume.set()

    def stop(self) -> None:
        self._stop.set()
        self._resume.set()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(self.status, self.message, self.sequences, self.steps,
                            self.train_seconds, self.rate, list(self.curve),
                            dict(self.probe) if self.probe else None,
                            self.manager.queue_position(self), self.checkpoint)

    # ---------------------------------------------------------------- the worker
    def _set(self, status: str, message: str) -> None:
        with self._lock:
            self.status, self.message = status, message

    def _should_end(self) -> str | None:
        if self._stop.is_set():
            return STOPPED
        if not self.alive():
            return ABANDONED
        if time.monotonic() - self.started > self.manager.max_lifetime:
            return BUDGET
        return None

    def _main(self) -> None:
        try:
            if not self.manager.acquire_slot(self):
                return
            try:
                self._train()
            finally:
                self.manager.release_slot()
        except Exception as exc:  # report, never crash the server
            self._set(FAILED, f"Training failed: {type(exc).__name__}: {exc}")

    def _train(self) -> None:
        run = start(self.config)
        point = run.task.training_points()[-1]  # the largest sizes: the hardest sequence
        probe = run.task.batch(1, torch.Generator().manual_seed(PROBE_SEED), **point)
        path = LIVE_DIR / f"run-{os.getpid()}-{self.id}.pt"
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
                self._set(ended, ENDINGS[ended])
                return

    def _between_steps(self) -> str | None:
        """Wait while paused; why the run must end now, if it must."""
        while True:
            ended = self._should_end()
            if ended or self._resume.is_set():
                return ended
            self._resume.wait(timeout=0.5)

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


class RunManager:
    """The server's training runs: at most ``max_concurrent`` train, ``max_queued`` wait."""

    #: Every manager of this process (weakly), so a server or test can stop all runs at exit.
    instances: weakref.WeakSet[RunManager] = weakref.WeakSet()

    def __init__(self, max_concurrent: int = DEFAULT_MAX_CONCURRENT,
                 max_queued: int = DEFAULT_MAX_QUEUED,
                 max_lifetime: float = DEFAULT_MAX_LIFETIME) -> None:
        RunManager.instances.add(self)
        self.max_concurrent, self.max_queued = max_concurrent, max_queued
        self.max_lifetime = max_lifetime
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(max_concurrent)
        self._queue: list[LiveRun] = []
        self._runs: dict[int, LiveRun] = {}
        self._ids = itertools.count(1)

    def start(self, owner: str, config: TrainConfig, alive: Callable[[], bool] = lambda: True
              ) -> LiveRun:
        """Start (or queue) a run for ``owner``; its previous unfinished run is stopped."""
        if config.model != "ntm":  # the page shows the NTM's weightings
            raise ValueError("live runs train NTMs (model='ntm')")
        with self._lock:
            for run in self._runs.values():
                if run.owner == owner and not run.finished:
                    run.stop()
            waiting = sum(1 for r in self._queue if not r.finished)
            if waiting >= self.max_queued:
                raise Busy(f"The server is busy: {self.max_concurrent} runs are training and "
                           f"{waiting} are waiting. Please try again in a few minutes.")
            run = LiveRun(next(self._ids), owner, config, alive, self)
            self._runs[run.id] = run
            self._queue.append(run)
        LIVE_DIR.mkdir(parents=True, exist_ok=True)
        run.thread.start()
        return run

    def get(self, run_id: int | None, owner: str) -> LiveRun | None:
        """The run ``run_id`` if ``owner`` owns it (nobody sees another's run)."""
        with self._lock:
            run = self._runs.get(run_id) if run_id is not None else None
        return run if run is not None and run.owner == owner else None

    def acquire_slot(self, run: LiveRun) -> bool:
        while True:
            if run._should_end():
                run._set(run._should_end(), "Stopped before it started.")
                self._leave_queue(run)
                return False
            if self._slots.acquire(timeout=0.25):
                self._leave_queue(run)
                return True

    def _leave_queue(self, run: LiveRun) -> None:
        with self._lock:
            if run in self._queue:
                self._queue.remove(run)

    def release_slot(self) -> None:
        self._slots.release()

    def queue_position(self, run: LiveRun) -> int | None:
        with self._lock:
            return self._queue.index(run) + 1 if run in self._queue else None

    def training(self) -> int:
        """Runs training or paused now (every page polls this, while runs come and go)."""
        with self._lock:
            return sum(1 for r in self._runs.values() if r.status in (RUNNING, PAUSED))

    def forget(self, run: LiveRun) -> None:
        """Stop a run and drop it (and its checkpoint file)."""
        run.stop()
        run.thread.join(timeout=30)
        with self._lock:
            self._runs.pop(run.id, None)
        if run.checkpoint is not None:
            run.checkpoint.unlink(missing_ok=True)

    def shutdown(self, timeout: float = 30) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop()
        for run in runs:
            run.thread.join(timeout=timeout)


def shutdown_all(timeout: float = 30) -> None:
    """Stop every run of every manager in this process and wait for the threads."""
    for manager in list(RunManager.instances):
        manager.shutdown(timeout)


def probe_arrays(snapshot: Snapshot) -> tuple[np.ndarray, ...] | None:
    """(targets, outputs, wrong, scored steps) of the probe, or None before the first eval."""
    p = snapshot.probe
    if not p:
        return None
    return p["targets"], p["outputs"], p["wrong"], np.flatnonzero(p["scored"])
