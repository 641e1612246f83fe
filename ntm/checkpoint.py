"""Saving and loading models: one file with config, weights and metadata.

The file is a ``torch.save`` of a plain dict (strings, numbers, lists, dicts and tensors only),
written to a temporary file beside the target and renamed over it, so a crash never leaves a
half-written checkpoint.

Checkpoints are untrusted input (the stepper page accepts uploads), so loading checks, in order
and each before anything expensive happens (bounds in :mod:`ntm.limits`):

1. the file's size;
2. the zip archive (``torch.save``'s format): its directory, member count, declared
   uncompressed sizes and compression ratios, so that a zip bomb is never inflated;
3. ``torch.load(..., weights_only=True)``: a file whose unpickling would run code is refused,
   never executed;
4. the payload: the format marker and version, plain-data config and metadata (bounded depth,
   size and strings), string keys and tensor values in the state dict;
5. the config (``NTMConfig`` refuses values beyond the limits), then the state dict's keys,
   dtypes and shapes against a model built on the ``meta`` device (no memory), and only then
   the real model.

Every failure ends as one :class:`CheckpointError` naming the file. Metadata fields of the wrong
type are not fatal: :func:`clean_metadata` replaces them with ``None`` and lists them in
``model.metadata_problems``; weights holding NaN or infinity are listed in
``model.nonfinite_weights``.
"""

from __future__ import annotations

import os
import reprlib
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from . import limits

FORMAT = "ntm-explorer-checkpoint"
VERSION = 1
#: Files larger than this are refused before anything is read.
MAX_BYTES = limits.MAX_CHECKPOINT_BYTES
#: The metadata entry where the training code keeps its resume state (optimiser moments and
#: random-generator states are tensors, optimiser state dicts have integer keys).
TRAINING_STATE = "training_state"


class CheckpointError(ValueError):
    """A file is not a usable checkpoint. The message names the file and the problem."""


class _Refused(Exception):
    """A check failed; :func:`_refusals` turns it into a CheckpointError naming the file."""


def _model_types() -> dict:
    from .baseline import LSTMBaseline, LSTMBaselineConfig
    from .model import NTM, NTMConfig

    return {"ntm": (NTM, NTMConfig), "lstm": (LSTMBaseline, LSTMBaselineConfig)}


# ------------------------------------------------------------------------------------ saving


