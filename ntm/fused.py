"""The fast NTM memory step: eqs. 2-9 for every head in one autograd Function.

:mod:`ntm.addressing`, :mod:`ntm.memory` and :mod:`ntm.heads` are the readable reference, one
small function per equation. Autograd through them records some sixty tiny operations per time
step, and on a CPU (or a GPU at small batches) the per-operation overhead, not the arithmetic,
sets the speed. :class:`MemoryStep` computes the same step -- the head activations, addressing
(eqs. 5-9) for all heads at once, the read (eq. 2) and the erase/add write (eqs. 3-4) -- with a
backward pass derived by hand and written in tensor operations, so autograd sees one node per
step instead of dozens, and the memory-sized work is a handful of batched matrix products.
Where a C compiler is present, the Function runs the same arithmetic as loops in C instead
(:mod:`ntm.native`, the head activations included); the tensor operations below stay the
fallback and the readable account of the backward pass.

Same numerics as the reference: the same max-subtracted softmaxes, the cosine norms
``sqrt(|x|^2 + EPS^2)``, sharpening as ``softmax(gamma * log(max(w~, LOG_FLOOR)))`` and the
activations of :mod:`ntm.heads`; ``tests/test_fused.py`` checks values and gradients against
the reference (float32 to 1e-6) and runs float64 ``gradcheck`` on the extreme cases.

Layout of ``raw`` (the heads' two linear layers side by side, before their activations): for
each of the ``H = Hr + Hw`` heads ``k, beta, g, s, gamma`` (``M + 3 + 2R + 1`` numbers), then for
each write head ``e, a`` (``2M``). Weightings are ``(B, H, N)``, read heads first.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from . import native
from .addressing import EPS, LOG_FLOOR

aten = torch.ops.aten


class Layout(NamedTuple):
    """Sizes that split ``raw`` into the heads' parameters."""

    read_heads: int  #: Hr
    write_heads: int  #: Hw
    width: int  #: M
    shift_width: int  #: 2R + 1

    @property
    def sizes(self) -> list[int]:
        """Per head: k, beta, g, s, gamma."""
        return [self.width, 1, 1, self.shift_width, 1]


def _rolls(w: Tensor, radius: int, sign: int) -> Tensor:
    """``out[..., i, d + R] = w[..., (i - sign * d) mod N]`` for ``d = -R .. R`` (eq. 8's
    ``w(i - d)`` for ``sign = 1``). Rolls: on a CPU, far cheaper than an index gather."""
    return torch.stack([w.roll(sign * d, -1) if d else w for d in range(-radius, radius + 1)], -1)


def _softmax_grad(grad: Tensor, out: Tensor) -> Tensor:
    return torch._softmax_backward_data(grad, out, -1, out.dtype)


# ------------------------------------------------------------------ forward, eq by eq


def _activate(raw: Tensor, layout: Layout) -> tuple[Tensor, ...]:
    """Head activations (table in :mod:`ntm.heads`): k tanh, beta softplus, g sigmoid,
    s softmax, gamma 1 + softplus, e sigmoid, a tanh."""
    batch, heads = raw.shape[0], layout.read_heads + layout.write_heads
    per_head = sum(layout.sizes)
    addressing = raw[:, : heads * per_head].view(batch, heads, per_head)
    k, beta, gate, shift, gamma = torch.split(addressing, layout.sizes, dim=-1)
    erase, add = raw[:, heads * per_head :].view(batch, layout.write_heads, -1).chunk(2, -1)
    return (torch.tanh(k), F.softplus(beta), torch.sigmoid(gate), torch.softmax(shift, -1),
            1 + F.softplus(gamma), torch.sigmoid(erase), torch.tanh(add))


