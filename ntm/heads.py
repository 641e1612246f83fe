"""Read and write heads: map the controller output to the addressing parameters (section 3.3).

Two linear layers serve every head: one emits all heads' addressing parameters ``k, beta, g, s,
gamma`` at once (read and write heads alike, so they address memory in one batched call), the
other the write heads' erase and add vectors. The activations below (fixed by the design
contract) put each parameter in its legal range:

=========  ================  ==========================================
parameter  activation        range
=========  ================  ==========================================
``k``      tanh              key, ``(-1, 1)^M``
``beta``   softplus          key strength, ``> 0``
``g``      sigmoid           interpolation gate, ``(0, 1)``
``s``      softmax           shift kernel over offsets ``-R .. +R``
``gamma``  1 + softplus      sharpening exponent, ``>= 1``
``e``      sigmoid           erase vector (write heads), ``(0, 1)^M``
``a``      tanh              add vector (write heads), ``(-1, 1)^M``
=========  ================  ==========================================
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def write_strength(erase, add):
    """How hard a write head writes at each step: ``mean(e) + mean(a^2)`` over the last axis
    (``(..., M)`` erase and add vectors, tensors or arrays). Its weighting sums to 1, so a step
    erases about ``w(i) e`` from row ``i`` and adds ``w(i) a`` (eqs. 3-4) wherever it points:
    what ``--answer-write-penalty`` trains down and what the copy narration reports."""
    return erase.mean(-1) + (add * add).mean(-1)


class HeadParams(NamedTuple):
    """Activated head parameters, each with a head axis: ``(B, H, ...)``."""

    key: Tensor  #: (B, H, M)
    beta: Tensor  #: (B, H, 1)
    gate: Tensor  #: (B, H, 1)
    shift: Tensor  #: (B, H, 2R + 1)
    gamma: Tensor  #: (B, H, 1)
    erase: Tensor | None = None  #: (B, H, M), write heads only
    add: Tensor | None = None  #: (B, H, M), write heads only


class Heads(nn.Module):
    """All heads of one NTM: ``read_heads`` read heads followed by ``write_heads`` write heads.

    One linear layer emits every head's addressing parameters ``k, beta, g, s, gamma`` at once,
    so all heads address the memory in a single batched call; a second layer emits the write
    heads' erase and add vectors.
    """

    def __init__(
        self, controller_size: int, read_heads: int, write_heads: int, width: int, shift_range: int
    ) -> None:
        super().__init__()
        self.read_count, self.write_count, self.width = read_heads, write_heads, width
        self.sizes = [width, 1, 1, 2 * shift_range + 1, 1]
        self.addressing = nn.Linear(controller_size, (read_heads + write_heads) * sum(self.sizes))
        self.erase_add = nn.Linear(controller_size, write_heads * 2 * width)

    def forward(self, controller_output: Tensor) -> HeadParams:
        """Parameters of all heads, ``(B, Hr + Hw, ...)``; ``erase``/``add`` are ``(B, Hw, M)``."""
        batch = controller_output.shape[0]
        raw = self.addressing(controller_output).view(batch, self.read_count + self.write_count, -1)
        key, beta, gate, shift, gamma = torch.split(raw, self.sizes, dim=-1)
        erase, add = self.write_vectors(controller_output)
        return HeadParams(
            key=torch.tanh(key),
            beta=F.softplus(beta),
            gate=torch.sigmoid(gate),
            shift=torch.softmax(shift, dim=-1),
            gamma=1 + F.softplus(gamma),
            erase=erase,
            add=add,
        )

    def write_vectors(self, controller_output: Tensor) -> tuple[Tensor, Tensor]:
        """The write heads' erase and add vectors, ``(..., Hw, M)`` each, from controller
        outputs ``(..., controller_size)`` (one step or a whole run at once)."""
        raw = self.erase_add(controller_output).unflatten(-1, (self.write_count, 2, self.width))
        return torch.sigmoid(raw[..., 0, :]), torch.tanh(raw[..., 1, :])

    @torch.no_grad()
    def set_gate_bias(self, value: float) -> None:
        """Set every head's interpolation-gate bias (an initialisation choice).

        A negative value starts the heads location-based (``g = sigmoid(value)`` near 0 keeps
        the previous weighting, eq 7), so a write head moves along memory by its shift instead of
        jumping back, by content, to a row it wrote before; content addressing is learned on top.
        """
        per_head = sum(self.sizes)
        gate = self.sizes[0] + self.sizes[1]  # after the key and beta
        bias = self.addressing.bias.view(self.read_count + self.write_count, per_head)
        bias[:, gate] = value

    def split(self, params: HeadParams) -> tuple[HeadParams, HeadParams]:
        """Views of the read heads' and the write heads' parameters."""
        r = self.read_count
        read = HeadParams(*(p[:, :r] for p in params[:5]))
        write = HeadParams(*(p[:, r:] for p in params[:5]), params.erase, params.add)
        return read, write
