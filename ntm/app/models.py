"""Loading models for the pages: once per (file, device), shared read-only by every session.

A model carries no state (``ntm.NTM`` takes and returns its state), so one cached instance can
serve every session; each session's run and trace are its own. Uploaded checkpoints are
validated by :func:`ntm.catalogue.load_ntm` and cached by content hash, in a cache bounded both
in entries (:data:`UPLOAD_CACHE_ENTRIES`) and in bytes of weights
(:data:`ntm.limits.MAX_UPLOAD_CACHE_BYTES`), least recently used first out.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import streamlit as st
import torch

from .. import limits
from ..catalogue import load_ntm
from ..checkpoint import MAX_BYTES, CheckpointError, load_model
from ..model import NTM

#: The loaders a cached file may go through: the stepper's (an NTM on a known task, checked)
#: and any checkpoint (the LSTM baseline too).
_LOADERS = {"ntm": load_ntm, "any": load_model}
#: Uploaded models kept at once (all sessions together).
UPLOAD_CACHE_ENTRIES = 8
#: Longest upload name shown in messages.
MAX_NAME_LENGTH = 100


def devices() -> list[str]:
    """The devices this server can run on: always ``cpu``, plus ``cuda`` when present."""
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def _freeze(model: torch.nn.Module) -> torch.nn.Module:
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


@st.cache_resource(show_spinner="Loading the model…", max_entries=32)
def _load_file(path: str, mtime: float, device: str, loader: str):
    return _freeze(_LOADERS[loader](path, device=device))


def shipped_model(path: Path, device: str) -> NTM:
    """A shipped NTM checkpoint, loaded once per (file version, device)."""
    return _load_file(str(path), path.stat().st_mtime, device, "ntm")


def shipped_any(path: Path, device: str = "cpu"):
    """Any shipped checkpoint (NTM or LSTM baseline), loaded once per (file version, device)."""
    return _load_file(str(path), path.stat().st_mtime, device, "any")


# ------------------------------------------------------------------------------- uploads


def model_bytes(model: torch.nn.Module) -> int:
    """Bytes held by a model's parameters and buffers."""
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


class ModelCache:
    """A thread-safe LRU cache of models bounded in entries and in bytes of weights."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[object, tuple[torch.nn.Module, int]] = OrderedDict()

    def get(self, key: object) -> torch.nn.Module | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: object, model: torch.nn.Module) -> None:
        """Keep ``model`` (unless it alone is over the byte bound), dropping the least recently
        used until both bounds hold."""
        size = model_bytes(model)
        with self._lock:
            self._items.pop(key, None)
            if size > self.max_bytes:
                return
            self._items[key] = (model, size)
            while len(self._items) > self.entries or self.total_bytes() > self.max_bytes:
                self._items.popitem(last=False)

    def total_bytes(self) -> int:
        return sum(size for _, size in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_uploads = ModelCache(UPLOAD_CACHE_ENTRIES, limits.MAX_UPLOAD_CACHE_BYTES)


def shown_name(name: object) -> str:
    """An upload's name as messages show it: the last path part, one line, bounded length."""
    text = Path(name).name if isinstance(name, str) else ""
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    if len(text) > MAX_NAME_LENGTH:
        text = text[: MAX_NAME_LENGTH - 1] + "…"
    return text or "the uploaded file"


def load_upload(data: bytes, name: str, device: str) -> NTM:
    """Validate and load an uploaded checkpoint (no caching). Every failure, of any kind, is one
    :class:`CheckpointError` naming the user's file, never our temporary copy."""
    shown = shown_name(name)
    with tempfile.TemporaryDirectory(prefix="ntm-upload-") as tmp:
        path = Path(tmp) / "upload.pt"
        try:
            path.write_bytes(data)
            return _freeze(load_ntm(path, device=device))
        except CheckpointError as exc:
            raise CheckpointError(str(exc).replace(str(path), shown)) from None
        except Exception as exc:  # MemoryError, RuntimeError, TypeError, OSError, ...
            first = (str(exc).strip().splitlines() or [""])[0][:200].replace(str(path), shown)
            reason = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
            raise CheckpointError(f"{shown}: not a usable checkpoint: {reason}") from None


def uploaded_model(data: bytes, name: str, device: str) -> NTM:
    """An uploaded checkpoint (validated, size-capped), cached server-wide by content hash.

    Raises :class:`CheckpointError` (and only that) when the file cannot be used.
    """
    if len(data) > MAX_BYTES:
        raise CheckpointError(
            f"{shown_name(name)}: {len(data) / 2**20:.1f} MiB is larger than the "
            f"{MAX_BYTES / 2**20:.0f} MiB a checkpoint may be"
        )
    key = (hashlib.sha256(data).hexdigest(), device)
    model = _uploads.get(key)
    if model is None:
        with st.spinner("Checking the uploaded checkpoint…"):
            model = load_upload(data, name, device)
        _uploads.put(key, model)
    return model
