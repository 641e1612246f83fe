"""One recorded run of a trained model on one sequence: what the Model Stepper page steps through.

An :class:`Episode` bundles the task's input, target and scored steps with the model's
:class:`~ntm.model.Trace` and per-step errors, as plain numpy arrays for batch element 0.
:func:`focus_moves` reads the trace the way a teacher would ("the write head moves down one
row per step; at step 21 the read head jumps back to row 3"), and :func:`describe_episode`
turns that into the narrated reading shown beside the figures.

No Streamlit here: the page calls these functions and caches nothing mutable.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .checkpoint import CheckpointError, load_model
from .evaluate import task_of
from .model import NTM, Trace
from .tasks import Batch, Task

#: Where the shipped checkpoints live (``NTM_MODELS_DIR`` overrides it, e.g. in tests).
MODELS_DIR = Path(os.environ.get("NTM_MODELS_DIR") or Path(__file__).resolve().parents[1] / "assets" / "models")
#: Display names of the shipped models, in menu order.
SHIPPED = {
    "copy": "Copy (NTM)",
    "repeat-copy": "Repeat copy (NTM)",
    "associative-recall": "Associative recall (NTM)",
}
#: Longest input the stepper accepts, per size argument (keeps one run well under a second).
SIZE_LIMITS = {"length": 120, "repeats": 20, "items": 20}


@dataclass(frozen=True)
class ModelEntry:
    """A checkpoint the user can pick."""

    key: str  #: short name, used in the URL (``copy``, ``repeat-copy`` ...)
    label: str
    path: Path


def shipped_models(directory: Path | None = None) -> list[ModelEntry]:
    """The shipped NTM checkpoints that exist on disk, in menu order."""
    directory = Path(directory or MODELS_DIR)
    found = []
    for key, label in SHIPPED.items():
        path = directory / f"{key}.pt"
        if path.is_file():
            found.append(ModelEntry(key, label, path))
    return found


def load_ntm(path: str | Path, device: str | torch.device | None = None) -> NTM:
    """Load a checkpoint for stepping: it must be an NTM (not the memory-less baseline)
    trained on a known task."""
    model = load_model(path, device=device)
    if not isinstance(model, NTM):
        raise CheckpointError(f"{path}: this is an LSTM baseline; it has no memory to step through")
    try:
        task = task_of(model)
    except (CheckpointError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    if (task.input_size, task.output_size) != (model.config.input_size, model.config.output_size):
        raise CheckpointError(
            f"{path}: the model's {model.config.input_size} inputs / {model.config.output_size} "
            f"outputs do not fit the {task.name} task"
        )
    return model


def size_arguments(task: Task) -> dict[str, tuple[int, int, int]]:
    """The task's free sizes with (minimum, maximum allowed here, default)."""
    if task.name == "copy":
        return {"length": (1, SIZE_LIMITS["length"], min(20, task.max_length))}
    if task.name == "repeat-copy":
        return {
            "length": (1, 20, min(5, task.max_length)),
            "repeats": (1, SIZE_LIMITS["repeats"], min(3, task.max_repeats)),
        }
    if task.name == "associative-recall":
        return {"items": (2, SIZE_LIMITS["items"], min(6, task.max_items))}
    raise ValueError(f"no stepper sizes for task {task.name!r}")


def training_range(task: Task) -> dict[str, tuple[int, int]]:
    """The sizes the model saw in training (to flag inputs beyond it)."""
    ranges = {}
    for name in ("length", "repeats", "items"):
        lo, hi = getattr(task, f"min_{name}", None), getattr(task, f"max_{name}", None)
        if lo is not None:
            ranges[name] = (lo, hi)
    return ranges


def random_batch(task: Task, seed: int, **sizes: int) -> Batch:
    """One sequence (batch of 1) of the given sizes, reproducible from ``seed``."""
    return task.batch(1, torch.Generator().manual_seed(int(seed)), **sizes)


