"""Live training for the Train-it-yourself page: a background worker per run, and a server-wide
manager that shares a few slots for heavy work fairly between clients.

A :class:`LiveRun` is a thread consuming :func:`ntm.training.loop.fit`, the loop of
``python -m ntm.train``, so the page stays responsive and a student can leave and come back.
Between two steps the thread pauses, resumes or stops; after every evaluation it saves the
checkpoint and a snapshot of the probe sequence for the page. A run belongs to one browser
session: nobody else can see, pause or stop it. Every run has a training-time budget and a
wall-clock cap, and stops by itself when its session ends (``alive()`` turns false), when it
converges, or on a NaN/inf loss, which keeps the last good checkpoint.

The server-wide policy that admits and queues runs is :mod:`ntm.training.manager`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .clients import Client
from .config import TrainConfig
from .loop import BUDGET, CONVERGED, NAN, Evaluation, Finished, Rate, Step, fit, start
from .state import save_run

if TYPE_CHECKING:  # the manager creates runs; a run only calls back into it
    from ..stepper.episode import Episode
    from ..tasks import Batch, Task
    from .manager import RunManager



#: Prefix of each run's private temporary directory (``tempfile.mkdtemp``, mode 0700).
RUN_DIR_PREFIX = "ntm-live-"


#: The seed of the probe sequence the page shows after every evaluation.
PROBE_SEED = 12345


#: The live page's starting point: a small copy NTM. Adam at 3e-3 on batches of 8 trains these
#: small models in about 5 seconds on a 2-core laptop (`bench_convergence.py --live`: a median
#: of 3.3 s over seeds 0-4; 6 s of training in the page, seed 0); the CLI's defaults (RMSProp 5e-4,
#: batches of 16, N = 128) are tuned for the full task.
LIVE_DEFAULTS = TrainConfig(
    task_params={"min_length": 1, "max_length": 8}, memory_rows=32, memory_width=8,
    controller_size=64, batch_size=8, optimizer="adam", lr=3e-3, lr_decay_below=0.0, device="cpu",
    max_seconds=180.0, max_sequences=0, eval_every=400, eval_sequences=64,
)


#: Presets shown on the page (all converge within a minute or two on a laptop CPU).
PRESETS = {
    "Copy, small memory (about 10 seconds)": LIVE_DEFAULTS,
    "Copy, LSTM controller (slower, up to a few minutes)": replace(LIVE_DEFAULTS, controller="lstm"),
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
        point = run.task.training_points()[-1]
        probe = probe_batch(run.task)
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


def probe_batch(task: Task) -> Batch:
    """The probe sequence: the task's largest training sizes (the hardest sequence it trains
    on), drawn with :data:`PROBE_SEED`, so every evaluation and the end of a run show the same
    one."""
    point = task.training_points()[-1]
    return task.batch(1, torch.Generator().manual_seed(PROBE_SEED), **point)


def probe_episode(checkpoint: str | Path) -> Episode:
    """A run's checkpoint traced on its probe sequence, for the trace player: the student steps
    through their own model. Raises :class:`ntm.checkpoint.CheckpointError` on a bad file."""
    from ..catalogue import load_ntm
    from ..stepper.episode import run_episode
    from ..tasks import task_of

    model = load_ntm(checkpoint)
    task = task_of(model)
    return run_episode(model, task, probe_batch(task))


def duration_words(seconds: float) -> str:
    """``300`` -> ``5 minutes``, ``90`` -> ``90 seconds``."""
    if seconds >= 120 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:g} seconds"


def probe_arrays(snapshot: Snapshot) -> tuple[np.ndarray, ...] | None:
    """(targets, outputs, wrong, scored steps) of the probe, or None before the first eval."""
    p = snapshot.probe
    if not p:
        return None
    return p["targets"], p["outputs"], p["wrong"], np.flatnonzero(p["scored"])
