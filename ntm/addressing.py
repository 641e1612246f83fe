"""NTM memory addressing, one function per equation of Graves et al. (2014), section 3.3.

Shapes (batched, no loop over the batch or the rows):

* memory ``(B, N, M)``: N locations (rows) of width M
* key ``(B, M)``; a weighting ``(B, N)``; ``beta``, ``gate``, ``gamma`` ``(B, 1)``
* shift kernel ``(B, 2R + 1)`` for offsets ``-R .. +R`` in that order

Every function also accepts extra leading dimensions (for example ``(B, H, N)`` for H heads)
as long as all arguments share them.

Shift convention: offset ``+1`` with ``s(+1) = 1`` moves all weight from row ``i`` to row
``i + 1`` (the focus moves one row *down*); indices wrap around circularly (eq. 8).

Numerics: the softmaxes subtract their maximum (``torch.softmax`` does), the cosine uses
``sqrt(|x|^2 + eps^2)`` as the norm so a zero key or a zero row gives similarity 0 with finite
gradients, and sharpening is done in log space so ``gamma`` up to 100 and beyond neither
overflows nor underflows to an all-zero weighting.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import torch
from torch import Tensor

#: Added (squared) inside the cosine norms: |x| is computed as sqrt(|x|^2 + EPS^2).
EPS = 1e-8
#: Weights are floored at this value before the log in :func:`sharpen`. It keeps
#: gamma / w (the log's gradient) finite in float32 even for gamma far above 100.
LOG_FLOOR = 1e-30


class Addressing(NamedTuple):
    """The four stages of one addressing pass (each ``(..., N)``)."""

    content: Tensor  #: w^c, eq. 5
    gated: Tensor  #: w^g, eq. 7
    shifted: Tensor  #: w~, eq. 8
    sharpened: Tensor  #: w, eq. 9 -- the weighting used to read and write


def _norm(x: Tensor, eps: float = EPS) -> Tensor:
    return torch.sqrt((x * x).sum(-1) + eps * eps)


def similarity(memory: Tensor, key: Tensor, eps: float = EPS) -> Tensor:
    """Cosine similarity K[k, M(i)] between the key and every row (eq. 6).

    ``K[u, v] = u . v / (|u| |v|)``. Returns ``(B, N)`` in ``[-1, 1]``; 0 for a zero key or a
    zero row.
    """
    dot = (memory * key.unsqueeze(-2)).sum(-1)
    return dot / (_norm(memory, eps) * _norm(key, eps).unsqueeze(-1))


def content_weighting(memory: Tensor, key: Tensor, beta: Tensor) -> Tensor:
    """Content addressing (eq. 5): ``w^c(i) = softmax_i(beta * K[k, M(i)])``.

    ``beta > 0`` is the key strength: large beta concentrates the weighting on the most similar
    rows, beta near 0 spreads it uniformly.
    """
    return torch.softmax(beta * similarity(memory, key), dim=-1)


def interpolate(content: Tensor, previous: Tensor, gate: Tensor) -> Tensor:
    """Interpolation (eq. 7): ``w^g = g * w^c + (1 - g) * w_{t-1}``.

    ``g = 1`` keeps the content weighting, ``g = 0`` ignores it and keeps the previous focus.
    """
    return gate * content + (1 - gate) * previous


@lru_cache(maxsize=64)
def shift_indices(n: int, radius: int, device: torch.device | None = None) -> Tensor:
    """Index table ``idx[i, d + R] = (i - d) mod N`` for offsets ``d = -R .. +R``.

    Gathering ``w[..., idx]`` lines up ``w(i - d)`` with ``s(d)`` for every row at once.
    Cached per (N, R, device); the table is never written to.
    """
    rows = torch.arange(n, device=device).unsqueeze(1)
    offsets = torch.arange(-radius, radius + 1, device=device).unsqueeze(0)
    return (rows - offsets) % n


def shift(weighting: Tensor, kernel: Tensor) -> Tensor:
    """Circular convolution with the shift kernel (eq. 8): ``w~(i) = sum_j w^g(j) s(i - j)``.

    ``kernel`` has ``2R + 1`` entries for offsets ``-R .. +R``. With ``s(+d) = 1`` the result is
    ``torch.roll(weighting, d, -1)``: every weight moves ``d`` rows down, wrapping around.
    One gather and one weighted sum, whatever R and N (requires ``2R + 1 <= N``).
    """
    n = weighting.shape[-1]
    width = kernel.shape[-1]
    if width % 2 != 1:
        raise ValueError(f"shift kernel needs an odd number of entries (2R+1), got {width}")
    if width > n:
        raise ValueError(f"shift kernel of {width} entries does not fit {n} memory rows")
    idx = shift_indices(n, width // 2, weighting.device)  # (N, 2R+1)
    return (weighting[..., idx] * kernel.unsqueeze(-2)).sum(-1)


def sharpen(weighting: Tensor, gamma: Tensor) -> Tensor:
    """Sharpening (eq. 9): ``w(i) = w~(i)^gamma / sum_j w~(j)^gamma``, ``gamma >= 1``.

    Computed as ``softmax(gamma * log w~)`` so large gamma stays finite and sums to 1; exact zeros
    stay (numerically) zero.
    """
    return torch.softmax(gamma * torch.log(weighting.clamp_min(LOG_FLOOR)), dim=-1)


def address(
    memory: Tensor,
    key: Tensor,
    beta: Tensor,
    gate: Tensor,
    kernel: Tensor,
    gamma: Tensor,
    previous: Tensor,
) -> Addressing:
    """The full addressing pipeline (Figure 2 of the paper): eqs. 5 -> 7 -> 8 -> 9.

    Returns every stage so the explorer can draw them; ``.sharpened`` is the final weighting.
    """
    content = content_weighting(memory, key, beta)
    gated = interpolate(content, previous, gate)
    shifted = shift(gated, kernel)
    return Addressing(content, gated, shifted, sharpen(shifted, gamma))