def copy_batch(bits: np.ndarray) -> Batch:
    """A copy-task sequence from a user-typed ``(L, 8)`` 0/1 matrix (DESIGN.md's encoding)."""
    seq = torch.as_tensor(np.asarray(bits, dtype=np.float32)).clamp(0, 1).round()
    if seq.ndim != 2 or seq.shape[0] < 1:
        raise ValueError("type at least one row of bits")
    length, width = seq.shape
    steps = 2 * length + 1
    inputs = torch.zeros(steps, 1, width + 1)
    inputs[:length, 0, :width] = seq
    inputs[length, 0, width] = 1.0
    targets = torch.zeros(steps, 1, width)
    targets[length + 1 :, 0] = seq
    mask = torch.zeros(steps, 1)
    mask[length + 1 :] = 1.0
    return Batch(inputs, targets, mask, {"length": length})


@dataclass
class Episode:
    """A model's run on one sequence (batch element 0), ready for the figures."""

    task: Task
    inputs: np.ndarray  #: (T, C_in)
    targets: np.ndarray  #: (T, C_out)
    scored: np.ndarray  #: (T,) bool: steps whose output is scored
    trace: Trace
    info: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return self.inputs.shape[0]

    @property
    def outputs(self) -> np.ndarray:
        """sigmoid(logits), (T, C_out)."""
        return self.trace.outputs[:, 0]

    @property
    def predicted(self) -> np.ndarray:
        """Output bits (logit > 0), (T, C_out)."""
        return (self.trace.logits[:, 0] > 0).astype(np.float32)

    @property
    def wrong(self) -> np.ndarray:
        """(T, C_out) bool: scored bits the model got wrong."""
        return (self.predicted != self.targets) & self.scored[:, None]

    @property
    def bit_errors(self) -> int:
        """Bit errors per sequence (the design contract's metric)."""
        return int(self.wrong.sum())

    @property
    def cost_bits(self) -> float:
        """Cost in bits per sequence: binary cross-entropy in log2 over the scored bits."""
        logits = torch.from_numpy(self.trace.logits[:, 0]).double()
        target = torch.from_numpy(self.targets).double()
        bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        return float((bce * torch.from_numpy(self.scored)[:, None]).sum() / np.log(2))

    def phase(self, t: int) -> str:
        """What the sequence is doing at step ``t``, in words."""
        return phase_label(self.task, self.info, self.inputs, t)


def phase_label(task: Task, info: dict, inputs: np.ndarray, t: int) -> str:
    if task.name == "copy":
        length = info["length"]
        if t < length:
            return f"input: vector {t + 1} of {length}"
        if t == length:
            return "delimiter: now write the sequence back"
        return f"output: vector {t - length} of {length}"
    if task.name == "repeat-copy":
        length = info["length"]
        if t < length:
            return f"input: vector {t + 1} of {length}"
        if t == length:
            return f"delimiter and repeat count ({info.get('repeats', '?')} copies)"
        k = t - length - 1
        if k < length * info.get("repeats", 0):
            return f"output: copy {k // length + 1}, vector {k % length + 1}"
        return "output: end marker"
    if task.name == "associative-recall":
        bits = task.bits
        row = inputs[t]
        if row[bits] > 0.5:
            return "item delimiter"
        if row[bits + 1] > 0.5:
            return "query delimiter"
        if row[:bits].any():
            return "item or query vector"
        return "output: recall the item after the query"
    return ""


@torch.no_grad()
def run_episode(model: NTM, task: Task, batch: Batch) -> Episode:
    """Trace ``model`` on sequence 0 of ``batch``; never changes the model (no state on it)."""
    device = next(model.parameters()).device
    x = batch.inputs[:, :1].to(device=device, dtype=next(model.parameters()).dtype)
    trace = model.trace(x)
    return Episode(
        task=task,
        inputs=batch.inputs[:, 0].numpy(),
        targets=batch.targets[:, 0].numpy(),
        scored=(batch.mask[:, 0] > 0).numpy(),
        trace=trace,
        info={k: (v[0] if isinstance(v, list) else v) for k, v in batch.info.items()},
    )


