"""The training loop: one :func:`fit` for ``python -m ntm.train``, the live page and the
convergence benchmark.

    run = start(config)                    # task, model, optimiser, seeded generators
    for event in fit(config, run):         # Step, Step, ..., Evaluation, Step, ..., Finished
        ...                                # save, print, pause or stop here

The loop reads top to bottom: draw a batch from a seeded :class:`torch.Generator`, run the
model, take the mean binary cross-entropy over the scored output bits (Graves et al. 2014,
section 4: "cross-entropy objective function"), clip the gradient, step the optimiser. Every
``eval_every`` sequences the model is scored on fresh held-out sequences spread over the whole
training range and the point is added to the learning curve. The run finishes when the held-out
bit errors per sequence fall below ``target_bit_errors`` (converged), when the budget
(``max_sequences`` / ``max_seconds``) is spent, or when the loss, the gradient or the weights
stop being finite. Saving, progress and stopping early are the caller's: between two events
the loop waits, and its clock (:meth:`Run.elapsed`) stands still.

The NTM trains on the fused engine (``engine="fused"``, the default: on a CPU the whole run as
one autograd Function, :mod:`ntm.sequence`; elsewhere :mod:`ntm.fused` per step), on the fused
step alone (``"fused-step"``) or on the readable reference (``engine="reference"``); they agree
to float rounding. On CUDA, with the
fused engine, each step's forward and backward are replayed from a captured CUDA graph
(:mod:`ntm.cuda_graphs`, ``cuda_graph=1``), and ``--device auto`` picks the GPU's batch size
and learning rate (:data:`~ntm.training.config.GPU_RECIPE`) when neither is given.

The default recipe keeps the paper's optimiser (RMSProp, momentum 0.9) but not its batch of 1:
a feed-forward controller (100 units), **batches of 16 at RMSProp 5e-4**, gradient-norm
clipping at 10, a constant memory initialisation (Collier & Beel 2018) and learned initial
weightings. The learning rate drops to 0.3x once the held-out errors fall below 1 bit per
sequence (``lr_decay_below``), and a later cut (``--resume --lr-decay-below``) fine-tunes a
converged model. In ``benchmarks/bench_convergence.py`` this converged copy in every seed,
most in well under a minute; batches of 8 at 3e-4 (the default until the C loops made larger
batches cheap) stalled one seed in five; Adam 1e-3 (the default before that) needed two to five
times longer and left one seed in five at 1-3 bit errors per sequence, every one of them in a
sequence holding an all-zero input vector, which a feed-forward controller can take for the
silent answer phase. ``controller="lstm"`` gives the paper's controller.

Two opt-in ingredients made the harder tasks learnable here (their model cards give the exact
commands):

* ``curriculum`` trains on nested ranges of growing sizes (:meth:`Task.curriculum`), moving on
  once the held-out errors on the current range fall below ``curriculum_threshold``; the
  shipped repeat-copy model needed it. Evaluation, the learning curve and the convergence test
  always use the whole training range.
* ``gate_bias = -2`` starts every head location-based (eq 7, ``g`` near 0). Without it the
  associative-recall write head learned to jump back, by content, to the row of the previous
  item delimiter, so every item was written over the last one (feed-forward runs sat at ~4
  bit errors per sequence in three seeds, an LSTM-controller run at 6); with it the write head
  walks along memory and the read head then learns its content lookup. The shipped recall
  model pairs it with the LSTM controller, which generalised far better than the feed-forward
  one (its card).

Both shipped models of those tasks were trained with Adam 1e-3, the default before RMSProp;
their cards list every setting of their runs.

A third makes copy exact: ``answer_write_penalty`` adds that weight times
:func:`answer_write_activity` (the write heads' mean erase plus mean squared add on the scored
steps) to the loss. Copy's answer phase has nothing to store, yet without it the write head
went on writing there through a diffuse weighting; over 120 answer steps that drifted the rows
read last until now and then a bit flipped, and training on L <= 20 barely sees it. With 0.01
from scratch the shipped copy model makes no error to L = 120; over ten seeds 5 are perfect at
L = 50 and 3 at L = 120 (3 and 0 without), so the seed still matters more. As a fine-tune of
weights trained without it, it was unstable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from ..baseline import LSTMBaseline
from ..checkpoint import weights_are_finite
from ..cuda_graphs import GraphedSteps
from ..evaluate import held_out_score
from ..heads import write_strength
from ..model import NTM
from ..tasks import Batch, Task, bit_errors, masked_bce_loss
from .config import TrainConfig, make_task, model_config, pick_device

#: How a run finishes (:attr:`Finished.status`).
CONVERGED, BUDGET, NAN = "converged", "budget", "nan"
#: The held-out generator's seed is the training seed plus this, so the two never share draws.
EVAL_SEED_OFFSET = 7919

__all__ = [
    "BUDGET", "CONVERGED", "NAN", "Evaluation", "Finished", "NonFiniteLoss", "Run", "Step",
    "answer_write_activity", "compute_loss", "fit", "make_model", "make_optimizer", "make_task",
    "start", "train_step",
]


class NonFiniteLoss(RuntimeError):
    """The loss or the gradient became NaN or infinite."""


# ------------------------------------------------------------------------------ the pieces


def make_model(config: TrainConfig, task: Task) -> nn.Module:
    """An untrained model for ``task`` (weights from torch's global generator).

    The gate bias is part of the initialisation, so it is set here and nowhere else.
    """
    settings = model_config(config, task)
    if config.model == "lstm":
        return LSTMBaseline(settings)
    model = NTM(settings)
    model.fast = config.engine != "reference"
    model.whole_run = config.engine == "fused"
    if config.gate_bias:
        model.heads.set_gate_bias(config.gate_bias)
    return model


def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(model.parameters(), lr=config.lr, alpha=config.alpha,
                                   momentum=config.momentum)
    return torch.optim.Adam(model.parameters(), lr=config.lr)


def compute_loss(model: nn.Module, batch: Batch, write_penalty: float = 0.0
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward pass: the training loss and the bit errors per sequence of this batch. With a
    ``write_penalty`` (an NTM) the loss adds that weight times :func:`answer_write_activity`."""
    if not write_penalty:
        logits = model(batch.inputs)
        return masked_bce_loss(logits, batch), bit_errors(logits.detach(), batch)
    logits, erase, add = model.run_with_writes(batch.inputs)
    loss = masked_bce_loss(logits, batch) + write_penalty * answer_write_activity(erase, add, batch)
    return loss, bit_errors(logits.detach(), batch)


def answer_write_activity(erase: torch.Tensor, add: torch.Tensor, batch: Batch) -> torch.Tensor:
    """How hard the write heads write on the scored steps: :func:`ntm.heads.write_strength` of
    the erase and add vectors ``(T, B, Hw, M)``, averaged over heads and scored steps. It asks
    for ``e = a = 0``, not for a sharper weighting."""
    per_step = write_strength(erase, add).mean(-1)  # (T, B)
    return (per_step * batch.mask).sum() / batch.mask.sum().clamp_min(1)


def train_step(config: TrainConfig, model: nn.Module, optimizer: torch.optim.Optimizer,
               batch: Batch, *, graphs: GraphedSteps | None = None) -> tuple[float, float]:
    """One optimiser step: (loss, mean bit errors per sequence). Raises
    :class:`NonFiniteLoss` before touching the weights if the loss or the gradient is NaN/inf.
    With ``graphs`` (CUDA) the forward and backward are replayed from a captured graph."""
    if graphs is None:
        penalty = config.answer_write_penalty if isinstance(model, NTM) else 0.0
        loss, errors = compute_loss(model, batch, penalty)
    else:  # forward and backward replayed: the parameters' .grad already hold the gradient
        loss, errors = graphs.loss_and_errors(batch)
    if not torch.isfinite(loss):
        raise NonFiniteLoss(f"the loss is {loss.item()}")
    if graphs is None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
    if config.clip_grad_value > 0:
        nn.utils.clip_grad_value_(model.parameters(), config.clip_grad_value)
    limit = config.clip_grad_norm if config.clip_grad_norm > 0 else math.inf
    norm = nn.utils.clip_grad_norm_(model.parameters(), limit)
    if not torch.isfinite(norm):
        raise NonFiniteLoss(f"the gradient norm is {norm.item()}")
    optimizer.step()
    return loss.item(), errors.mean().item()


@dataclass(eq=False)
class Run:
    """A run's state: everything a resumed run needs to continue exactly (see ``state.py``)."""

    task: Task
    model: nn.Module
    optimizer: torch.optim.Optimizer
    device: torch.device
    train_gen: torch.Generator
    eval_gen: torch.Generator
    sequences: int = 0
    steps: int = 0
    seconds: float = 0.0  #: time spent inside fit() before its current stretch
    curve: list[dict] = field(default_factory=list)
    stage: int = 0  #: index of the curriculum stage in training
    lr_decayed: bool = False  #: the learning-rate cut has been applied
    loss_ema: float | None = None  #: smoothed training loss (progress, curve)
    err_ema: float | None = None  #: smoothed training bit errors per sequence
    _since: float | None = field(default=None, init=False, repr=False)  #: fit() took over
    graphs: GraphedSteps | None = field(default=None, repr=False)  #: CUDA graphs, when used

    def elapsed(self) -> float:
        """Training seconds so far: time in fit(), not in the caller's hands (saving, pauses)."""
        running = time.perf_counter() - self._since if self._since is not None else 0.0
        return self.seconds + running

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]


