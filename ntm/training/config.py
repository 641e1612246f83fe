"""Every setting of a training run in one checked dataclass, :class:`TrainConfig`.

A field is a ``python -m ntm.train`` option under its own name (``batch_size`` is
``--batch-size``, see :func:`flag`). The CLI builds its parser from these fields and
:meth:`TrainConfig.command` writes the command back from them, so a new setting reaches both
without being listed again. A task's size parameters (``min_length``, ``max_repeats``, ...) are
kept in ``task_params`` under the task dataclass's own field names, so a new task brings its
own options with it.

A config that cannot train raises one ``ValueError`` naming the setting, e.g. ``batch_size
must be at least 1, got 0``: the CLI prints it as one line.
"""

from __future__ import annotations

import math
import shlex
import typing
from dataclasses import asdict, dataclass, field, fields

import torch

from ..baseline import LSTMBaselineConfig
from ..controller import CONTROLLERS
from ..model import MEMORY_INITS, NTMConfig
from ..tasks import TASKS, Task

MODELS = ("ntm", "lstm")
OPTIMIZERS = ("adam", "rmsprop")
ENGINES = ("fused", "fused-step", "reference")


def setting(default, help: str, group: str, *, choices=None, low=None, above=None,
            metavar: str | None = None):
    """A :class:`TrainConfig` field with its CLI help and group, its allowed values (a tuple, or
    a function returning one when the set can grow, like the registered tasks) and its bounds
    (``low`` inclusive, ``above`` exclusive)."""
    return field(default=default, metadata={"help": help, "group": group, "choices": choices,
                                            "low": low, "above": above, "metavar": metavar})


