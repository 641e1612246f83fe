"""Train an NTM (or the LSTM baseline) on a task: ``python -m ntm.train``.

    python -m ntm.train --task copy --output runs/copy.pt

The loop reads top to bottom: draw a batch from a seeded :class:`torch.Generator`, run the
model, take the mean binary cross-entropy over the scored output bits (Graves et al. 2014,
section 4: "cross-entropy objective function"), clip the gradient, step the optimiser. Every
``--eval-every`` sequences the model is scored on fresh held-out sequences spread over the whole
training range, the point is added to the learning curve, and the checkpoint is saved
atomically (``ntm.save_model``) with everything needed to ``--resume`` exactly: optimiser
state and both random generators. Training stops when the held-out bit errors per sequence fall
below ``--target-bit-errors`` (converged), when the budget (``--max-sequences`` /
``--max-seconds``) is spent, on Ctrl-C (saves, then exits), or on a NaN/inf loss (exits with a
message; the last good checkpoint is left untouched).

The default recipe keeps the paper's optimiser (RMSProp, momentum 0.9) but not its batch of 1:
a feed-forward controller (100 units), **batches of 8 at RMSProp 3e-4**, gradient-norm
clipping at 10, a constant memory initialisation (Collier & Beel 2018) and learned initial
weightings. The learning rate drops to 0.3x once the held-out errors fall below 1 bit per
sequence (``--lr-decay-below``), and a later cut (``--resume --lr-decay-below``) fine-tunes a
converged model. In ``benchmarks/bench_convergence.py`` this converged copy in every seed,
most in well under a minute; Adam 1e-3 (the previous default) needed two to five times longer
and left one seed in five at 1-3 bit errors per sequence, every one of them in a sequence
holding an all-zero input vector, which a feed-forward controller can take for the silent
answer phase. ``--controller lstm`` gives the paper's controller.

Two opt-in ingredients made the harder tasks learnable here (their model cards give the exact
commands):

* ``--curriculum STAGES`` trains on nested ranges of growing sizes (:meth:`Task.curriculum`),
  moving on once the held-out errors on the current range fall below
  ``--curriculum-threshold``; the shipped repeat-copy model needed it. Evaluation, the learning
  curve and the convergence test always use the whole training range.
* ``--gate-bias -2`` starts every head location-based (eq 7, ``g`` near 0). Without it the
  associative-recall write head learned to jump back, by content, to the row of the previous
  item delimiter, so every item was written over the last one (feed-forward runs sat at ~4
  bit errors per sequence in three seeds, an LSTM-controller run at 6); with it the write head
  walks along memory and the read head then learns its content lookup.

Both shipped models of those tasks were trained with Adam 1e-3, the default before RMSProp
3e-4; their cards list every setting of their runs.
"""

from __future__ import annotations

import argparse
import math
import shlex
import signal
import sys
import time
from pathlib import Path

import torch
from torch import nn

from .baseline import LSTMBaseline, LSTMBaselineConfig
from .checkpoint import read_checkpoint, save_model
from .evaluate import held_out_score
from .model import NTM, NTMConfig
from .tasks import TASKS, Batch, Task, bit_errors, make_task, masked_bce_loss

#: Exit codes of :func:`main`.
EXIT_OK, EXIT_NAN, EXIT_INTERRUPTED = 0, 1, 130