def start(config: TrainConfig) -> Run:
    """A new run: the task, a seeded model and optimiser, the two seeded generators."""
    device = pick_device(config.device)
    task = make_task(config)
    torch.manual_seed(config.seed)  # the initial weights
    model = make_model(config, task).to(device)
    return Run(task, model, make_optimizer(config, model), device,
               torch.Generator().manual_seed(config.seed),
               torch.Generator().manual_seed(config.seed + EVAL_SEED_OFFSET),
               graphs=make_graphs(config, model, device))


def make_graphs(config: TrainConfig, model: nn.Module, device: torch.device) -> GraphedSteps | None:
    """CUDA graphs for the training steps (:mod:`ntm.cuda_graphs`) when the run is on CUDA with
    the fused engine and ``cuda_graph`` is on; otherwise None (eager steps). The captured step
    has no write penalty, so a run with ``answer_write_penalty`` takes eager steps."""
    if (device.type != "cuda" or not config.cuda_graph or config.engine == "reference"
            or config.answer_write_penalty):
        return None
    return GraphedSteps(model)


# ------------------------------------------------------------------------------ the events


@dataclass(frozen=True)
class Step:
    """One optimiser step was taken (``run.sequences`` and ``run.steps`` count it)."""

    run: Run
    loss: float  #: this batch's mean loss (nats per scored bit)
    bit_errors: float  #: this batch's mean bit errors per sequence