@dataclass(frozen=True)
class TrainConfig:
    """The settings of one training run (the CLI's options, the live page's widgets)."""

    task: str = setting("copy", "the task to learn", "task", choices=lambda: tuple(sorted(TASKS)))
    #: The task's size parameters by field name, only those set (the task's defaults fill in).
    task_params: dict = field(default_factory=dict)

    model: str = setting("ntm", "an NTM or the LSTM baseline", "model", choices=MODELS)
    controller: str = setting("feedforward", "the NTM's controller", "model",
                              choices=tuple(sorted(CONTROLLERS)))
    controller_size: int = setting(100, "controller units", "model", low=1)
    memory_rows: int = setting(128, "N", "model", low=1)
    memory_width: int = setting(20, "M", "model", low=1)
    read_heads: int = setting(1, "read heads", "model", low=1)
    write_heads: int = setting(1, "write heads", "model", low=1)
    shift_range: int = setting(1, "R: shifts -R..+R", "model", low=0)
    memory_init: str = setting("constant", "initial memory", "model", choices=MEMORY_INITS)
    gate_bias: float = setting(
        0.0, "initial bias of every head's interpolation gate g (eq 7); negative starts the "
        "heads location-based", "model")
    lstm_hidden: int = setting(256, "LSTM baseline: units per layer", "model", low=1)
    lstm_layers: int = setting(3, "LSTM baseline: layers", "model", low=1)

    batch_size: int = setting(16, "sequences per optimiser step", "optimisation", low=1)
    optimizer: str = setting("rmsprop", "the optimiser", "optimisation", choices=OPTIMIZERS)
    lr: float = setting(5e-4, "learning rate", "optimisation", above=0.0)
    lr_decay_below: float = setting(
        1.0, "once held-out bit errors per sequence (whole range) fall below BITS, multiply the "
        "learning rate by --lr-decay, once (0: off); given with --resume, it schedules one more "
        "decay", "optimisation", low=0.0, metavar="BITS")
    lr_decay: float = setting(0.3, "factor for --lr-decay-below", "optimisation", above=0.0)
    momentum: float = setting(0.9, "RMSProp momentum", "optimisation", low=0.0)
    alpha: float = setting(0.95, "RMSProp smoothing constant", "optimisation", low=0.0)
    clip_grad_norm: float = setting(10.0, "max gradient norm (0: off)", "optimisation", low=0.0)
    clip_grad_value: float = setting(
        0.0, "clip each gradient element to +-VALUE (0: off; the paper uses 10)", "optimisation",
        low=0.0)
    seed: int = setting(0, "seeds the weights, the training and the held-out sequences",
                        "optimisation")
    curriculum: int = setting(
        0, "train on growing sizes: STAGES nested ranges, shortest first (0: off; see "
        "Task.curriculum)", "optimisation", low=0, metavar="STAGES")
    curriculum_threshold: float = setting(
        1.0, "move to the next curriculum stage once held-out bit errors per sequence on the "
        "current stage's range fall below this", "optimisation")
    answer_write_penalty: float = setting(
        0.0, "add WEIGHT x (mean erase + mean add^2 of the write heads) over the steps whose "
        "output is scored to the loss: the answer phase, where copy has nothing to store "
        "(0: off; the LSTM baseline ignores it, as the other NTM settings)", "optimisation",
        low=0.0, metavar="WEIGHT")

    max_sequences: int = setting(200_000, "training sequences in all (0: no limit)",
                                 "budget and evaluation", low=0)
    max_seconds: float = setting(0.0, "training time in all, in seconds (0: no limit)",
                                 "budget and evaluation", low=0.0)
    eval_every: int = setting(1000, "sequences between held-out evaluations",
                              "budget and evaluation", low=1)
    eval_sequences: int = setting(
        200, "held-out sequences per evaluation, spread over the training range",
        "budget and evaluation", low=1)
    target_bit_errors: float = setting(
        0.1, "stop once held-out bit errors per sequence fall below this (<= 0: never)",
        "budget and evaluation")
    device: str = setting("auto", "auto (CUDA when present), cpu, cuda, cuda:1 ...", "run")
    engine: str = setting(
        "fused", "the NTM's engine: fused (on a CPU the whole run as one autograd node, "
        "ntm.sequence; elsewhere one node per step, ntm.fused), fused-step (one node per step "
        "everywhere: how runs before ntm.sequence trained, to replay them bit for bit) or "
        "reference (ntm.addressing and ntm.memory); the same numbers to float rounding", "run",
        choices=ENGINES)
    cuda_graph: int = setting(
        1, "on CUDA with the fused engine, replay each training step's forward and backward from "
        "a captured CUDA graph, one per padded sequence length (ntm.cuda_graphs; 0: off)",
        "run", low=0)

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in fields(self):
            if f.name != "task_params":
                object.__setattr__(self, f.name, _checked(f, hints[f.name], getattr(self, f.name)))
        _check_device(self.device)
        if not isinstance(self.task_params, dict):
            raise ValueError(f"task_params must be a dict, got {self.task_params!r}")
        object.__setattr__(self, "task_params", dict(self.task_params))  # never share a caller's
        model_config(self, make_task(self))  # the task's and the model's own checks

    def to_dict(self) -> dict:
        """Plain data, as saved in a checkpoint's ``args``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> TrainConfig:
        """The config saved in a checkpoint's ``args``; settings it lacks take today's defaults.

        Older checkpoints kept the task's size parameters beside the other settings, and the
        CLI's own options (``output``, ``resume`` ...) too: the former are gathered into
        ``task_params``, the latter ignored.
        """
        if not isinstance(data, dict):
            raise ValueError(f"the saved settings are a {type(data).__name__}, not a dict")
        names = {f.name for f in fields(cls)}
        settings = {k: v for k, v in data.items() if k in names}
        task = settings.get("task", cls.task)
        if not isinstance(task, str) or task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {', '.join(sorted(TASKS))}")
        params = settings.get("task_params") or {}
        if not isinstance(params, dict):
            raise ValueError(f"task_params must be a dict, got {params!r}")
        params = dict(params)
        params.update({k: data[k] for k in task_fields(task) if data.get(k) is not None})
        return cls(**{**settings, "task_params": params})

    def command(self) -> str:
        """The ``python -m ntm.train`` command for this config: every setting that differs from
        the default, so that parsing it back gives this config again."""
        default = TrainConfig()
        words = ["python", "-m", "ntm.train"]
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "task_params":
                for name, param in value.items():
                    words += [flag(name), str(param)]
            elif value != getattr(default, f.name):
                words += [flag(f.name), str(value)]
        return shlex.join(words)


#: What ``--device auto`` trains with on a CUDA machine when neither ``--batch-size`` nor
#: ``--lr`` is given: on a GPU a step costs about the same at batch 8 as at batch 32 (it is
#: launch-bound), so a larger batch buys more sequences per second. A first choice, not yet
#: measured on a GPU: ``benchmarks/gpu_checks.sh`` runs the recipe sweep that should set it.
#: The checkpoint's settings (its model card) record the values a run used.
GPU_RECIPE = {"batch_size": 32, "lr": 1e-3}


def for_device(settings: dict) -> dict:
    """``settings`` (the options given) with :data:`GPU_RECIPE` filled in when ``device`` is
    auto (or not given), a CUDA device is present and neither the batch size nor the learning
    rate was chosen."""
    if settings.get("device", "auto") != "auto" or not torch.cuda.is_available():
        return settings
    if "batch_size" in settings or "lr" in settings:
        return settings
    return {**settings, **GPU_RECIPE}


def flag(name: str) -> str:
    """The CLI option of a setting or task parameter: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def choices_of(f) -> tuple | None:
    """The allowed values of a field, or None when any value of its type will do."""
    choices = f.metadata.get("choices")
    return choices() if callable(choices) else choices


