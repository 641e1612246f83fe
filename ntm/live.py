"""Live training for the Train-it-yourself page: a background worker per run, and a server-wide
manager that caps how many train at once.

The loop is :mod:`ntm.train`'s (same task generators, model builders, optimiser step and
held-out score), run in a thread instead of the script run, so the page stays responsive and a
student can leave and come back. A :class:`LiveRun` belongs to one browser session: nobody else
can see, pause or stop it. Every run has a training-time budget and a wall-clock cap, and stops
by itself when its session ends (``alive()`` turns false), when it converges, or on a NaN/inf
loss, which keeps the last good checkpoint.

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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import train as T
from .checkpoint import save_model
from .evaluate import held_out_score

#: How many runs may train at once on this server (``NTM_MAX_TRAININGS`` overrides).
DEFAULT_MAX_CONCURRENT = int(os.environ.get("NTM_MAX_TRAININGS", "2"))
#: How many may wait for a slot before new runs are refused.
DEFAULT_MAX_QUEUED = int(os.environ.get("NTM_MAX_QUEUED", "6"))
#: Where live checkpoints go (one file per run, removed when the run is forgotten).
LIVE_DIR = Path(tempfile.gettempdir()) / "ntm-explorer-live"


@dataclass(frozen=True)
class LiveConfig:
    """Everything a student can set. Field names follow ``python -m ntm.train``'s options."""

    task: str = "copy"
    min_length: int = 1
    max_length: int = 8
    memory_rows: int = 32
    memory_width: int = 8
    controller: str = "feedforward"
    controller_size: int = 64
    read_heads: int = 1
    write_heads: int = 1
    batch_size: int = 8
    optimizer: str = "adam"  #: Adam at 3e-3 trains these small presets in about a minute
    lr: float = 3e-3
    seed: int = 0
    device: str = "cpu"
    max_seconds: float = 180.0  #: training-time budget (paused time does not count)
    max_lifetime: float = 900.0  #: wall-clock cap from start, paused time included
    max_sequences: int = 0  #: training sequences budget (0: none, the time budget rules)
    eval_every: int = 400
    eval_sequences: int = 64
    target_bit_errors: float = 0.1

    def train_args(self):
        """The matching ``python -m ntm.train`` arguments (defaults for everything else)."""
        args = T.build_parser().parse_args([])
        for name, value in asdict(self).items():
            if hasattr(args, name):
                setattr(args, name, value)
        args.max_sequences = 10**9
        args.model = "ntm"
        return args

    def command(self) -> str:
        return (f"python -m ntm.train --task {self.task} --min-length {self.min_length} "
                f"--max-length {self.max_length} --memory-rows {self.memory_rows} "
                f"--memory-width {self.memory_width} --controller {self.controller} "
                f"--controller-size {self.controller_size} --batch-size {self.batch_size} "
                f"--optimizer {self.optimizer} --lr {self.lr:g} --seed {self.seed}")


#: Presets shown on the page (all converge in about a minute or two on a laptop CPU).
PRESETS = {
    "Copy, small memory (about a minute)": LiveConfig(),
    "Copy, LSTM controller (slower, a few minutes)": LiveConfig(controller="lstm",
                                                                controller_size=64),
    "Copy, longer sequences (1–12)": LiveConfig(max_length=12, memory_rows=48),
}

