"""Loading models for the pages: once per (file, device), shared read-only by every session.

A model carries no state (``ntm.NTM`` takes and returns its state), so one cached instance can
serve every session; each session's run and trace are its own. Uploaded checkpoints are
validated by :func:`ntm.catalogue.load_ntm` and cached by content hash.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import streamlit as st
import torch

from ..catalogue import load_ntm
from ..checkpoint import MAX_BYTES, CheckpointError, load_model
from ..model import NTM

#: The loaders a cached file may go through: the stepper's (an NTM on a known task, checked)
#: and any checkpoint (the LSTM baseline too).
_LOADERS = {"ntm": load_ntm, "any": load_model}


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


@st.cache_resource(show_spinner="Checking the uploaded checkpoint…", max_entries=8)
def _load_upload(digest: str, _data: bytes, name: str, device: str) -> NTM:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(_data)
        try:
            return _freeze(load_ntm(path, device=device))
        except CheckpointError as exc:  # name the user's file, not our temporary copy
            raise CheckpointError(str(exc).replace(str(path), name)) from None


def uploaded_model(data: bytes, name: str, device: str) -> NTM:
    """An uploaded checkpoint (validated, size-capped), cached by its content hash."""
    if len(data) > MAX_BYTES:
        raise CheckpointError(
            f"{name}: {len(data) / 2**20:.1f} MiB is larger than the "
            f"{MAX_BYTES / 2**20:.0f} MiB a checkpoint may be"
        )
    return _load_upload(hashlib.sha256(data).hexdigest(), data, name, device)