def task_fields(task: str) -> dict:
    """The size parameters of a registered task: ``{name: dataclasses.Field}``."""
    return {f.name: f for f in fields(TASKS[task])}


def make_task(config: TrainConfig) -> Task:
    """The task the config names, built from its ``task_params`` by field name."""
    known = task_fields(config.task)
    unknown = sorted(set(config.task_params) - set(known))
    if unknown:
        raise ValueError(f"task {config.task} has no parameter {unknown[0]!r}; "
                         f"its parameters: {', '.join(known)}")
    try:
        return TASKS[config.task].from_params(config.task_params)
    except TypeError as exc:  # a parameter of the wrong kind, reported as a bad value
        raise ValueError(f"task {config.task}: {exc}") from None


def model_config(config: TrainConfig, task: Task) -> NTMConfig | LSTMBaselineConfig:
    """The model's own config (its constructor checks the sizes against :mod:`ntm.limits`)."""
    if config.model == "lstm":
        return LSTMBaselineConfig(input_size=task.input_size, output_size=task.output_size,
                                  hidden_size=config.lstm_hidden, layers=config.lstm_layers)
    return NTMConfig(
        input_size=task.input_size, output_size=task.output_size,
        memory_rows=config.memory_rows, memory_width=config.memory_width,
        controller=config.controller, controller_size=config.controller_size,
        read_heads=config.read_heads, write_heads=config.write_heads,
        shift_range=config.shift_range, memory_init=config.memory_init,
    )


def pick_device(name: str) -> torch.device:
    """``auto`` is CUDA when present; a CUDA device this machine lacks is refused by name."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name}: this machine has no CUDA device")
    return device


def _check_device(name: str) -> None:
    if name == "auto":
        return
    try:
        torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(f"device must be auto, cpu, cuda, cuda:1 ..., got {name!r}") from None


def _checked(f, kind: type, value: object) -> object:
    """``value`` as the field's type (an int is a fine float), or a ValueError naming it."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{f.name} must be {'an' if kind is int else 'a'} {kind.__name__}, "
                         f"got {value!r}")
    if isinstance(value, float) and math.isnan(value):
        raise ValueError(f"{f.name} must be a number, got nan")
    choices = choices_of(f)
    if choices is not None and value not in choices:
        raise ValueError(f"{f.name} must be one of {', '.join(choices)}, got {value!r}")
    low, above = f.metadata.get("low"), f.metadata.get("above")
    if low is not None and value < low:
        raise ValueError(f"{f.name} must be at least {low}, got {value!r}")
    if above is not None and value <= above:
        raise ValueError(f"{f.name} must be more than {above}, got {value!r}")
    return value

