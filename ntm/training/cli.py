"""Train an NTM (or the LSTM baseline) on a task: ``python -m ntm.train``.

    python -m ntm.train --task copy --output runs/copy.pt
    python -m ntm.train --output runs/copy.pt --resume --max-sequences 80000
    python -m ntm.train --export runs/copy.pt --output assets/models/copy.pt

The training options are :class:`~ntm.training.config.TrainConfig`'s fields and the task's
size parameters; the loop is :func:`~ntm.training.loop.fit` (its docstring tells the recipe).
This module adds the run's own options: it saves the checkpoint atomically at every
evaluation, with everything ``--resume`` needs to continue exactly, shows a progress bar, and
turns Ctrl-C or SIGTERM into a save marked "interrupted" before it exits. A NaN/inf loss or
weights stop the run with a message and leave the last good checkpoint untouched. Settings
that cannot train are refused with one line, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import torch

from ..checkpoint import CheckpointError, load_model, read_checkpoint, save_model
from ..tasks import TASKS
from .config import TrainConfig, choices_of, flag, for_device, task_fields
from .loop import BUDGET, CONVERGED, NAN, Evaluation, Finished, Rate, Run, Step, fit, start
from .state import first_line, resume, save_run, saved_commands, saved_config

#: Exit codes of :func:`main`.
EXIT_OK, EXIT_NAN, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
INTERRUPTED = "interrupted"

#: Settings a resumed run takes from the new command, or the defaults when not given: the
#: budget and the hardware belong to the new session, not to the saved run.
FROM_COMMAND_ON_RESUME = ("max_sequences", "max_seconds", "device", "engine", "cuda_graph")
#: Settings that replace the saved ones only when given: a change of schedule, recorded in the
#: checkpoint's list of commands. Every other setting given with --resume is ignored (with a
#: note), because the weights and the optimiser state were made with the saved one.
CHANGEABLE_ON_RESUME = ("eval_every", "eval_sequences", "target_bit_errors", "lr_decay_below")


@dataclass(frozen=True)
class Options:
    """The run's own options, beside the TrainConfig: where to save and how to show it."""

    output: Path
    resume: bool
    force: bool
    keep_best: bool
    export: str | None
    init_from: Path | None
    threads: int
    no_progress: bool