@dataclass(frozen=True)
class FocusMove:
    """Where a head's focus (argmax row of its weighting) went at one step."""

    step: int
    head: str  #: "read" or "write"
    index: int  #: head number within its kind
    from_row: int
    to_row: int
    offset: int  #: signed circular distance, in (-N/2, N/2]
    gate: float  #: g at this step: near 1 means the jump was by content


def focus_moves(trace: Trace, b: int = 0) -> list[FocusMove]:
    """The focus of every head at every step, compared with the step before."""
    moves = []
    for kind, head in (("read", trace.read), ("write", trace.write)):
        weights = head.weights[:, b]  # (T, H, N)
        previous = head.previous[:, b]
        n = weights.shape[-1]
        for t in range(weights.shape[0]):
            for h in range(weights.shape[1]):
                a, z = int(previous[t, h].argmax()), int(weights[t, h].argmax())
                off = (z - a) % n
                off = off - n if off > n // 2 else off
                moves.append(FocusMove(t, kind, h, a, z, off, float(head.gate[t, b, h])))
    return moves


def jumps(trace: Trace, b: int = 0, min_distance: int = 2) -> list[FocusMove]:
    """Steps where a head's focus moved by ``min_distance`` rows or more (a content jump)."""
    return [m for m in focus_moves(trace, b) if abs(m.offset) >= min_distance]


def typical_offset(moves: list[FocusMove], head: str, steps: range) -> tuple[int, float]:
    """The most common focus offset of ``head`` over ``steps`` and the share of steps with it."""
    offsets = [m.offset for m in moves if m.head == head and m.index == 0 and m.step in steps]
    if not offsets:
        return 0, 0.0
    values, counts = np.unique(offsets, return_counts=True)
    i = int(counts.argmax())
    return int(values[i]), float(counts[i] / len(offsets))


def _rows(offset: int) -> str:
    """'moves down 1 row each step', in words."""
    if offset == 0:
        return "stays on the same row from one step to the next"
    direction = "down" if offset > 0 else "up"
    n = abs(offset)
    return f"moves {direction} {n} row{'s' if n > 1 else ''} each step"


def describe_episode(ep: Episode) -> list[tuple[str, int | None]]:
    """A narrated reading of what the model does, as (sentence, step to jump to or None).

    Derived from the trace itself, not written in advance: it reports what this model did on
    this sequence.
    """
    moves = focus_moves(ep.trace)
    notes: list[tuple[str, int | None]] = []
    if ep.task.name in ("copy", "repeat-copy"):
        length = ep.info["length"]
        off, share = typical_offset(moves, "write", range(1, length))
        if length > 1:
            notes.append((f"While the input arrives (steps 0–{length - 1}) the write head "
                          f"{_rows(off)} on {share:.0%} of the steps, storing one vector "
                          "per memory location.", 0))
        first_row = int(ep.trace.write.weights[0, 0, 0].argmax())
        read_rows = ep.trace.read.weights[:, 0, 0].argmax(-1)
        back = [t for t in range(length, ep.steps) if read_rows[t] == first_row]
        if back:
            t0 = back[0]
            gate = float(ep.trace.read.gate[t0, 0, 0])
            how = f", by content (g = {gate:.2f})" if gate > 0.5 else f" (g = {gate:.2f})"
            notes.append((f"At step {t0} the read head's focus jumps to row {first_row}, the row "
                          f"the first vector was written to — back to the start{how}.", t0))
        else:
            read_jumps = [m for m in moves if m.head == "read" and m.index == 0
                          and m.step >= length and abs(m.offset) >= 2]
            if read_jumps:
                j = read_jumps[0]
                notes.append((f"At step {j.step} the read head jumps from row {j.from_row} to row "
                              f"{j.to_row} (g = {j.gate:.2f}).", j.step))
        out_steps = range(length + 2, ep.steps)
        off, share = typical_offset(moves, "read", out_steps)
        if len(out_steps) > 0:
            notes.append((f"While it writes the copy back, the read head {_rows(off)} on "
                          f"{share:.0%} of the output steps, reading the vectors in order.",
                          length + 1))
        if ep.task.name == "repeat-copy":
            returns = [t for t in range(length + 1, ep.steps - 1)
                       if read_rows[t] == first_row and read_rows[t - 1] != first_row]
            repeats = ep.info["repeats"]
            if returns:
                shown = ", ".join(str(t) for t in returns[:6]) + (" …" if len(returns) > 6 else "")
                notes.append((f"It jumps back to row {first_row} {len(returns)} more time"
                              f"{'s' if len(returns) != 1 else ''} (steps {shown}), once before "
                              f"each further copy; {repeats} cop{'ies were' if repeats != 1 else 'y was'} "
                              "asked for.", returns[0]))
            end = ep.steps - 1
            marker = float(ep.outputs[end, -1])
            said = "emits" if marker > 0.5 else "misses"
            notes.append((f"At the last step ({end}) it {said} the end marker (output "
                          f"{marker:.2f}); to time it, it must count the copies it has made.",
                          end))
    else:
        notes += _recall_notes(ep, moves)
    errors = ep.bit_errors
    notes.append((f"{errors} bit error{'s' if errors != 1 else ''} on this sequence "
                  f"(cost {ep.cost_bits:.2f} bits).", None))
    return notes


