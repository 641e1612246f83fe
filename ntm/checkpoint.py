"""Saving and loading models: one file with config, weights and metadata.

The file is a ``torch.save`` of a plain dict (strings, numbers, lists, dicts and tensors only),
written to a temporary file beside the target and renamed over it, so a crash never leaves a
half-written checkpoint. Loading uses ``torch.load(..., weights_only=True)``: a file whose
unpickling would run code is refused, never executed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import nn

FORMAT = "ntm-explorer-checkpoint"
VERSION = 1
#: Files larger than this are refused before anything is read.
MAX_BYTES = 100 * 1024 * 1024


class CheckpointError(ValueError):
    """A file is not a usable checkpoint. The message names the file and the problem."""


def _model_types() -> dict:
    from .baseline import LSTMBaseline, LSTMBaselineConfig
    from .model import NTM, NTMConfig

    return {"ntm": (NTM, NTMConfig), "lstm": (LSTMBaseline, LSTMBaselineConfig)}


def save_model(model: nn.Module, path: str | os.PathLike, **metadata) -> Path:
    """Save ``model`` (an :class:`ntm.NTM` or baseline) with ``metadata`` to ``path`` atomically.

    Metadata values must be plain data (str, int, float, bool, None, lists, dicts, tensors),
    e.g. ``task="copy", sequences_seen=12000, curve=[...]``. They are merged over the model's
    existing ``metadata`` and available after loading as ``model.metadata``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = {**getattr(model, "metadata", {}), **metadata}
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


def read_checkpoint(path: str | os.PathLike, max_bytes: int = MAX_BYTES) -> dict:
    """Read and validate the raw checkpoint dict (no model is built)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{path}: the file is empty")
    if size > max_bytes:
        raise CheckpointError(
            f"{path}: {size / 2**20:.1f} MiB is larger than the {max_bytes / 2**20:.0f} MiB "
            "a checkpoint may be"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, random bytes, forbidden pickle globals, ...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            reason = "it contains Python objects other than tensors and plain data (refused, not run)"
        raise CheckpointError(f"{path}: not a readable checkpoint: {reason}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an NTM Explorer checkpoint (no '{FORMAT}' marker)")
    if payload.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {payload.get('version')!r} is not supported "
            f"(this code reads version {VERSION})"
        )
    for key, kind in (("config", dict), ("state_dict", dict), ("metadata", dict)):
        if not isinstance(payload.get(key), kind):
            raise CheckpointError(f"{path}: checkpoint has no valid '{key}'")
    return payload


def load_model(
    path: str | os.PathLike, device: str | torch.device | None = None, max_bytes: int = MAX_BYTES
) -> nn.Module:
    """Load a model saved by :func:`save_model` onto ``device`` (default CPU), in eval mode.

    The model's config is ``model.config``, its metadata ``model.metadata`` (``model.task`` is
    the task name). Any problem raises :class:`CheckpointError` naming the file.
    """
    payload = read_checkpoint(path, max_bytes)
    types = _model_types()
    model_type = payload.get("model_type", "ntm")
    if model_type not in types:
        raise CheckpointError(f"{path}: unknown model type {model_type!r}")
    model_cls, config_cls = types[model_type]
    try:
        config = config_cls.from_dict(payload["config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: invalid model config: {exc}") from exc
    model = model_cls(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise CheckpointError(f"{path}: weights do not match the config: {detail}") from exc
    model.metadata = payload["metadata"]
    model.eval()
    return model.to(device) if device is not None else model
