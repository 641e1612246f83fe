"""Reading from and writing to NTM memory (Graves et al. 2014, eqs. 2-4).

Memory is ``(B, N, M)``. Weightings are ``(B, N)`` for one head or ``(B, H, N)`` for H heads;
erase and add vectors are ``(B, M)`` or ``(B, H, M)`` to match.
"""

from __future__ import annotations

from torch import Tensor


def read(memory: Tensor, weighting: Tensor) -> Tensor:
    """Read vector (eq. 2): ``r = sum_i w(i) M(i)``.

    ``(B, N, M)`` with ``(B, N)`` gives ``(B, M)``; with ``(B, H, N)`` gives ``(B, H, M)``.
    """
    if weighting.dim() == memory.dim() - 1:
        return (weighting.unsqueeze(-1) * memory).sum(-2)
    return weighting @ memory


def _heads(weighting: Tensor, vector: Tensor) -> tuple[Tensor, Tensor]:
    """View single-head arguments as one head: ``(B, N) -> (B, 1, N)``, ``(B, M) -> (B, 1, M)``."""
    if weighting.dim() == 2:
        return weighting.unsqueeze(1), vector.unsqueeze(1)
    return weighting, vector


def erase(memory: Tensor, weighting: Tensor, erase_vector: Tensor) -> Tensor:
    """Erase (eq. 3): ``M~(i) = M(i) * (1 - w(i) e)``, ``e in (0, 1)^M``.

    With several write heads the erase factors multiply (the paper: "multiple erase operations
    can be performed in any order").
    """
    w, e = _heads(weighting, erase_vector)
    keep = 1 - w.unsqueeze(-1) * e.unsqueeze(-2)  # (B, H, N, M)
    return memory * keep.prod(dim=1)


def add(memory: Tensor, weighting: Tensor, add_vector: Tensor) -> Tensor:
    """Add (eq. 4): ``M(i) = M~(i) + w(i) a``; several heads' additions sum (order-free)."""
    w, a = _heads(weighting, add_vector)
    return memory + w.transpose(-1, -2) @ a


def write(memory: Tensor, weighting: Tensor, erase_vector: Tensor, add_vector: Tensor) -> Tensor:
    """One write: every head erases (eq. 3), then every head adds (eq. 4). Returns new memory."""
    return add(erase(memory, weighting, erase_vector), weighting, add_vector)