def _recall_notes(ep: Episode, moves: list[FocusMove]) -> list[tuple[str, int | None]]:
    """Associative recall: where the items went, the lookup jump, and where the answer is read.

    The layout follows :class:`~ntm.tasks.AssociativeRecallTask`: item ``j`` is a delimiter at
    step ``(L+1) j`` followed by its ``L`` vectors; then the query and the ``L`` answer steps.
    """
    notes: list[tuple[str, int | None]] = []
    k, q, size = ep.info["items"], ep.info["query"], ep.task.item_length
    stride = size + 1
    off, share = typical_offset(moves, "write", range(1, k * stride))
    notes.append((f"While the {k} items arrive (steps 0–{k * stride - 1}) the write head "
                  f"{_rows(off)} on {share:.0%} of the steps, so each item's vectors lie in "
                  "consecutive rows.", 0))
    big = [m for m in jumps(ep.trace) if m.head == "read" and m.index == 0]
    if big:
        last = big[-1]
        notes.append((f"At step {last.step} the read head jumps from row {last.from_row} to row "
                      f"{last.to_row}: it found the queried item (item {q + 1} of {k}) by content "
                      "and moves on to the item stored after it.", last.step))
    write_rows = ep.trace.write.weights[:, 0, 0].argmax(-1)
    read_rows = ep.trace.read.weights[:, 0, 0].argmax(-1)
    stored = [int(write_rows[(q + 1) * stride + 1 + v]) for v in range(size)]
    answer = range(ep.steps - size, ep.steps)
    read = [int(read_rows[t]) for t in answer]
    first = (q + 1) * stride + 1
    notes.append((f"On the answer steps ({answer[0]}–{answer[-1]}) the read head is on rows "
                  f"{', '.join(map(str, read))}; item {q + 2}, the answer, was written to rows "
                  f"{', '.join(map(str, stored))} (steps {first}–{first + size - 1}).",
                  answer[0]))
    return notes