class NonFiniteLoss(RuntimeError):
    """The loss or the gradient became NaN or infinite."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ntm.train",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("task")
    g.add_argument("--task", choices=sorted(TASKS), default="copy")
    g.add_argument(
        "--min-length", type=int, help="shortest training sequence (copy 1, repeat copy 1)"
    )
    g.add_argument(
        "--max-length", type=int, help="longest training sequence (copy 20, repeat copy 10)"
    )
    g.add_argument("--min-repeats", type=int, help="repeat copy: fewest repeats (1)")
    g.add_argument("--max-repeats", type=int, help="repeat copy: most repeats (10)")
    g.add_argument("--min-items", type=int, help="associative recall: fewest items (2)")
    g.add_argument("--max-items", type=int, help="associative recall: most items (6)")
    g = p.add_argument_group("model")
    g.add_argument(
        "--model", choices=["ntm", "lstm"], default="ntm", help="an NTM or the LSTM baseline"
    )
    g.add_argument("--controller", choices=["lstm", "feedforward"], default="feedforward")
    g.add_argument("--controller-size", type=int, default=100)
    g.add_argument("--memory-rows", type=int, default=128, help="N")
    g.add_argument("--memory-width", type=int, default=20, help="M")
    g.add_argument("--read-heads", type=int, default=1)
    g.add_argument("--write-heads", type=int, default=1)
    g.add_argument("--shift-range", type=int, default=1, help="R: shifts -R..+R")
    g.add_argument("--memory-init", choices=["constant", "learned", "random"], default="constant")
    g.add_argument(
        "--gate-bias",
        type=float,
        default=0.0,
        help="initial bias of every head's interpolation gate g (eq 7); negative starts the "
        "heads location-based",
    )
    g.add_argument("--lstm-hidden", type=int, default=256, help="LSTM baseline: units per layer")
    g.add_argument("--lstm-layers", type=int, default=3, help="LSTM baseline: layers")
    g = p.add_argument_group("optimisation")
    g.add_argument("--batch-size", type=int, default=8)
    g.add_argument("--optimizer", choices=["adam", "rmsprop"], default="rmsprop")
    g.add_argument("--lr", type=float, default=3e-4)
    g.add_argument(
        "--lr-decay-below",
        type=float,
        default=None,
        metavar="BITS",
        help="once held-out bit errors per sequence (whole range) fall below BITS, multiply "
        "the learning rate by --lr-decay, once (0: off; default 1.0); given with --resume, "
        "it schedules one more decay",
    )
    g.add_argument("--lr-decay", type=float, default=0.3, help="factor for --lr-decay-below")
    g.add_argument("--momentum", type=float, default=0.9, help="RMSProp momentum")
    g.add_argument("--alpha", type=float, default=0.95, help="RMSProp smoothing constant")
    g.add_argument("--clip-grad-norm", type=float, default=10.0, help="max gradient norm (0: off)")
    g.add_argument(
        "--clip-grad-value",
        type=float,
        default=0.0,
        help="clip each gradient element to +-VALUE (0: off; the paper uses 10)",
    )
    g.add_argument("--seed", type=int, default=0)
    g.add_argument(
        "--curriculum",
        type=int,
        default=0,
        metavar="STAGES",
        help="train on growing sizes: STAGES nested ranges, shortest first (0: off; "
        "see Task.curriculum)",
    )
    g.add_argument(
        "--curriculum-threshold",
        type=float,
        default=1.0,
        help="move to the next curriculum stage once held-out bit errors per sequence on "
        "the current stage's range fall below this",
    )
    g = p.add_argument_group("budget and evaluation")
    g.add_argument("--max-sequences", type=int, default=200_000, help="training sequences in all")
    g.add_argument(
        "--max-seconds", type=float, default=0.0, help="wall-clock budget in all (0: none)"
    )
    g.add_argument(
        "--eval-every", type=int, help="sequences between evaluations (default 1000)"
    )
    g.add_argument(
        "--eval-sequences",
        type=int,
        help="held-out sequences per evaluation, spread over the training range (default 200)",
    )
    g.add_argument(
        "--target-bit-errors",
        type=float,
        help="stop once held-out bit errors per sequence fall below this (<= 0: never; "
        "default 0.1)",
    )
    g = p.add_argument_group("run")
    g.add_argument("--output", default="runs/model.pt", help="checkpoint path")
    g.add_argument(
        "--resume",
        action="store_true",
        help="continue the run saved at --output exactly (its settings; the budget, "
        "device and progress options given now apply, and --eval-every, --eval-sequences, "
        "--target-bit-errors and --lr-decay-below replace the saved ones when given)",
    )
    g.add_argument(
        "--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1 ..."
    )
    g.add_argument(
        "--keep-best",
        action="store_true",
        help="also save the checkpoint with the lowest held-out bit errors so far to "
        "OUTPUT with the suffix .best.pt",
    )
    g.add_argument(
        "--export",
        metavar="CHECKPOINT",
        help="instead of training: copy CHECKPOINT to --output without its resume state "
        "(optimiser, random generators): the small file that is shipped",
    )
    g.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    g.add_argument(
        "--no-progress", action="store_true", help="no progress bar; one line per evaluation"
    )
    return p


#: Options whose default is resolved late, so that ``--resume`` can tell whether they were
#: given: given, they replace the saved value (a change of schedule, stated in the command
#: recorded in the checkpoint); not given, the saved value stands. ``lr_decay_below`` is off
#: for runs saved before it existed.
LATE_DEFAULTS = {
    "eval_every": 1000,
    "eval_sequences": 200,
    "target_bit_errors": 0.1,
    "lr_decay_below": 1.0,
}

#: Options a resumed run takes from the new command line rather than from the checkpoint.
RESUME_OVERRIDES = (
    "max_sequences",
    "max_seconds",
    "device",
    "threads",
    "no_progress",
    "output",
    "resume",
    "keep_best",
)


def make_task_from_args(args: argparse.Namespace) -> Task:
    names = {
        "copy": ("min_length", "max_length"),
        "repeat-copy": ("min_length", "max_length", "min_repeats", "max_repeats"),
        "associative-recall": ("min_items", "max_items"),
    }[args.task]
    return make_task(
        args.task, **{n: getattr(args, n) for n in names if getattr(args, n) is not None}
    )


def make_model(args: argparse.Namespace, task: Task) -> nn.Module:
    if args.model == "lstm":
        return LSTMBaseline(
            LSTMBaselineConfig(
                input_size=task.input_size,
                output_size=task.output_size,
                hidden_size=args.lstm_hidden,
                layers=args.lstm_layers,
            )
        )
    return NTM(
        NTMConfig(
            input_size=task.input_size,
            output_size=task.output_size,
            memory_rows=args.memory_rows,
            memory_width=args.memory_width,
            controller=args.controller,
            controller_size=args.controller_size,
            read_heads=args.read_heads,
            write_heads=args.write_heads,
            shift_range=args.shift_range,
            memory_init=args.memory_init,
        )
    )


def make_optimizer(args: argparse.Namespace, model: nn.Module) -> torch.optim.Optimizer:
    if args.optimizer == "rmsprop":
        return torch.optim.RMSprop(
            model.parameters(), lr=args.lr, alpha=args.alpha, momentum=args.momentum
        )
    return torch.optim.Adam(model.parameters(), lr=args.lr)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def compute_loss(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward pass: the training loss and the bit errors per sequence of this batch."""
    logits = model(batch.inputs)
    return masked_bce_loss(logits, batch), bit_errors(logits.detach(), batch)


