"""A whole NTM run as one autograd Function: the time loop and its backward pass by hand.

:class:`ntm.fused.MemoryStep` makes the memory's part of a step (eqs. 2-9) one autograd node,
with its loops in C (:mod:`ntm.native`). Around it, each step still records the controller's
``nn.LSTMCell`` and the heads' linear layer in autograd, and on a CPU at these sizes that
bookkeeping (building the graph, then walking it backwards one small node at a time) costs as
much as the memory step itself. :class:`Run` takes the whole sequence instead, for the usual
model: one LSTM layer as controller, on the CPU, with the C step built.

Forward, per step ``t``: the LSTM cell (its input ``[x_t, r_{t-1}]``; the ``x`` part of all
steps is one product before the loop), the heads' linear layer, and the C memory step. Nothing
is recorded; what the backward needs is kept.

Backward, ``t = T-1 ... 0`` (backpropagation through time): the C step's backward, then the
heads' layer's and the LSTM cell's by hand (gates ``i, f, g, o``: ``c_t = f c_{t-1} + i g``,
``h_t = o tanh(c_t)``), carrying ``dL/dh``, ``dL/dc``, ``dL/dM``, ``dL/dw`` and ``dL/dr`` back a
step. The weights' gradients are sums over steps, so each is **one** matrix product over all
``T x B`` rows after the loop, not one per step.

**No allocation per step.** Every step's memory, weightings and what its backward needs (about
0.5 MB per sequence of copy's 41 steps) come from one block taken per run (:func:`_take`).
Allocated per step, glibc handed the freed memory back to the system at the end of each batch
and page-faulted it in again in the next. The block goes back to a small pool when the run's
autograd node is freed (:class:`_Lease`); without gradients (evaluation) two steps' worth are
reused in turn, and the block goes back at once.

The same arithmetic as ``NTM.step`` to float rounding: ``tests/test_sequence.py`` holds values
and gradients to the reference (float64 to 1e-12 and 1e-10, float32 to 1e-6) and runs float64
``gradcheck`` on the Function.
"""

from __future__ import annotations

import math
import threading
from typing import NamedTuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from . import native
from .fused import Layout


class Hidden(NamedTuple):
    """What :func:`run` returns: per step the controller's output and the reads, then the final
    memory, weightings and LSTM state."""

    hidden: Tensor  #: (T, B, controller_size)
    reads: Tensor  #: (T, B, Hr * M)
    memory: Tensor  #: (B, N, M)
    weights: Tensor  #: (B, H, N)
    h: Tensor  #: (B, controller_size)
    c: Tensor  #: (B, controller_size)


#: False makes :func:`supports` answer no: ``NTM.run`` then records each step in autograd
#: (``ntm.fused.MemoryStep``), as before this module (tests, benchmarks).
enabled = True


def supports(model, x: Tensor, memory: Tensor, layout: Layout) -> bool:
    """Whether :class:`Run` can take this run: a one-layer LSTM controller, and inputs the C
    step can run (:func:`ntm.native.supports`: on the CPU, float32 or float64, compiler)."""
    cells = getattr(model.controller, "cells", ())
    return (enabled and len(cells) == 1 and x.dtype == memory.dtype and x.device == memory.device
            and native.supports(memory, memory, memory, layout.shift_width))


# ------------------------------------------------------------------ the block of one run

_POOL: list[Tensor] = []  # blocks whose run is done, at most _POOL_SIZE
_POOL_SIZE = 2  # training holds two runs at once: the next forward comes before the last is freed
_POOL_LOCK = threading.Lock()  # the app runs sessions in threads


def _take(numel: int, dtype: torch.dtype) -> Tensor:
    """A flat block of at least ``numel`` numbers: the smallest free one that fits, or new."""
    with _POOL_LOCK:
        fits = [i for i, b in enumerate(_POOL) if b.dtype == dtype and b.numel() >= numel]
        if fits:
            return _POOL.pop(min(fits, key=lambda i: _POOL[i].numel()))
    return torch.empty(numel, dtype=dtype)


def _give(block: Tensor) -> None:
    """Return a block to the pool, dropping the smallest if it is full."""
    with _POOL_LOCK:
        _POOL.append(block)
        if len(_POOL) > _POOL_SIZE:
            _POOL.pop(min(range(len(_POOL)), key=lambda i: _POOL[i].numel()))


