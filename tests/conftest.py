"""Shared fixtures: small NTM checkpoints in a temporary models folder."""

from __future__ import annotations

import pytest
import torch

import ntm
from ntm import catalogue


def tiny_copy_model(seed: int = 0) -> ntm.NTM:
    torch.manual_seed(seed)
    return ntm.NTM(ntm.NTMConfig(input_size=9, output_size=8, memory_rows=32, memory_width=6,
                                 controller_size=16))


@pytest.fixture
def one_thread():
    """Tiny models run fastest on one thread (and do not fight other jobs for cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """A models folder holding an (untrained) copy NTM, used as the shipped models' folder."""
    folder = tmp_path / "models"
    ntm.save_model(tiny_copy_model(), folder / "copy.pt", task="copy",
                   task_params={"bits": 8, "min_length": 1, "max_length": 20},
                   sequences_seen=1234, wall_time=60.0,
                   curve=[{"sequences": 1000, "cost": 0.5, "bit_errors": 0.05}],
                   command="python -m ntm.train --task copy")
    monkeypatch.setattr(catalogue, "MODELS_DIR", folder)
    return folder
