"""Saving a run and loading it back: the weights, the learning curve, the settings, and the
state that lets ``--resume`` continue exactly (optimiser moments, both random generators, the
curriculum stage, the smoothed training numbers).

A checkpoint of a run is an ordinary :func:`ntm.save_model` file whose metadata holds the
settings as ``args`` (:meth:`TrainConfig.to_dict`) and the resume state as ``training_state``.
"""

from __future__ import annotations

from pathlib import Path

from ..checkpoint import check_finite, save_model
from .config import TrainConfig, make_task
from .loop import CONVERGED, Run, start


def training_state(run: Run) -> dict:
    """What :func:`resume` needs beyond the weights and the metadata."""
    return {
        "optimizer": run.optimizer.state_dict(),
        "train_rng": run.train_gen.get_state(),
        "eval_rng": run.eval_gen.get_state(),
        "loss_ema": run.loss_ema,
        "err_ema": run.err_ema,
        "stage": run.stage,
        "lr_decayed": run.lr_decayed,
    }


def save_run(path: str | Path, config: TrainConfig, run: Run, status: str, commands: list[str],
             *, resumable: bool = True, **extra) -> Path:
    """Save the run's model atomically with its metadata (``extra`` adds fields).

    A model with NaN or infinite weights raises :class:`ntm.CheckpointError` and nothing is
    written: the file at ``path`` stays the last good checkpoint.
    """
    check_finite(run.model, path)
    metadata = {
        "task": run.task.name,
        "task_params": run.task.params(),
        "model_kind": config.model,
        "sequences_seen": run.sequences,
        "steps": run.steps,
        "wall_time": run.elapsed(),
        "curve": run.curve,
        "command": commands[0],
        "commands": commands,
        "seed": config.seed,
        "args": config.to_dict(),
        "status": status,
        "converged": status == CONVERGED,
        **extra,
    }
    if resumable:
        metadata["training_state"] = training_state(run)
    return save_model(run.model, path, **metadata)


def saved_config(metadata: dict) -> TrainConfig:
    """The settings a run was saved with; a ValueError names what is malformed."""
    args = metadata.get("args")
    if isinstance(args, dict) and "lr_decay_below" not in args:
        args = {**args, "lr_decay_below": 0.0}  # runs saved before the cut existed: off
    try:
        return TrainConfig.from_dict(args)
    except ValueError as exc:
        raise ValueError(f"its saved settings are malformed: {exc}") from None


def saved_commands(metadata: dict) -> list[str]:
    """The commands that made the run so far, oldest first."""
    commands = metadata.get("commands", [metadata.get("command", "")])
    if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
        raise ValueError("its saved commands are not a list of strings")
    return list(commands)


def first_line(exc: BaseException) -> str:
    """An exception in one line (torch's load_state_dict errors run over many)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def resume(config: TrainConfig, payload: dict) -> Run:
    """The run saved in ``payload`` (:func:`ntm.checkpoint.read_checkpoint`'s dict), ready to
    continue under ``config``. A ValueError says what is missing or malformed."""
    meta = payload["metadata"]
    state = meta.get("training_state")
    if not isinstance(state, dict):
        raise ValueError("it holds no training state (an exported model?)")
    counters = {k: meta.get(k) for k in ("sequences_seen", "steps", "wall_time", "curve")}
    kinds = {"sequences_seen": int, "steps": int, "wall_time": (int, float), "curve": list}
    for name, value in counters.items():
        if isinstance(value, bool) or not isinstance(value, kinds[name]):
            raise ValueError(f"its saved {name} is malformed: {value!r:.60}")
    stages = len(make_task(config).curriculum(config.curriculum)) if config.curriculum else 1
    stage = state.get("stage", 0)
    if isinstance(stage, bool) or not isinstance(stage, int) or not 0 <= stage < stages:
        raise ValueError(f"its saved curriculum stage is malformed: {stage!r:.60}")
    for name in ("loss_ema", "err_ema"):
        value = state.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"its saved {name} is malformed: {value!r:.60}")
    run = start(config)
    try:
        run.model.load_state_dict(payload["state_dict"])
        run.optimizer.load_state_dict(state["optimizer"])
        run.train_gen.set_state(state["train_rng"])
        run.eval_gen.set_state(state["eval_rng"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"its training state does not fit its settings: {first_line(exc)}") from None
    run.loss_ema, run.err_ema = state.get("loss_ema"), state.get("err_ema")
    run.stage, run.lr_decayed = stage, bool(state.get("lr_decayed", False))
    run.sequences, run.steps = counters["sequences_seen"], counters["steps"]
    run.seconds, run.curve = float(counters["wall_time"]), list(counters["curve"])
    return run