class _Lease:
    """Holds a run's block while its autograd node lives (``ctx.saved``), and returns it to the
    pool when the node is freed: after the last backward, when the graph goes."""

    __slots__ = ("block",)

    def __init__(self, block: Tensor) -> None:
        self.block = block

    def __del__(self) -> None:
        _give(self.block)


def _carve(block: Tensor, shapes: list[tuple[int, ...]]) -> list[Tensor]:
    """Consecutive views of ``block`` with these shapes."""
    views, start = [], 0
    for shape in shapes:
        count = math.prod(shape)
        views.append(block[start:start + count].view(shape))
        start += count
    return views


class Slot(NamedTuple):
    """One step's arrays, views of the run's block."""

    raw: Tensor  #: (B, P) the heads' linear output
    gates: Tensor  #: (B, 4H) the LSTM's pre-activations (scratch)
    acts: Tensor  #: (B, 4H) after the activations
    c: Tensor  #: (B, H)
    tanh_c: Tensor  #: (B, H)
    reads: Tensor  #: (B, Hr, M)
    memory: Tensor  #: (B, N, M) after the step's write
    w: Tensor  #: (B, H_heads, N)
    scratch: Tensor  #: what the C backward needs (native.scratch_size)


def _slot_shapes(batch: int, memory: Tensor, heads: int, hr: int, size: int, raw: int) -> list:
    rows, width = memory.shape[1:]
    return [(batch, raw), (batch, 4 * size), (batch, 4 * size), (batch, size), (batch, size),
            (batch, hr, width), (batch, rows, width), (batch, heads, rows),
            (native.scratch_size(batch, rows, heads, raw),)]


# ------------------------------------------------------------------ the Function


class Run(torch.autograd.Function):
    """``(x, h_0, c_0, M_0, w_0, r_0, LSTM and head weights) -> Hidden``; see the module."""

    @staticmethod
    def forward(ctx, x, h0, c0, memory, weights, reads, w_ih, w_hh, b_ih, b_hh, w_heads, b_heads,
                layout: Layout, keep: bool):
        steps, batch, inputs = x.shape
        size, hr = h0.shape[1], layout.read_heads
        start = inputs + hr * layout.width  # h's columns in the rows below
        shapes = _slot_shapes(batch, memory, weights.shape[1], hr, size, w_heads.shape[0])
        per_slot = sum(math.prod(shape) for shape in shapes)
        slots_count = steps if keep else min(steps, 2)  # without gradients: two, in turn
        rows_shape = (steps + 1, batch, start + size)
        block = _take(math.prod(rows_shape) + slots_count * per_slot, x.dtype)
        # row t: the LSTM's input and state at step t, [x_t, r_{t-1}, h_{t-1}]
        rows, *flat = _carve(block, [rows_shape] + [(per_slot,)] * slots_count)
        slots = [Slot(*_carve(f, shapes)) for f in flat]
        rows[:steps, :, :inputs] = x
        rows[steps, :, :inputs] = 0
        rows[0, :, inputs:start] = reads.reshape(batch, -1)
        rows[0, :, start:] = h0
        w_lstm, b_lstm = torch.cat([w_ih, w_hh], 1), b_ih + b_hh
        w_lstm_t, w_heads_t = w_lstm.t().contiguous(), w_heads.t().contiguous()
        c, kept = c0.contiguous(), []
        memory, weights = memory.contiguous(), weights.contiguous()
        # per step views, made once: indexing a tensor costs microseconds per call
        inputs_t, hs, rs = rows.unbind(0), rows[1:, :, start:].unbind(0), rows[1:, :, inputs:start]
        rs = rs.unbind(0)
        for t in range(steps):
            s = slots[t % slots_count]
            torch.addmm(b_lstm, inputs_t[t], w_lstm_t, out=s.gates)
            native.lstm_cell(s.gates, c, hs[t], s.c, s.acts, s.tanh_c)
            torch.addmm(b_heads, hs[t], w_heads_t, out=s.raw)
            kept.append(native.forward_into(s.raw, memory, weights, layout.shift_width, s.reads,
                                            s.memory, s.w, s.scratch))
            rs[t].copy_(s.reads.view(batch, -1))
            c, memory, weights = s.c, s.memory, s.w
        ctx.layout, ctx.inputs, ctx.saved = layout, inputs, None
        outputs = (rows[1:, :, start:].clone(), rows[1:, :, inputs:start].clone(), memory.clone(),
                   weights.clone(), rows[steps, :, start:].clone(), c.clone())
        lease = _Lease(block)  # back to the pool now, or when the autograd node goes
        if keep:
            ctx.saved = (lease, rows, slots, kept, c0.contiguous(), w_lstm, w_heads)
        return outputs

    @staticmethod
    @once_differentiable
    def backward(ctx, d_hidden, d_reads, d_memory, d_weights, d_h, d_c):
        _, rows, slots, kept, c0, w_lstm, w_heads = ctx.saved
        return _backward(ctx, rows, slots, kept, c0, w_lstm, w_heads,
                         (d_hidden, d_reads, d_memory, d_weights, d_h, d_c))