def _address(memory, k, beta, gate, shift, gamma, previous) -> dict:
    """Eqs. 5-9 for all heads against one memory; returns every intermediate for backward."""
    norm_m = torch.sqrt((memory * memory).sum(-1) + EPS * EPS)  # (B, N), eq 6
    norm_k = torch.sqrt((k * k).sum(-1) + EPS * EPS)  # (B, H)
    dot = torch.bmm(k, memory.transpose(1, 2))  # (B, H, N)
    denom = norm_m.unsqueeze(1) * norm_k.unsqueeze(-1)
    cosine = dot / denom  # K[k, M(i)], eq 6
    content = torch.softmax(beta * cosine, -1)  # eq 5
    gated = torch.lerp(previous, content, gate)  # eq 7: g w^c + (1 - g) w_{t-1}
    rolled = _rolls(gated, shift.shape[-1] // 2, 1)  # (B, H, N, 2R+1): w^g(i - d) at [i, d + R]
    shifted = torch.matmul(rolled, shift.unsqueeze(-1)).squeeze(-1)  # eq 8
    floored = shifted.clamp_min(LOG_FLOOR)
    log_w = torch.log(floored)
    sharpened = torch.softmax(gamma * log_w, -1)  # eq 9
    # d(gamma log max(w~, floor)) / dw~, zero below the floor (as clamp_min's gradient)
    slope = torch.where(shifted >= LOG_FLOOR, gamma / floored, 0.0)
    return dict(k=k, beta=beta, gate=gate, shift=shift, previous=previous, norm_m=norm_m,
                norm_k=norm_k, denom=denom, cosine=cosine, content=content, rolled=rolled,
                log_w=log_w, slope=slope, sharpened=sharpened)


def _erase_factors(w_write: Tensor, erase: Tensor) -> list[Tensor]:
    """Per write head ``1 - w(i) e`` (eq. 3), each ``(B, N, M)``."""
    return [1 - w_write[:, h].unsqueeze(-1) * erase[:, h].unsqueeze(-2)
            for h in range(w_write.shape[1])]


def _write(memory: Tensor, w_write: Tensor, erase: Tensor, add: Tensor) -> tuple[Tensor, Tensor]:
    """Erase (eq. 3, the heads' factors multiply) then add (eq. 4); returns (M_t, keep)."""
    if w_write.shape[1] == 1:  # one write head: the outer product w e^T as one bmm
        keep = 1 - torch.bmm(w_write.transpose(1, 2), erase)
    else:
        keep = torch.stack(_erase_factors(w_write, erase)).prod(0)
    return (memory * keep).baddbmm_(w_write.transpose(1, 2), add), keep  # in place: no copy


# ------------------------------------------------------------------ backward, eq by eq


def _address_backward(s: dict, memory: Tensor, w: Tensor, d_w: Tensor) -> tuple[Tensor, ...]:
    """Gradients of eqs. 9 -> 8 -> 7 -> 5 -> 6 given dL/dw; returns
    (d_memory_dot, d_norm_m, dk, dbeta, dgate, dshift, dgamma, dprevious)."""
    dz = _softmax_grad(d_w, w)  # eq 9: w = softmax(gamma log w~)
    dgamma = (dz * s["log_w"]).sum(-1, keepdim=True)
    d_shifted = dz * s["slope"]
    dshift = torch.matmul(d_shifted.unsqueeze(-2), s["rolled"]).squeeze(-2)  # eq 8
    back = _rolls(d_shifted, s["shift"].shape[-1] // 2, -1)  # dL/dw~(j + d) at [j, d + R]
    d_gated = torch.matmul(back, s["shift"].unsqueeze(-1)).squeeze(-1)
    dgate = (d_gated * (s["content"] - s["previous"])).sum(-1, keepdim=True)  # eq 7
    dprevious = (1 - s["gate"]) * d_gated
    du = _softmax_grad(s["gate"] * d_gated, s["content"])  # eq 5: softmax(beta K)
    dbeta = (du * s["cosine"]).sum(-1, keepdim=True)
    d_cos = s["beta"] * du
    denom = s["denom"]  # eq 6: K = dot / (|M| |k|)
    d_dot = d_cos / denom
    d_denom = -d_cos * s["cosine"] / denom
    d_norm_m = (d_denom * s["norm_k"].unsqueeze(-1)).sum(1)  # (B, N)
    d_norm_k = (d_denom * s["norm_m"].unsqueeze(1)).sum(-1, keepdim=True)  # (B, H, 1)
    dk = torch.bmm(d_dot, memory) + s["k"] * (d_norm_k / s["norm_k"].unsqueeze(-1))
    return d_dot, d_norm_m, dk, dbeta, dgate, dshift, dgamma, dprevious


def _write_backward(memory, w_write, erase, add, keep, d_new) -> tuple[Tensor, ...]:
    """Gradients of eqs. 3-4: (d_memory, d_w_write, d_erase, d_add)."""
    d_keep = d_new * memory  # dL/d keep, keep = prod_h (1 - w_h e_h^T)
    if w_write.shape[1] == 1:
        d_factors = d_keep.unsqueeze(1)  # (B, 1, N, M)
    else:  # d keep / d factor_h = the other heads' factors
        factors = _erase_factors(w_write, erase)
        d_factors = torch.stack([
            d_keep * torch.stack([f for i, f in enumerate(factors) if i != h]).prod(0)
            for h in range(len(factors))], 1)
    # add: + w_h a_h^T; erase: factor_h = 1 - w_h e_h^T
    d_w = torch.bmm(add, d_new.transpose(1, 2)) - (d_factors @ erase.unsqueeze(-1)).squeeze(-1)
    d_erase = -(w_write.unsqueeze(-2) @ d_factors).squeeze(-2)
    return d_new * keep, d_w, d_erase, torch.bmm(w_write, d_new)


def _activation_backward(acts, grads, raw: Tensor, layout: Layout) -> Tensor:
    """d raw from the gradients of the activated parameters (same layout as ``raw``)."""
    batch, heads = raw.shape[0], layout.read_heads + layout.write_heads
    per_head = sum(layout.sizes)
    addressing = raw[:, : heads * per_head].view(batch, heads, per_head)
    _, beta_raw, _, _, gamma_raw = torch.split(addressing, layout.sizes, dim=-1)
    k, _, gate, shift, _, erase, add = acts
    dk, dbeta, dgate, dshift, dgamma, derase, dadd = grads
    d_addressing = torch.cat([
        aten.tanh_backward(dk, k), aten.softplus_backward(dbeta, beta_raw, 1.0, 20.0),
        aten.sigmoid_backward(dgate, gate), _softmax_grad(dshift, shift),
        aten.softplus_backward(dgamma, gamma_raw, 1.0, 20.0)], -1)
    d_erase_add = torch.cat([aten.sigmoid_backward(derase, erase), aten.tanh_backward(dadd, add)],
                            -1)
    return torch.cat([d_addressing.reshape(batch, -1), d_erase_add.reshape(batch, -1)], -1)


# ------------------------------------------------------------------ the Function


class MemoryStep(torch.autograd.Function):
    """``(raw, M_{t-1}, w_{t-1}) -> (r_t, M_t, w_t)``: heads, addressing, read, write."""

    @staticmethod
    def forward(ctx, raw: Tensor, memory: Tensor, previous: Tensor, layout: Layout):
        ctx.kept = None
        if native.supports(raw, memory, previous, layout.shift_width):  # loops in C: ntm.native
            reads, new_memory, w, ctx.kept = native.forward(raw, memory, previous,
                                                            layout.read_heads, layout.shift_width)
            ctx.save_for_backward(w)  # not on ctx.kept: see native.Kept
            return reads, new_memory, w
        acts = _activate(raw, layout)
        ctx.layout, ctx.acts = layout, acts
        k, beta, gate, shift, gamma, erase, add = acts
        stages = _address(memory, k, beta, gate, shift, gamma, previous)
        w = stages.pop("sharpened")
        hr = layout.read_heads
        reads = torch.bmm(w[:, :hr], memory)  # eq 2, from M_{t-1}
        new_memory, keep = _write(memory, w[:, hr:], erase, add)
        ctx.stages, ctx.keep = stages, keep
        ctx.save_for_backward(raw, memory, w)
        return reads, new_memory, w

    @staticmethod
    def backward(ctx, d_reads: Tensor, d_new: Tensor, d_w: Tensor):
        if ctx.kept is not None:
            ctx.saved_tensors  # noqa: B018 -- checks that w was not changed in place
            return (*native.backward(ctx.kept, d_reads, d_new, d_w), None)
        raw, memory, w = ctx.saved_tensors
        s, acts, layout, hr = ctx.stages, ctx.acts, ctx.layout, ctx.layout.read_heads
        d_mem, d_w_write, d_erase, d_add = _write_backward(memory, w[:, hr:], acts[5], acts[6],
                                                           ctx.keep, d_new)
        d_w_read = torch.bmm(d_reads, memory.transpose(1, 2))  # eq 2
        d_w = d_w + torch.cat([d_w_read, d_w_write], 1)
        d_dot, d_norm_m, dk, dbeta, dgate, dshift, dgamma, dprev = _address_backward(s, memory, w, d_w)
        # every rank-H update of dL/dM in one product: the reads' and the keys' outer products
        left = torch.cat([w[:, :hr], d_dot], 1).transpose(1, 2)  # (B, N, Hr + H)
        right = torch.cat([d_reads, s["k"]], 1)  # (B, Hr + H, M)
        d_mem.baddbmm_(left, right)  # d_mem is ours (d_new * keep): updated in place
        d_mem.addcmul_(memory, (d_norm_m / s["norm_m"]).unsqueeze(-1))  # the row norms |M(i)|
        grads = (dk, dbeta, dgate, dshift, dgamma, d_erase, d_add)
        return _activation_backward(acts, grads, raw, layout), d_mem, dprev, None


def memory_step(raw: Tensor, memory: Tensor, previous: Tensor,
                layout: Layout) -> tuple[Tensor, Tensor, Tensor]:
    """One NTM memory step (eqs. 2-9 for every head). ``raw`` ``(B, P)`` is the heads' linear
    output before activations (module docstring); ``memory`` ``(B, N, M)``; ``previous``
    ``(B, H, N)``. Returns reads ``(B, Hr, M)``, the new memory and the weightings ``(B, H, N)``.
    """
    return MemoryStep.apply(raw, memory, previous, layout)