def save_model(model: nn.Module, path: str | os.PathLike, **metadata) -> Path:
    """Save ``model`` (an :class:`ntm.NTM` or baseline) with ``metadata`` to ``path`` atomically.

    Metadata values must be plain data (str, int, float, bool, None, lists, tuples, dicts with
    string keys), e.g. ``task="copy", sequences_seen=12000, curve=[...]``; only the training
    code's ``training_state`` may hold tensors. They are merged over the model's existing
    ``metadata`` and available after loading as ``model.metadata``. Metadata that
    :func:`load_model` would refuse raises :class:`CheckpointError` before anything is written.
    """
    path = Path(path)
    merged = {**getattr(model, "metadata", {}), **metadata}
    try:
        _check_metadata(merged)
    except _Refused as exc:
        raise CheckpointError(f"{path}: not saved: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_type": model.model_type,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metadata": merged,
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; a checkpoint is an ordinary, readable file
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    model.metadata = merged
    return path


# ----------------------------------------------------------------------------------- loading


def read_checkpoint(path: str | os.PathLike, max_bytes: int = MAX_BYTES) -> dict:
    """Read and validate the raw checkpoint dict (no model is built, metadata is not cleaned)."""
    path = Path(path)
    with _refusals(path):
        return _read(path, max_bytes)


def load_model(
    path: str | os.PathLike, device: str | torch.device | None = None, max_bytes: int = MAX_BYTES
) -> nn.Module:
    """Load a model saved by :func:`save_model` onto ``device`` (default CPU), in eval mode.

    The model's config is ``model.config``, its metadata ``model.metadata`` (``model.task`` is
    the task name) with fields of the wrong type set to ``None`` and named in
    ``model.metadata_problems``; ``model.nonfinite_weights`` names the weights holding NaN or
    infinity (empty when all are finite). Any problem raises :class:`CheckpointError` naming
    the file, never another exception.
    """
    path = Path(path)
    with _refusals(path):
        payload = _read(path, max_bytes)
        model = _build_model(payload)
        model.metadata, model.metadata_problems = clean_metadata(payload["metadata"])
        model.nonfinite_weights = nonfinite_weight_names(model)
        model.eval()
        return model.to(device) if device is not None else model


@contextmanager
def _refusals(path: Path) -> Iterator[None]:
    """Turn every failure (ours or torch's, MemoryError included) into one CheckpointError."""
    try:
        yield
    except _Refused as exc:
        raise CheckpointError(f"{path}: {exc}") from exc.__cause__
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint: {_describe(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, bounded in length ("" if none)."""
    try:
        lines = str(exc).strip().splitlines()
    except Exception:  # str() itself may fail on hostile values (e.g. huge integers)
        lines = []
    return lines[0][:200] if lines else ""


def _describe(exc: BaseException) -> str:
    """The exception's type and the first line of its message."""
    line = _first_line(exc)
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def _short(value: object) -> str:
    """A bounded repr of an untrusted value, for messages."""
    try:
        return reprlib.repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _read(path: Path, max_bytes: int) -> dict:
    """The checks in the order of the module docstring, up to the validated payload."""
    _check_file(path, max_bytes)
    _check_zip(path, max_bytes)
    payload = _torch_load(path)
    _check_payload(payload)
    return payload


def _check_file(path: Path, max_bytes: int) -> None:
    """Exists, is not empty, is not larger than ``max_bytes``: before a byte is read."""
    if not path.is_file():
        raise _Refused("no such checkpoint file")
    size = path.stat().st_size
    if size == 0:
        raise _Refused("the file is empty")
    if size > max_bytes:
        raise _Refused(
            f"{size / 2**20:.1f} MiB is larger than the {max_bytes / 2**20:.0f} MiB "
            "a checkpoint may be"
        )


def _torch_load(path: Path) -> object:
    """``torch.load`` with ``weights_only``: pickled code is refused, never run."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, random bytes, forbidden pickle globals, ...
        reason = _first_line(exc) or type(exc).__name__
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            reason = ("it contains Python objects other than tensors and plain data "
                      "(refused, not run)")
        raise _Refused(f"not a readable checkpoint: {reason}") from exc


# ---------------------------------------------------------------------------- the zip archive


def _check_zip(path: Path, max_bytes: int) -> None:
    """Refuse what ``torch.load`` would inflate without bound, reading only the zip directory.

    ``torch.load`` allocates every record at its *declared* uncompressed size before checking
    it, so a few MiB of deflated zeros declaring 4 GiB would take 4 GiB of memory.
    """
    with open(path, "rb") as f:
        _check_directory_size(f)
        try:
            with zipfile.ZipFile(f) as archive:
                infos = archive.infolist()
        except zipfile.BadZipFile as exc:
            raise _Refused(f"not a readable checkpoint: damaged zip archive ({exc})") from None
    if len(infos) > limits.MAX_ZIP_MEMBERS:
        raise _Refused(f"the archive has {len(infos)} members, more than {limits.MAX_ZIP_MEMBERS}")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise _Refused("the archive lists a member twice")
    declared = sum(info.file_size for info in infos)
    if declared > max_bytes:
        raise _Refused(
            f"the archive declares {declared / 2**20:.1f} MiB uncompressed, more than the "
            f"{max_bytes / 2**20:.0f} MiB a checkpoint may be (refused, not inflated)"
        )
    for info in infos:
        _check_member(info)


def _check_directory_size(f) -> None:
    """Bound the zip's central directory before ``zipfile`` builds an object per entry.

    Uses the end record exactly as ``zipfile`` finds it (``zipfile._EndRecData``, unchanged
    since Python 2.6), so both read the same directory.
    """
    end = zipfile._EndRecData(f)
    if end is None:
        raise _Refused(
            "not a readable checkpoint: not a zip archive (torch.save's format; files in "
            "torch's legacy format or other formats are refused)"
        )
    size = end[zipfile._ECD_SIZE]
    if size > limits.MAX_ZIP_DIRECTORY_BYTES:
        raise _Refused(
            f"the archive's directory is {size} bytes, more than {limits.MAX_ZIP_DIRECTORY_BYTES}"
        )


def _check_member(info: zipfile.ZipInfo) -> None:
    """One member: unencrypted, stored or deflated, sizes consistent, ratio and pickle bounded."""
    name = _short(info.filename)
    if info.flag_bits & 0x1:
        raise _Refused(f"archive member {name} is encrypted")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise _Refused(f"archive member {name} declares sizes that disagree")
    elif info.compress_type != zipfile.ZIP_DEFLATED:
        raise _Refused(f"archive member {name} uses an unsupported compression")
    elif (
        info.file_size >= limits.RATIO_CHECKED_FROM
        and info.file_size > limits.MAX_COMPRESSION_RATIO * info.compress_size
    ):
        raise _Refused(
            f"archive member {name} would inflate {info.compress_size} bytes to "
            f"{info.file_size} (more than {limits.MAX_COMPRESSION_RATIO} times: refused)"
        )
    if info.filename.rsplit("/", 1)[-1] == "data.pkl" and info.file_size > limits.MAX_PICKLE_BYTES:
        raise _Refused(
            f"its pickle is {info.file_size} bytes, more than {limits.MAX_PICKLE_BYTES}"
        )


# -------------------------------------------------------------------------------- the payload


def _check_payload(payload: object) -> None:
    """The marker, the version, and the shape of the dict ``save_model`` writes."""
    marker = payload.get("format") if isinstance(payload, dict) else None
    if not isinstance(marker, str) or marker != FORMAT:
        raise _Refused(f"not an NTM Explorer checkpoint (no '{FORMAT}' marker)")
    version = payload.get("version")
    if type(version) is not int or version != VERSION:
        raise _Refused(
            f"checkpoint version {_short(version)} is not supported "
            f"(this code reads version {VERSION})"
        )
    for key in ("config", "state_dict", "metadata"):
        if not isinstance(payload.get(key), dict):
            raise _Refused(f"checkpoint has no valid '{key}'")
    rest = {k: v for k, v in payload.items() if k not in ("state_dict", "metadata")}
    _check_plain(rest, ("checkpoint",), [limits.MAX_METADATA_ITEMS])
    _check_metadata(payload["metadata"])
    for key, value in payload["state_dict"].items():
        if not isinstance(key, str):
            raise _Refused(f"state dict key {_short(key)} is not a string")
        if not isinstance(value, torch.Tensor):
            raise _Refused(
                f"state dict entry {_short(key)} has type {type(value).__name__}, not a tensor"
            )


def _check_metadata(meta: dict) -> None:
    """Plain data everywhere, except that the resume state may hold tensors and integer keys."""
    budget = [limits.MAX_METADATA_ITEMS]
    for key, value in meta.items():
        if not isinstance(key, str):
            raise _Refused(f"metadata key {_short(key)} is not a string")
        _check_plain(value, ("metadata", key), budget, key == TRAINING_STATE)


def _check_plain(
    value: object, path: tuple, budget: list, resume: bool = False, depth: int = 0
) -> None:
    """Refuse anything but bounded plain data (see :mod:`ntm.limits`).

    ``path`` locates ``value`` for messages (formatted only on refusal: this runs once per
    value). ``budget`` is a one-item list counting the values left. ``resume`` allows tensors
    and integer dict keys (the optimiser's state dict in the training state).
    """
    budget[0] -= 1
    if budget[0] < 0:
        raise _Refused(f"the metadata holds more than {limits.MAX_METADATA_ITEMS} values")
    if isinstance(value, str):
        if len(value) > limits.MAX_STRING_LENGTH:
            raise _Refused(f"{_where(path)} is a string longer than {limits.MAX_STRING_LENGTH}")
    elif isinstance(value, int):  # bool included
        if not -(2**63) <= value < 2**63:
            raise _Refused(f"{_where(path)} is an integer beyond 64 bits")
    elif value is None or isinstance(value, float) or (resume and isinstance(value, torch.Tensor)):
        pass
    elif isinstance(value, (list, tuple, dict)):
        if depth >= limits.MAX_METADATA_DEPTH:
            raise _Refused(f"{_where(path)} is nested more than {limits.MAX_METADATA_DEPTH} deep")
        _check_items(value, path, budget, resume, depth)
    else:
        kind = type(value).__name__
        raise _Refused(f"{_where(path)} has type {kind}; metadata must be plain data")


def _check_items(
    value: list | tuple | dict, path: tuple, budget: list, resume: bool, depth: int
) -> None:
    """The items of a container, each checked by :func:`_check_plain`."""
    is_dict = isinstance(value, dict)
    keys = (int, str) if resume else str
    for key, item in value.items() if is_dict else enumerate(value):
        if is_dict and not isinstance(key, keys):
            raise _Refused(f"{_where(path)} has a key {_short(key)} that is not a string")
        _check_plain(item, (*path, key), budget, resume, depth + 1)


def _where(path: tuple) -> str:
    """``("metadata", "curve", 0)`` -> ``metadata['curve'][0]``."""
    return path[0] + "".join(f"[{_short(key)}]" for key in path[1:])


# -------------------------------------------------------------------------------- the model


def _build_model(payload: dict) -> nn.Module:
    """The config, then the weights' shapes against it, then (only then) the real model."""
    types = _model_types()
    model_type = payload.get("model_type", "ntm")
    if not isinstance(model_type, str) or model_type not in types:
        raise _Refused(f"unknown model type {_short(model_type)}")
    model_cls, config_cls = types[model_type]
    try:
        config = config_cls.from_dict(payload["config"])
    except (TypeError, ValueError) as exc:
        raise _Refused(f"invalid model config: {_first_line(exc)}") from None
    _check_weights(model_cls, config, payload["state_dict"])
    model = model_cls(config)
    model.load_state_dict(payload["state_dict"])
    return model


def _check_weights(model_cls: Callable, config: object, state_dict: dict) -> None:
    """Keys, dtypes and shapes against a model built on the ``meta`` device (no memory used)."""
    with torch.device("meta"):
        expected = model_cls(config).state_dict()
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    if missing or unexpected:
        which = f"missing {missing[0]!r}" if missing else f"unexpected {_short(unexpected[0])}"
        raise _Refused(f"weights do not match the config: {which}")
    for key, want in expected.items():
        got = state_dict[key]
        if got.layout != torch.strided or not got.is_floating_point():
            raise _Refused(f"weights do not match the config: {key} is a {got.dtype} tensor")
        if got.shape != want.shape:
            raise _Refused(
                f"weights do not match the config: {key} has shape {tuple(got.shape)}, "
                f"the config implies {tuple(want.shape)}"
            )


# ------------------------------------------------------------------------------ the metadata


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_task_params(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and _is_int(v) for k, v in value.items()
    )


#: Numeric fields of a learning-curve point (each optional).
CURVE_FIELDS = ("sequences", "steps", "wall_time", "cost", "bit_errors")


def _is_curve(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, dict) and all(_is_number(p[k]) for k in CURVE_FIELDS if k in p)
        for p in value
    )


#: The metadata fields the library and the pages read, and the test each value must pass.
METADATA_FIELDS: dict[str, Callable[[object], bool]] = {
    "task": _is_str,
    "task_params": _is_task_params,
    "model_kind": _is_str,
    "sequences_seen": _is_number,
    "steps": _is_number,
    "wall_time": _is_number,
    "bit_errors": _is_number,
    "curve": _is_curve,
    "command": _is_str,
    "commands": lambda v: isinstance(v, list) and all(map(_is_str, v)),
    "seed": _is_int,
    "status": _is_str,
    "converged": lambda v: isinstance(v, bool),
    "args": lambda v: isinstance(v, dict),
    TRAINING_STATE: lambda v: isinstance(v, dict),
}


def clean_metadata(meta: dict) -> tuple[dict, list[str]]:
    """``(cleaned, problems)``: known fields of the wrong type replaced with ``None``.

    A checkpoint with, say, ``sequences_seen = "many"`` still loads; the page shows the field
    as unknown instead of failing to format it. ``problems`` names the replaced fields in the
    order they appear. Fields not in :data:`METADATA_FIELDS` are kept as they are.
    """
    cleaned, problems = dict(meta), []
    for key, value in meta.items():
        test = METADATA_FIELDS.get(key)
        if test is not None and not test(value):
            cleaned[key] = None
            problems.append(key)
    return cleaned, problems


# ------------------------------------------------------------------------------- the weights


def nonfinite_weight_names(model: nn.Module) -> list[str]:
    """Names of the parameters and buffers that hold NaN or infinity (empty if none)."""
    return [
        name
        for name, value in model.state_dict().items()
        if value.is_floating_point() and not bool(torch.isfinite(value).all())
    ]


def weights_are_finite(model: nn.Module) -> bool:
    """True when every weight is finite: a model that diverged in training is not."""
    return not nonfinite_weight_names(model)


def check_finite(model: nn.Module, path: str | os.PathLike | None = None) -> None:
    """Raise :class:`CheckpointError` if any weight is NaN or infinite (call before saving)."""
    bad = nonfinite_weight_names(model)
    if bad:
        where = f"{path}: " if path is not None else ""
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise CheckpointError(f"{where}the model has NaN or infinite weights in {shown}")