@dataclass(frozen=True)
class Evaluation:
    """Held-out sequences were scored; ``point`` was added to ``run.curve``."""

    run: Run
    point: dict  #: sequences, steps, wall_time, cost, bit_errors, train_loss, lr (+ stage)
    converged: bool
    stages: int  #: curriculum stages (0: no curriculum)
    next_stage: dict | None  #: the largest sizes of the stage just moved to, if it moved
    lr_cut: bool  #: the learning rate was cut at this evaluation


@dataclass(frozen=True)
class Finished:
    """The run is over: ``status`` is CONVERGED, BUDGET or NAN (``reason`` says what)."""

    run: Run
    status: str
    reason: str = ""


Event = Step | Evaluation | Finished


# ------------------------------------------------------------------------------ the loop


def fit(config: TrainConfig, run: Run | None = None) -> Iterator[Event]:
    """Train as ``config`` says: a :class:`Step` after every optimiser step, an
    :class:`Evaluation` after every held-out evaluation, one :class:`Finished` last.

    ``run`` continues a run (a resumed one); by default a new one starts. Stopping early is
    the caller's: it simply stops iterating.
    """
    run = start(config) if run is None else run
    events = _events(config, run)
    while True:
        run._since = time.perf_counter()
        event = next(events, None)
        run.seconds, run._since = run.elapsed(), None
        if event is None:
            return
        yield event