def _backward(ctx, rows, slots, kept, c0, w_lstm, w_heads, given):
    """:class:`Run`'s backward pass (module docstring): the gradients of its inputs."""
    steps, batch = rows.shape[0] - 1, rows.shape[1]
    layout, inputs, size = ctx.layout, ctx.inputs, c0.shape[1]
    start = rows.shape[2] - size
    d_hidden, d_reads, d_mem, d_w, d_h, d_c = (
        rows.new_zeros(like.shape) if d is None else d
        for d, like in zip(given, (rows[1:, :, start:], rows[1:, :, inputs:start], slots[0].memory,
                                   slots[0].w, c0, c0), strict=True))
    d_r = rows.new_zeros(batch, start - inputs)
    d_gates = rows.new_empty(steps, batch, 4 * size)
    d_raws = rows.new_empty(steps, batch, w_heads.shape[0])
    w_state = w_lstm[:, inputs:].contiguous()  # the gates' weights on [r_{t-1}, h_{t-1}]
    per_step = (d_gates.unbind(0), d_raws.unbind(0), d_hidden.unbind(0), d_reads.unbind(0))
    for t in reversed(range(steps)):
        d_gates_t, d_raw, d_hidden_t, d_reads_t = (views[t] for views in per_step)
        d_read = torch.add(d_reads_t, d_r).view(batch, layout.read_heads, layout.width)
        d_raw_t, d_mem, d_w = native.backward(kept[t], d_read, d_mem, d_w)
        d_raw.copy_(d_raw_t)
        d_h = torch.addmm(d_h, d_raw, w_heads).add_(d_hidden_t)
        s, c_prev = slots[t], slots[t - 1].c if t else c0
        d_c = native.lstm_cell_backward(d_h, d_c, c_prev, s.acts, s.tanh_c, d_gates_t)
        d_state = torch.mm(d_gates_t, w_state)
        d_r, d_h = d_state[:, :start - inputs], d_state[:, start - inputs:]
    # the weights' gradients: sums over all steps, one product each
    d_gates_all, d_raws_all = d_gates.view(steps * batch, -1), d_raws.view(steps * batch, -1)
    d_w_lstm = d_gates_all.t() @ rows[:steps].view(steps * batch, -1)
    d_b = d_gates_all.sum(0)
    hidden = rows[1:, :, start:].reshape(steps * batch, size)
    d_x = None
    if ctx.needs_input_grad[0]:
        d_x = (d_gates_all @ w_lstm[:, :inputs]).view(steps, batch, inputs)
    d_reads0 = d_r.reshape(batch, layout.read_heads, layout.width)
    return (d_x, d_h, d_c, d_mem, d_w, d_reads0, d_w_lstm[:, :start], d_w_lstm[:, start:],
            d_b, d_b, d_raws_all.t() @ hidden, d_raws_all.sum(0), None, None)


def run(model, x: Tensor, state, weight: Tensor, bias: Tensor, layout: Layout) -> Hidden:
    """``model``'s run of ``x`` from ``state`` through :class:`Run` (see :func:`supports`);
    ``weight`` and ``bias`` are both head layers side by side (``NTM._run_fused``)."""
    cell = model.controller.cells[0]
    (h0, c0), = model.controller.split_state(state.controller)
    previous = torch.cat([state.read_weights, state.write_weights], dim=1)
    args = (x, h0, c0, state.memory, previous, state.reads, cell.weight_ih, cell.weight_hh,
            cell.bias_ih, cell.bias_hh, weight, bias)
    keep = torch.is_grad_enabled() and any(a.requires_grad for a in args)
    return Hidden(*Run.apply(*args, layout, keep))
