"""The playground's engine: one state in, every stage of eqs. 2-9 out (:func:`compute`).

The math is :mod:`ntm.addressing` and :mod:`ntm.memory`, called exactly as a model's head calls
them; this module only builds their inputs from the settings and hands back numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import addressing
from .. import memory as memory_ops
from .inputs import (
    build_kernel,
    build_key,
    build_memory,
    build_vector,
    column_labels,
    key_rows,
    row_labels,
    start_weighting,
)
from .settings import Settings, clamp


@dataclass(frozen=True)
class Result:
    """Everything one playground state shows, as numpy arrays (1-D vectors are ``(N,)``)."""

    settings: Settings
    memory: np.ndarray  #: M, (N, M)
    key: np.ndarray  #: k, (M,)
    similarity: np.ndarray  #: K[k, M(i)], eq. 6, (N,)
    kernel: np.ndarray  #: s normalised, (2R+1,)
    previous: np.ndarray  #: w_{t-1}
    content: np.ndarray  #: w^c, eq. 5
    gated: np.ndarray  #: w^g, eq. 7
    shifted: np.ndarray  #: w~, eq. 8
    sharpened: np.ndarray  #: w, eq. 9
    read: np.ndarray  #: r, eq. 2, (M,)
    erase: np.ndarray  #: e, (M,)
    add: np.ndarray  #: a, (M,)
    written: np.ndarray  #: memory after the write, eqs. 3-4, (N, M)
    row_labels: list[str] | None  #: names of the rows (drinks), if they have any
    column_labels: list[str]
    key_rows: tuple[int, ...]  #: the rows the key was made from

    @property
    def stages(self) -> dict[str, np.ndarray]:
        return {
            "previous": self.previous,
            "content": self.content,
            "gated": self.gated,
            "shifted": self.shifted,
            "sharpened": self.sharpened,
        }


def head_tensors(settings: Settings) -> dict[str, torch.Tensor]:
    """``beta, gate, gamma`` as ``(1, 1)`` and the kernel as ``(1, 2R + 1)``."""
    return {
        "beta": torch.tensor([[float(settings["beta"])]]),
        "gate": torch.tensor([[float(settings["g"])]]),
        "kernel": build_kernel(settings).unsqueeze(0),
        "gamma": torch.tensor([[float(settings["gamma"])]]),
    }


def _np(t: torch.Tensor) -> np.ndarray:
    return t.squeeze(0).detach().numpy().astype(np.float64)


def compute(settings: Settings) -> Result:
    """Run eqs. 2-9 for one playground state.

    ``w_{t-1}`` is the start focus after ``steps`` applications of the same pipeline (each
    step's result is the next step's ``w_{t-1}``), so "apply again" is reproducible from a URL.
    """
    settings = clamp(settings)
    m = build_memory(settings).unsqueeze(0)
    k = build_key(settings, m[0]).unsqueeze(0)
    head = head_tensors(settings)

    def address(previous: torch.Tensor) -> addressing.Addressing:
        return addressing.address(
            m, k, head["beta"], head["gate"], head["kernel"], head["gamma"], previous
        )

    previous = start_weighting(settings).unsqueeze(0)
    for _ in range(int(settings["steps"])):
        previous = address(previous).sharpened
    stages = address(previous)
    w = stages.sharpened
    erase = torch.full((1, settings.width), float(settings["erase"]))
    add = build_vector(settings["add"], k[0]).unsqueeze(0)
    return Result(
        settings=settings,
        memory=_np(m),
        key=_np(k),
        similarity=_np(addressing.similarity(m, k)),
        kernel=_np(head["kernel"]),
        previous=_np(previous),
        content=_np(stages.content),
        gated=_np(stages.gated),
        shifted=_np(stages.shifted),
        sharpened=_np(w),
        read=_np(memory_ops.read(m, w)),
        erase=_np(erase),
        add=_np(add),
        written=_np(memory_ops.write(m, w, erase, add)),
        row_labels=row_labels(settings),
        column_labels=column_labels(settings),
        key_rows=key_rows(settings),
    )


def readouts(result: Result) -> dict[str, str]:
    """One line of live numbers per control, in words (shown under the sliders)."""
    s = result.settings
    c, sh, w = result.content, result.shifted, result.sharpened
    top = int(np.argmax(c))
    gate = float(s["g"])
    return {
        "content": f"row {top} matches best (cos {result.similarity[top]:+.2f}) and gets "
        f"{c[top]:.0%} of the weight",
        "gated": f"{gate:.0%} content focus + {1 - gate:.0%} previous focus",
        "shifted": _shift_words(result.kernel, s.radius),
        "sharpened": f"largest weight {sh.max():.2f} → {w.max():.2f}",
    }


def _shift_words(kernel: np.ndarray, radius: int) -> str:
    used = [d for d, v in zip(range(-radius, radius + 1), kernel, strict=True) if v > 0.005]
    if used == [0]:
        return "s(0) = 1 leaves the focus where it is"
    if len(used) == 1:
        way = "down" if used[0] > 0 else "up"
        return f"moves the focus {abs(used[0])} row{'s' if abs(used[0]) > 1 else ''} {way}"
    return f"spreads every weight over {len(used)} offsets: a blur"