#: Statuses a run goes through.
QUEUED, RUNNING, PAUSED = "queued", "running", "paused"
CONVERGED, BUDGET, STOPPED, FAILED, ABANDONED = "converged", "budget", "stopped", "failed", "abandoned"
FINISHED = (CONVERGED, BUDGET, STOPPED, FAILED, ABANDONED)


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
    config: LiveConfig
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
        if time.monotonic() - self.started > self.config.max_lifetime:
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
        cfg = self.config
        args = cfg.train_args()
        device = T.pick_device(cfg.device)
        task = T.make_task_from_args(args)
        torch.manual_seed(cfg.seed)
        model = T.make_model(args, task).to(device)
        optimizer = T.make_optimizer(args, model)
        train_gen = torch.Generator().manual_seed(cfg.seed)
        eval_gen = torch.Generator().manual_seed(cfg.seed + 7919)
        probe = task.batch(1, torch.Generator().manual_seed(12345), length=cfg.max_length)
        path = LIVE_DIR / f"run-{os.getpid()}-{self.id}.pt"
        self._set(RUNNING, "Training…")
        next_eval, window = cfg.eval_every, (time.perf_counter(), 0)
        while True:
            ended = self._should_end()
            if ended:
                why = {STOPPED: "Stopped.", ABANDONED: "Stopped: the browser session ended.",
                       BUDGET: "Stopped: this run reached the server's time limit."}[ended]
                self._set(ended, why)
                return
            if not self._resume.is_set():
                self._resume.wait(timeout=0.5)
                continue
            t0 = time.perf_counter()
            model.train()
            batch = task.sample(cfg.batch_size, train_gen).to(device)
            try:
                T.train_step(args, model, optimizer, batch)
            except T.NonFiniteLoss as exc:
                kept = (f"the last good model (after {self.curve[-1]['sequences']:,} sequences) "
                        "is kept") if self.curve else "no model was saved yet"
                self._set(FAILED, f"Training stopped: {exc} at step {self.steps + 1}; {kept}. "
                                  "Try a lower learning rate.")
                return
            with self._lock:
                self.steps += 1
                self.sequences += cfg.batch_size
                self.train_seconds += time.perf_counter() - t0
                now = time.perf_counter()
                if now - window[0] > 1.0:
                    self.rate = (self.sequences - window[1]) / (now - window[0])
                    window = (now, self.sequences)
            if self.sequences >= next_eval:
                next_eval += cfg.eval_every
                done = self._evaluate(model, task, probe, eval_gen, device, path, args)
                if done:
                    return
            if cfg.max_sequences and self.sequences >= cfg.max_sequences:
                self._set(BUDGET, f"Finished its budget of {cfg.max_sequences:,} sequences.")
                return
            if self.train_seconds >= cfg.max_seconds:
                self._set(BUDGET, f"Finished its {cfg.max_seconds:.0f} s training budget without "
                                  f"reaching {cfg.target_bit_errors} bit errors per sequence.")
                return

    def _evaluate(self, model, task, probe, eval_gen, device, path, args) -> bool:
        err, cost = held_out_score(model, task, self.config.eval_sequences, eval_gen, device)
        with torch.no_grad():
            trace = model.trace(probe.inputs.to(device))
        scored = (probe.mask[:, 0] > 0).numpy()
        logits = trace.logits[:, 0]
        targets = probe.targets[:, 0].numpy()
        point = {"sequences": self.sequences, "steps": self.steps,
                 "wall_time": round(self.train_seconds, 3), "cost": cost, "bit_errors": err}
        converged = err < self.config.target_bit_errors
        save_model(model, path, task=task.name, task_params=task.params(), model_kind="ntm",
                   sequences_seen=self.sequences, steps=self.steps, wall_time=self.train_seconds,
                   curve=[*self.curve, point], command=self.config.command(),
                   seed=self.config.seed, status="converged" if converged else "training",
                   source="Train-it-yourself page")
        with self._lock:
            self.curve.append(point)
            self.checkpoint = path
            self.probe = {
                "targets": targets, "outputs": trace.outputs[:, 0],
                "wrong": ((logits > 0) != targets) & scored[:, None], "scored": scored,
                "read_weights": trace.read.weights[:, 0, 0], "write_weights": trace.write.weights[:, 0, 0],
                "sequences": self.sequences,
            }
            if converged:
                self.status = CONVERGED
                self.message = (f"Converged: {err:.3f} bit errors per sequence on held-out "
                                f"sequences after {self.sequences:,} sequences "
                                f"({self.train_seconds:.0f} s of training).")
        return converged


class RunManager:
    """The server's training runs: at most ``max_concurrent`` train, ``max_queued`` wait."""

    #: Every manager of this process (weakly), so a server or test can stop all runs at exit.
    instances: weakref.WeakSet[RunManager] = weakref.WeakSet()

    def __init__(self, max_concurrent: int = DEFAULT_MAX_CONCURRENT,
                 max_queued: int = DEFAULT_MAX_QUEUED) -> None:
        RunManager.instances.add(self)
        self.max_concurrent, self.max_queued = max_concurrent, max_queued
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(max_concurrent)
        self._queue: list[LiveRun] = []
        self._runs: dict[int, LiveRun] = {}
        self._ids = itertools.count(1)

    def start(self, owner: str, config: LiveConfig, alive: Callable[[], bool] = lambda: True
              ) -> LiveRun:
        """Start (or queue) a run for ``owner``; its previous unfinished run is stopped."""
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
        for run in list(self._runs.values()):
            run.stop()
        for run in list(self._runs.values()):
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