def train_step(args, model, optimizer, batch: Batch) -> tuple[float, float]:
    """One optimiser step. Raises :class:`NonFiniteLoss` before touching the weights if the
    loss or the gradient norm is NaN/inf."""
    loss, errors = compute_loss(model, batch)
    if not torch.isfinite(loss):
        raise NonFiniteLoss(f"the loss is {loss.item()}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if args.clip_grad_value > 0:
        nn.utils.clip_grad_value_(model.parameters(), args.clip_grad_value)
    norm = nn.utils.clip_grad_norm_(
        model.parameters(), args.clip_grad_norm if args.clip_grad_norm > 0 else math.inf
    )
    if not torch.isfinite(norm):
        raise NonFiniteLoss(f"the gradient norm is {norm.item()}")
    optimizer.step()
    return loss.item(), errors.mean().item()


class _Interrupt:
    """Turns the first Ctrl-C into a flag checked between steps (a second one aborts)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: leave signals alone
            self._previous = None
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _progress(total: int, initial: int, disable: bool):
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="seq",
        disable=disable,
        dynamic_ncols=True,
        mininterval=0.5 if sys.stderr.isatty() else 10.0,
        smoothing=0.05,
    )


def train(args: argparse.Namespace, command: str | None = None) -> dict:
    """Run (or resume) training as ``args`` says; returns a summary dict (``status`` is one of
    ``converged``, ``budget``, ``interrupted``, ``nan``)."""
    output = Path(args.output)
    state = None
    resume_args = args
    if args.resume:
        if not output.is_file():
            raise SystemExit(f"--resume: no checkpoint at {output}")
        payload = read_checkpoint(output)
        meta = payload["metadata"]
        state = meta.get("training_state")
        if state is None:
            raise SystemExit(f"--resume: {output} holds no training state (an exported model?)")
        saved = dict(meta["args"])
        saved.setdefault("lr_decay_below", 0.0)  # runs saved before the cut existed: off
        saved = {**vars(build_parser().parse_args([])), **saved}  # options added since: defaults
        for name in RESUME_OVERRIDES:
            saved[name] = getattr(args, name)
        for name in LATE_DEFAULTS:
            if getattr(args, name) is not None:
                saved[name] = getattr(args, name)
        if args.lr_decay_below is not None:
            saved["lr_decay"] = args.lr_decay
        args = argparse.Namespace(**saved)
    for name, default in LATE_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    task = make_task_from_args(args)
    torch.manual_seed(args.seed)  # parameter initialisation
    model = make_model(args, task)
    if args.gate_bias and isinstance(model, NTM):
        model.heads.set_gate_bias(args.gate_bias)
    optimizer = make_optimizer(args, model)
    train_gen = torch.Generator().manual_seed(args.seed)
    eval_gen = torch.Generator().manual_seed(args.seed + 7919)
    seen, steps, wall_before, curve = 0, 0, 0.0, []
    stages = task.curriculum(args.curriculum) if args.curriculum > 0 else []
    stage = 0  # index into stages
    decayed = False  # --lr-decay-below applied
    loss_ema = err_ema = None  # smoothed training loss and bit errors (progress bar, curve)
    command = command or "python -m ntm.train " + shlex.join(sys.argv[1:])
    commands = [command]
    if state is not None:
        model.load_state_dict(payload["state_dict"])
        model.to(device)
        optimizer.load_state_dict(state["optimizer"])
        train_gen.set_state(state["train_rng"])
        eval_gen.set_state(state["eval_rng"])
        loss_ema, err_ema = state.get("loss_ema"), state.get("err_ema")
        stage = state.get("stage", 0)
        # a threshold given with --resume schedules a new (further) decay
        decayed = state.get("lr_decayed", False) and resume_args.lr_decay_below is None
        seen, steps = meta["sequences_seen"], meta["steps"]
        wall_before, curve = meta["wall_time"], list(meta["curve"])
        commands = list(meta.get("commands", [meta.get("command", "")])) + [command]
    model.to(device)
    # Optimizer state follows its parameters' device after load_state_dict.
    model.train()

    start = time.perf_counter()

    def wall() -> float:
        return wall_before + time.perf_counter() - start

    def save(status: str, path: Path = output) -> None:
        save_model(
            model,
            path,
            task=task.name,
            task_params=task.params(),
            model_kind=args.model,
            sequences_seen=seen,
            steps=steps,
            wall_time=wall(),
            curve=curve,
            command=commands[0],
            commands=commands,
            seed=args.seed,
            args=vars(args),
            status=status,
            converged=status == "converged",
            training_state={
                "optimizer": optimizer.state_dict(),
                "train_rng": train_gen.get_state(),
                "eval_rng": eval_gen.get_state(),
                "loss_ema": loss_ema,
                "err_ema": err_ema,
                "stage": stage,
                "lr_decayed": decayed,
            },
        )

    def log(msg: str) -> None:
        if bar.disable:
            print(msg, flush=True)
        else:
            bar.write(msg)

    status = "budget"
    best_path = output.with_suffix(".best.pt")
    best = None
    if args.keep_best and best_path.is_file():
        best_curve = read_checkpoint(best_path)["metadata"].get("curve") or []
        if best_curve:
            best = (best_curve[-1]["bit_errors"], best_curve[-1]["cost"])
    next_eval = (seen // args.eval_every + 1) * args.eval_every
    bar = _progress(args.max_sequences, seen, args.no_progress)
    t_rate, seen_rate = time.perf_counter(), seen
    with _Interrupt() as interrupt, bar:
        while True:
            if interrupt.requested:
                save("interrupted")
                log(f"interrupted: saved {output} at {seen} sequences")
                status = "interrupted"
                break
            if seen >= args.max_sequences or (args.max_seconds > 0 and wall() >= args.max_seconds):
                save("budget")
                log(f"budget spent: {seen} sequences, {wall():.0f} s; saved {output}")
                break
            if stages:
                batch = task.sample_from(args.batch_size, train_gen, stages[stage])
            else:
                batch = task.sample(args.batch_size, train_gen)
            batch = batch.to(device)
            try:
                loss, errs = train_step(args, model, optimizer, batch)
            except NonFiniteLoss as exc:
                last = f"{curve[-1]['sequences']} sequences" if curve else "none saved yet"
                log(
                    f"stopping: {exc} at step {steps + 1} ({seen} sequences seen). "
                    f"The last good checkpoint ({output}: {last}) is left unchanged. "
                    "Try a lower --lr or a tighter --clip-grad-norm."
                )
                status = "nan"
                break
            steps += 1
            seen += args.batch_size
            loss_ema = loss if loss_ema is None else 0.98 * loss_ema + 0.02 * loss
            err_ema = errs if err_ema is None else 0.98 * err_ema + 0.02 * errs
            bar.update(args.batch_size)
            now = time.perf_counter()
            if now - t_rate > 2.0:
                rate = (seen - seen_rate) / (now - t_rate)
                t_rate, seen_rate = now, seen
                bar.set_postfix(
                    loss=f"{loss_ema:.4f}",
                    bits=f"{err_ema:.2f}",
                    seq_s=f"{rate:.0f}",
                    refresh=False,
                )
            if seen >= next_eval:
                next_eval += args.eval_every
                held_err, held_cost = held_out_score(
                    model, task, args.eval_sequences, eval_gen, device
                )
                point = {
                    "sequences": seen,
                    "steps": steps,
                    "wall_time": round(wall(), 3),
                    "cost": held_cost,
                    "bit_errors": held_err,
                    "train_loss": loss_ema,
                }
                note = ""
                if stages:
                    last_stage = stage == len(stages) - 1
                    stage_err = held_err
                    if not last_stage:  # the stage's own range decides when to move on
                        stage_err, _ = held_out_score(
                            model, task, args.eval_sequences, eval_gen, device, stages[stage]
                        )
                    point.update(stage=stage + 1, stage_bit_errors=stage_err)
                    note = f"  [stage {stage + 1}/{len(stages)}: {stage_err:.3f}]"
                    if not last_stage and stage_err < args.curriculum_threshold:
                        stage += 1
                        note += f" -> stage {stage + 1}: up to {stages[stage][-1]}"
                final_stage = not stages or stage == len(stages) - 1
                below = held_err < args.lr_decay_below
                if args.lr_decay_below > 0 and not decayed and final_stage and below:
                    decayed = True
                    for group in optimizer.param_groups:
                        group["lr"] *= args.lr_decay
                    note += f"  [lr -> {optimizer.param_groups[0]['lr']:.2g}]"
                point["lr"] = optimizer.param_groups[0]["lr"]
                curve.append(point)
                converged = (
                    args.target_bit_errors > 0
                    and held_err < args.target_bit_errors
                    and (not stages or stage == len(stages) - 1)
                )
                save("converged" if converged else "training")
                score = (held_err, held_cost)
                if args.keep_best and (best is None or score <= best):
                    best = score
                    save("best", best_path)
                log(
                    f"{seen:>8} seq {wall():7.1f} s  held-out: {held_err:8.3f} bit errors/seq "
                    f"{held_cost:9.3f} bits/seq  (train loss {loss_ema:.4f}){note}"
                )
                if converged:
                    status = "converged"
                    log(
                        f"converged: held-out bit errors {held_err:.3f} < {args.target_bit_errors} "
                        f"after {seen} sequences, {wall():.1f} s; saved {output}"
                    )
                    break
    return {
        "status": status,
        "sequences_seen": seen,
        "steps": steps,
        "wall_time": wall(),
        "curve": curve,
        "output": str(output),
    }


def export(source: str | Path, destination: str | Path) -> Path:
    """Copy a training checkpoint without its resume state: weights, config and metadata."""
    from .checkpoint import load_model

    model = load_model(source)
    model.metadata.pop("training_state", None)
    model.metadata["exported_from"] = str(source)
    return save_model(model, destination)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.export:
        print(f"exported {export(args.export, args.output)}")
        return EXIT_OK
    result = train(args, command="python -m ntm.train " + shlex.join(argv))
    return {"nan": EXIT_NAN, "interrupted": EXIT_INTERRUPTED}.get(result["status"], EXIT_OK)


if __name__ == "__main__":
    sys.exit(main())