def trace_npz(ep: Episode) -> bytes:
    """The episode as a compressed ``.npz`` (every trace array, batch element 0)."""
    arrays = {"inputs": ep.inputs, "targets": ep.targets, "scored": ep.scored,
              "outputs": ep.outputs, "logits": ep.trace.logits[:, 0],
              "reads": ep.trace.reads[:, 0], "memory": ep.trace.memory[:, 0],
              "initial_memory": ep.trace.initial_memory[0]}
    for kind, head in (("read", ep.trace.read), ("write", ep.trace.write)):
        for name, value in vars(head).items():
            if value is not None:
                arrays[f"{kind}_{name}"] = value[:, 0]
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def trace_json(ep: Episode) -> str:
    """The episode as JSON: per step, each head's parameters and final weighting."""
    steps = []
    for t in range(ep.steps):
        step = {"t": t, "phase": ep.phase(t), "input": ep.inputs[t].tolist(),
                "target": ep.targets[t].tolist() if ep.scored[t] else None,
                "output": np.round(ep.outputs[t], 5).tolist()}
        for kind, head in (("read", ep.trace.read), ("write", ep.trace.write)):
            step[kind] = [
                {name: np.round(getattr(head, name)[t, 0, h], 5).tolist()
                 for name in ("key", "beta", "gate", "shift", "gamma", "weights", "erase", "add")
                 if getattr(head, name) is not None}
                for h in range(head.weights.shape[2])
            ]
        steps.append(step)
    return json.dumps({"task": ep.task.name, "info": ep.info, "bit_errors": ep.bit_errors,
                       "steps": steps})


def parse_step(value: str | None, last: int) -> int:
    """A time step from the URL, clamped to ``0 .. last`` (0 when missing or not a number)."""
    try:
        return max(0, min(last, int(float(value))))
    except (TypeError, ValueError, OverflowError):
        return 0


def check_query(params: Mapping[str, str | Sequence[str]], limits: Mapping[str, tuple[int, int]],
                choices: Mapping[str, Sequence[str]]) -> tuple[list[str], dict[str, str | None]]:
    """Check a page's URL values before its widgets read them.

    ``params`` maps names to a value or, for a name repeated in the link, all its values
    (``{k: st.query_params.get_all(k) for k in st.query_params}``); the last one counts, as in
    Streamlit. ``limits`` maps integer parameters to their (min, max); ``choices`` maps the
    others to their allowed values.

    Returns ``(notices, fixes)``: plain-language notices for values the page cannot use as they
    are, and the URL changes that make the link say what the page shows: name -> the one value
    to keep (the last of repeated values) or ``None`` to drop it, so the widget shows its
    default. Dropping matters: Streamlit's query-param binding would otherwise read the value
    itself, and ``seed=inf`` makes its ``int(inf)`` raise.
    """
    notices: list[str] = []
    fixes: dict[str, str | None] = {}
    for name in [*limits, *choices]:
        if name not in params:
            continue
        given = params[name]
        values = [given] if isinstance(given, str) else [str(v) for v in given]
        if not values:
            continue
        raw = values[-1]
        problem = None
        if name in limits:
            lo, hi = limits[name]
            try:
                value = float(raw)
                whole = value.is_integer()
            except (TypeError, ValueError, OverflowError):
                whole = False
            if not whole:
                problem = "is not a whole number"
            elif not lo <= value <= hi:
                problem = f"is outside {lo}–{hi}"
        elif raw not in choices[name]:
            problem = f"is not one of {', '.join(choices[name])}"
        shown = _shorten(raw)
        if problem:
            notices.append(f"`{name}={shown}` {problem}; using the default instead.")
            fixes[name] = None
        elif len(values) > 1:
            notices.append(f"`{name}` is given {len(values)} times in the link; using the last "
                           f"value, `{shown}`.")
            fixes[name] = raw
    return notices, fixes


def _shorten(text: str, limit: int = 40) -> str:
    """A URL value as a notice quotes it: long ones cut, backticks removed."""
    text = text.replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def query_notices(params: Mapping[str, str | Sequence[str]], limits: Mapping[str, tuple[int, int]],
                  choices: Mapping[str, Sequence[str]]) -> list[str]:
    """Plain-language notices for URL values the page cannot use as they are (see
    :func:`check_query`)."""
    return check_query(params, limits, choices)[0]