def _events(config: TrainConfig, run: Run) -> Iterator[Event]:
    stages = run.task.curriculum(config.curriculum) if config.curriculum else []
    next_eval = (run.sequences // config.eval_every + 1) * config.eval_every
    run.model.train()
    while True:
        if _budget_spent(config, run):
            yield Finished(run, BUDGET)
            return
        if stages:
            batch = run.task.sample_from(config.batch_size, run.train_gen, stages[run.stage])
        else:
            batch = run.task.sample(config.batch_size, run.train_gen)
        try:
            graphs = {"graphs": run.graphs} if run.graphs is not None else {}
            loss, errors = train_step(config, run.model, run.optimizer, batch.to(run.device),
                                      **graphs)
        except NonFiniteLoss as exc:
            yield Finished(run, NAN, f"{exc} at step {run.steps + 1}")
            return
        run.steps += 1
        run.sequences += config.batch_size
        run.loss_ema = loss if run.loss_ema is None else 0.98 * run.loss_ema + 0.02 * loss
        run.err_ema = errors if run.err_ema is None else 0.98 * run.err_ema + 0.02 * errors
        yield Step(run, loss, errors)

        if run.sequences >= next_eval:
            next_eval += config.eval_every
            if not weights_are_finite(run.model):  # a step can diverge with a finite gradient
                yield Finished(run, NAN, f"the weights are not finite after step {run.steps}")
                return
            evaluation = _evaluate(config, run, stages)
            yield evaluation
            if evaluation.converged:
                yield Finished(run, CONVERGED)
                return


def _budget_spent(config: TrainConfig, run: Run) -> bool:
    if config.max_sequences and run.sequences >= config.max_sequences:
        return True
    return bool(config.max_seconds) and run.elapsed() >= config.max_seconds


def _evaluate(config: TrainConfig, run: Run, stages: list[list[dict]]) -> Evaluation:
    """Score the whole training range, then move the curriculum on and cut the learning rate
    if the scores say so. Convergence and the cut wait for the curriculum's last stage."""
    errors, cost = held_out_score(run.model, run.task, config.eval_sequences, run.eval_gen,
                                  run.device)
    point = {"sequences": run.sequences, "steps": run.steps, "wall_time": round(run.elapsed(), 3),
             "cost": cost, "bit_errors": errors, "train_loss": run.loss_ema}
    moved = _advance_curriculum(config, run, stages, errors, point) if stages else False
    final_stage = not stages or run.stage == len(stages) - 1
    lr_cut = final_stage and _cut_lr(config, run, errors)
    point["lr"] = run.lr
    run.curve.append(point)
    converged = final_stage and config.target_bit_errors > 0 and errors < config.target_bit_errors
    return Evaluation(run, point, converged, len(stages),
                      stages[run.stage][-1] if moved else None, lr_cut)


def _advance_curriculum(config: TrainConfig, run: Run, stages: list[list[dict]],
                        errors: float, point: dict) -> bool:
    """Record the stage's score in ``point``; move to the next stage if it is good enough."""
    last = run.stage == len(stages) - 1
    stage_errors = errors
    if not last:  # the stage's own range decides when to move on
        stage_errors, _ = held_out_score(run.model, run.task, config.eval_sequences,
                                         run.eval_gen, run.device, stages[run.stage])
    point.update(stage=run.stage + 1, stage_bit_errors=stage_errors)
    if last or stage_errors >= config.curriculum_threshold:
        return False
    run.stage += 1
    return True


def _cut_lr(config: TrainConfig, run: Run, errors: float) -> bool:
    """Multiply the learning rate by ``lr_decay`` once, when the errors fall below the bar."""
    if config.lr_decay_below <= 0 or run.lr_decayed or errors >= config.lr_decay_below:
        return False
    run.lr_decayed = True
    for group in run.optimizer.param_groups:
        group["lr"] *= config.lr_decay
    return True


class Rate:
    """Sequences per second, measured over stretches of at least ``every`` seconds."""

    def __init__(self, sequences: int, every: float) -> None:
        self.every, self.value = every, 0.0
        self._mark = (time.perf_counter(), sequences)

    def update(self, sequences: int) -> bool:
        """Count up to ``sequences``; true when a new :attr:`value` was measured."""
        now = time.perf_counter()
        if now - self._mark[0] < self.every:
            return False
        self.value = (sequences - self._mark[1]) / (now - self._mark[0])
        self._mark = (now, sequences)
        return True