def build_parser() -> argparse.ArgumentParser:
    """The CLI: one option per TrainConfig field and per task parameter, then the run's own."""
    p = argparse.ArgumentParser(prog="python -m ntm.train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    groups: dict[str, argparse._ArgumentGroup] = {}
    hints = typing.get_type_hints(TrainConfig)
    for f in fields(TrainConfig):
        if f.name == "task_params":
            _add_task_params(groups.setdefault("task", p.add_argument_group("task")))
            continue
        group = groups.setdefault(f.metadata["group"], p.add_argument_group(f.metadata["group"]))
        # Not given means "not given", not "the default", so that --resume can tell.
        group.add_argument(flag(f.name), type=hints[f.name], choices=choices_of(f),
                           default=argparse.SUPPRESS, metavar=f.metadata["metavar"],
                           help=f"{f.metadata['help']} (default: {f.default})")
    _add_run_options(groups.setdefault("run", p.add_argument_group("run")))
    return p


def _add_task_params(group) -> None:
    """One option per parameter of any registered task; a task ignores the others'."""
    owners: dict[str, list[tuple[str, object]]] = {}
    for name in sorted(TASKS):
        for param, f in task_fields(name).items():
            owners.setdefault(param, []).append((name, f.default))
    settings = {f.name for f in fields(TrainConfig)}
    for param, tasks in owners.items():
        if param in settings:
            raise RuntimeError(f"task parameter {param!r} has the name of a training setting")
        kind = typing.get_type_hints(TASKS[tasks[0][0]])[param]
        defaults = ", ".join(f"{task} {default}" for task, default in tasks)
        group.add_argument(flag(param), type=kind, default=argparse.SUPPRESS,
                           help=f"{param.replace('_', ' ')} (defaults: {defaults})")


def _add_run_options(group) -> None:
    group.add_argument("--output", type=Path, default=Path("runs/model.pt"),
                       help="checkpoint path")
    group.add_argument(
        "--resume", action="store_true",
        help="continue the run saved at --output exactly (its settings; the budget, device and "
        "progress options given now apply, and --eval-every, --eval-sequences, "
        "--target-bit-errors and --lr-decay-below replace the saved ones when given)")
    group.add_argument("--force", action="store_true",
                       help="let a new run overwrite an existing --output (another run's "
                       "checkpoint, or any file) and its .best.pt")
    group.add_argument("--keep-best", action="store_true",
                       help="also save the checkpoint with the lowest held-out bit errors so far "
                       "to OUTPUT with the suffix .best.pt")
    group.add_argument("--export", metavar="CHECKPOINT",
                       help="instead of training: copy CHECKPOINT to --output without its resume "
                       "state (optimiser, random generators): the small file that is shipped")
    group.add_argument("--init-from", type=Path, metavar="CHECKPOINT",
                       help="start a new run from CHECKPOINT's weights (a model of the same "
                       "shape, e.g. a shipped one) instead of seeded random ones: fine-tuning; "
                       "the optimiser starts fresh")
    group.add_argument("--threads", type=int, default=0,
                       help="torch CPU threads (0: torch's default)")
    group.add_argument("--no-progress", action="store_true",
                       help="no progress bar; one line per evaluation")


# ------------------------------------------------------------------------ from argv to a run


def parse(argv: list[str]) -> tuple[dict, dict, Options]:
    """(settings given, task parameters given, run options) of a command line."""
    given = vars(build_parser().parse_args(argv))
    options = Options(**{f.name: given.pop(f.name) for f in fields(Options)})
    names = {f.name for f in fields(TrainConfig)}
    settings = {k: v for k, v in given.items() if k in names}
    return settings, {k: v for k, v in given.items() if k not in names}, options


def config_from(settings: dict, task_params: dict) -> TrainConfig:
    """A new run's config; size options of other tasks are ignored (``--min-items`` for copy).
    On a CUDA machine, ``--device auto`` without a batch size or learning rate takes
    :data:`~ntm.training.config.GPU_RECIPE`."""
    known = task_fields(settings.get("task", TrainConfig.task))
    return TrainConfig(**for_device(settings),
                       task_params={k: v for k, v in task_params.items() if k in known})


def parse_config(argv: list[str]) -> TrainConfig:
    """The TrainConfig of a new run's command line (``argv`` without ``python -m ntm.train``)."""
    settings, task_params, _ = parse(argv)
    return config_from(settings, task_params)


def resumed_config(saved: TrainConfig, given: dict) -> tuple[TrainConfig, list[str]]:
    """The saved config with what this command may change; also the names it ignored."""
    default = TrainConfig()
    changes = {name: given.get(name, getattr(default, name)) for name in FROM_COMMAND_ON_RESUME}
    changes.update({name: given[name] for name in CHANGEABLE_ON_RESUME if name in given})
    if "lr_decay_below" in given:  # one more cut, by the factor given now
        changes["lr_decay"] = given.get("lr_decay", default.lr_decay)
    return replace(saved, **changes), [name for name in given if name not in changes]


def best_path(output: Path) -> Path:
    return output.with_suffix(".best.pt")


def check_output(path: Path, force: bool, keep_best: bool) -> None:
    """A new run never overwrites a file it did not write, unless ``--force`` says so."""
    if path.is_dir():
        raise ValueError(f"--output {path} is a directory")
    for target in [path, best_path(path)] if keep_best else [path]:
        if force or not target.exists():
            continue
        try:
            seen = read_checkpoint(target)["metadata"].get("sequences_seen", "?")
        except CheckpointError:
            raise ValueError(f"{target} exists and is not a checkpoint; choose another --output, "
                             "or pass --force to overwrite it") from None
        raise ValueError(f"{target} holds another run's checkpoint ({seen} sequences seen); "
                         "continue it with --resume, or pass --force to start over")


@dataclass
class Job:
    """A run ready to train, with what the CLI keeps beside it."""

    config: TrainConfig
    options: Options
    run: Run
    commands: list[str]
    saved_at: int | None = None  #: sequences of the last checkpoint written to --output
    best: tuple[float, float] | None = None  #: (bit errors, cost) of the .best.pt file
    extra: dict = field(default_factory=dict)  #: more metadata to save (``init_from``)


def prepare(settings: dict, task_params: dict, options: Options, command: str) -> Job:
    """Build (or restore) the run; a ValueError says in one line why it cannot start."""
    if options.threads > 0:
        torch.set_num_threads(options.threads)
    if options.resume and options.init_from is not None:
        raise ValueError("--init-from starts a new run; --resume continues a saved one: "
                         "give one of them")
    if not options.resume:
        config = config_from(settings, task_params)
        check_output(options.output, options.force, options.keep_best)
        run = start(config)
        if options.init_from is None:
            return Job(config, options, run, [command])
        origin = load_weights(run, options.init_from)
        return Job(config, options, run, [*origin.pop("commands"), command],
                   extra={"init_from": origin})
    path = options.output
    if not path.is_file():
        raise ValueError(f"--resume: no checkpoint at {path}")
    payload = read_checkpoint(path)
    try:
        saved, commands = saved_config(payload["metadata"]), saved_commands(payload["metadata"])
    except ValueError as exc:
        raise ValueError(f"--resume: {path}: {exc}") from None
    config, ignored = resumed_config(saved, {**settings, **task_params})
    if ignored:
        print("note: ignored with --resume (the saved settings stand): "
              + ", ".join(flag(name) for name in ignored), file=sys.stderr)
    try:
        run = resume(config, payload)
    except ValueError as exc:
        raise ValueError(f"--resume: {path}: {exc}") from None
    if "lr_decay_below" in settings:  # a threshold given now schedules a new (further) cut
        run.lr_decayed = False
    job = Job(config, options, run, [*commands, command], saved_at=run.sequences)
    if isinstance(payload["metadata"].get("init_from"), dict):
        job.extra["init_from"] = payload["metadata"]["init_from"]
    if options.keep_best and best_path(path).is_file():
        job.best = _best_score(best_path(path))
    return job


def load_weights(run: Run, path: Path) -> dict:
    """Replace the new run's weights with those of the model checkpoint at ``path``; a
    ValueError says why they do not fit (another task, model kind or size). Returns where they
    came from: the file, its training so far and the commands that made it."""
    payload = read_checkpoint(path)
    meta = payload["metadata"]
    if meta.get("task") != run.task.name:
        raise ValueError(f"--init-from: {path} was trained on {meta.get('task')!r}, "
                         f"not {run.task.name!r}")
    try:
        run.model.load_state_dict(payload["state_dict"])
    except (KeyError, RuntimeError) as exc:
        raise ValueError(f"--init-from: {path} does not fit this model's settings (give the "
                         f"same model options it was trained with): {first_line(exc)}") from None
    try:
        commands = saved_commands(meta)
    except ValueError:
        commands = []
    return {"path": str(path), "sequences_seen": meta.get("sequences_seen"),
            "wall_time": meta.get("wall_time"), "commands": commands}


def _best_score(path: Path) -> tuple[float, float] | None:
    """(bit errors, cost) of the last point of a .best.pt file, the score a new best must beat."""
    curve = read_checkpoint(path)["metadata"].get("curve")
    try:
        return (curve[-1]["bit_errors"], curve[-1]["cost"])
    except (IndexError, KeyError, TypeError):  # no point yet, or not a curve: any score is best
        return None


# ------------------------------------------------------------------------------ the run


def run_job(job: Job) -> dict:
    """Train to the end (or to Ctrl-C / SIGTERM), saving as it goes; returns a summary whose
    ``status`` is ``converged``, ``budget``, ``interrupted`` or ``nan``."""
    config, run = job.config, job.run
    bar = _progress(config.max_sequences or None, run.sequences, job.options.no_progress)
    rate = Rate(run.sequences, every=2.0)

    def log(message: str) -> None:
        if bar.disable:
            print(message, flush=True)
        else:
            bar.write(message)

    status = BUDGET
    with _Signals() as signals, bar:
        for event in fit(config, run):
            if isinstance(event, Step):
                bar.update(config.batch_size)
                if rate.update(run.sequences):
                    bar.set_postfix(loss=f"{run.loss_ema:.4f}", bits=f"{run.err_ema:.2f}",
                                    seq_s=f"{rate.value:.0f}", refresh=False)
            elif isinstance(event, Evaluation):
                _evaluated(job, event, log)
            else:
                status = _finished(job, event, log)
                break
            if signals.requested:
                saved = _save(job, INTERRUPTED, log)
                log(f"interrupted: saved {job.options.output} at {run.sequences} sequences"
                    if saved else "interrupted")
                status = INTERRUPTED
                break
    return {"status": status, "sequences_seen": run.sequences, "steps": run.steps,
            "wall_time": run.elapsed(), "curve": run.curve, "output": str(job.options.output)}


def _evaluated(job: Job, event: Evaluation, log) -> None:
    run, point = event.run, event.point
    _save(job, CONVERGED if event.converged else "training", log)
    score = (point["bit_errors"], point["cost"])
    if job.options.keep_best and (job.best is None or score <= job.best):
        job.best = score
        _save(job, "best", log, best_path(job.options.output))
    note = ""
    if event.stages:
        note = f"  [stage {point['stage']}/{event.stages}: {point['stage_bit_errors']:.3f}]"
        if event.next_stage is not None:
            note += f" -> stage {run.stage + 1}: up to {event.next_stage}"
    if event.lr_cut:
        note += f"  [lr -> {run.lr:.2g}]"
    log(f"{run.sequences:>8} seq {run.elapsed():7.1f} s  held-out: {point['bit_errors']:8.3f} "
        f"bit errors/seq {point['cost']:9.3f} bits/seq  (train loss {run.loss_ema:.4f}){note}")


def _finished(job: Job, event: Finished, log) -> str:
    run, output = event.run, job.options.output
    if event.status == NAN:
        log(f"stopping: {event.reason} ({run.sequences} sequences seen). {_last_good(job)} "
            "Try a lower --lr or a tighter --clip-grad-norm.")
        return NAN
    if event.status == BUDGET:
        if not _save(job, BUDGET, log):
            return NAN
        log(f"budget spent: {run.sequences} sequences, {run.elapsed():.0f} s; saved {output}")
        return BUDGET
    log(f"converged: held-out bit errors {run.curve[-1]['bit_errors']:.3f} < "
        f"{job.config.target_bit_errors} after {run.sequences} sequences, "
        f"{run.elapsed():.1f} s; saved {output}")
    return CONVERGED


def _save(job: Job, status: str, log, path: Path | None = None) -> bool:
    """Save the run; false (with a message) when its weights are not finite."""
    path = path or job.options.output
    try:
        save_run(path, job.config, job.run, status, job.commands, **job.extra)
    except CheckpointError as exc:
        log(f"not saved: {exc}. {_last_good(job)}")
        return False
    if path == job.options.output:
        job.saved_at = job.run.sequences
    return True


def _last_good(job: Job) -> str:
    if job.saved_at is None:
        return "No checkpoint was saved."
    return (f"The last good checkpoint ({job.options.output}: {job.saved_at} sequences) "
            "is left unchanged.")


class _Signals:
    """Turns the first Ctrl-C or SIGTERM into a flag checked between steps, so the run is saved
    whole before it exits; a second one aborts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict = {}

    def __enter__(self) -> _Signals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> bool:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        return False


def _progress(total: int | None, initial: int, disable: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="seq", disable=disable, dynamic_ncols=True,
                mininterval=0.5 if sys.stderr.isatty() else 10.0, smoothing=0.05)


# ------------------------------------------------------------------------------ entry points


def export(source: str | Path, destination: Path, force: bool = False) -> Path:
    """Copy a training checkpoint without its resume state: weights, config and metadata."""
    if destination.exists() and not force:
        try:
            read_checkpoint(destination)
        except CheckpointError:
            raise ValueError(f"{destination} exists and is not a checkpoint; pass --force to "
                             "overwrite it") from None
    model = load_model(source)
    model.metadata.pop("training_state", None)
    model.metadata["exported_from"] = str(source)
    return save_model(model, destination)


def train(argv: list[str], command: str | None = None) -> dict:
    """Parse ``argv`` (``python -m ntm.train``'s options), train, return the summary.

    A ValueError says why the settings cannot train. ``command`` is recorded in the
    checkpoint (default: the command line itself).
    """
    settings, task_params, options = parse(argv)
    command = command or "python -m ntm.train " + shlex.join(argv)
    return run_job(prepare(settings, task_params, options, command))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    settings, task_params, options = parse(argv)
    try:
        if options.export:
            print(f"exported {export(options.export, options.output, options.force)}")
            return EXIT_OK
        job = prepare(settings, task_params, options, "python -m ntm.train " + shlex.join(argv))
    except ValueError as exc:  # CheckpointError too
        print(f"python -m ntm.train: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    status = run_job(job)["status"]
    return {NAN: EXIT_NAN, INTERRUPTED: EXIT_INTERRUPTED}.get(status, EXIT_OK)
