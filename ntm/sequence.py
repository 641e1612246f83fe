"""A whole NTM run as one autograd Function: the time loop and its backward pass by hand.

:class:`ntm.fused.MemoryStep` makes the memory's part of a step (eqs. 2-9) one autograd node,
with its loops in C (:mod:`ntm.native`). Around it, each step still records the controller
(an ``nn.LSTMCell`` or a tanh layer) and the heads' linear layer in autograd, and on a CPU at
these sizes that bookkeeping (building the graph, then walking it backwards one small node at a
time) costs as much as the memory step itself. :class:`Run` takes the whole sequence instead,
for a controller of one layer, on the CPU, with the C step built.

Forward, per step ``t``: one matrix product for the controller, whose input row holds
``[x_t, r_{t-1}]`` and, for the LSTM, ``h_{t-1}`` (so input, reads and state are one product);
the LSTM cell's pointwise arithmetic in C (``ntm/csrc/lstm_cell.h``), or tanh; one product for
both head layers; the C memory step. Nothing is recorded; what the backward needs is kept.

Backward, ``t = T-1 ... 0`` (backpropagation through time): the C step's backward, then the
heads' layer's and the controller's by hand (the LSTM's gates ``i, f, g, o``:
``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``), carrying ``dL/dh``, ``dL/dc``, ``dL/dM``,
``dL/dw`` and ``dL/dr`` back a step. The weights' gradients are sums over steps, so each is
**one** matrix product over all ``T x B`` rows after the loop, not one per step.

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
    memory, weightings and controller state (as the controller's ``join_state`` gives it)."""

    hidden: Tensor  #: (T, B, controller_size)
    reads: Tensor  #: (T, B, Hr * M)
    memory: Tensor  #: (B, N, M)
    weights: Tensor  #: (B, H, N)
    controller: tuple  #: the LSTM's stacked (h, c); () for the feed-forward controller


#: False makes :func:`supports` answer no: ``NTM.run`` then records each step in autograd
#: (``ntm.fused.MemoryStep``), as before this module (tests, benchmarks).
enabled = True


def supports(model, x: Tensor, memory: Tensor, layout: Layout) -> bool:
    """Whether :class:`Run` can take this run: at least one step, a controller of one layer
    (LSTM or feed-forward), and inputs the C step can run (:func:`ntm.native.supports`: on
    the CPU, float32 or float64, a C compiler)."""
    layers = getattr(model.controller, "cells", getattr(model.controller, "layers", ()))
    return (enabled and len(layers) == 1 and len(x) > 0 and x.dtype == memory.dtype
            and x.device == memory.device
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
    """One step's arrays, views of the run's block (``G`` = 4H for the LSTM's gates, H for the
    feed-forward layer; the LSTM's own arrays are empty for the feed-forward controller)."""

    raw: Tensor  #: (B, P) the heads' linear output
    gates: Tensor  #: (B, G) the controller's pre-activations
    acts: Tensor  #: (B, G) LSTM: after the activations
    c: Tensor  #: (B, H) LSTM: the cell state
    tanh_c: Tensor  #: (B, H) LSTM
    reads: Tensor  #: (B, Hr, M)
    memory: Tensor  #: (B, N, M) after the step's write
    w: Tensor  #: (B, H_heads, N)
    scratch: Tensor  #: what the C backward needs (native.scratch_size)


def _slot_shapes(batch: int, memory: Tensor, heads: int, hr: int, gates: int, state: int,
                 raw: int) -> list:
    rows, width = memory.shape[1:]
    lstm_gates = gates if state else 0
    return [(batch, raw), (batch, gates), (batch, lstm_gates), (batch, state), (batch, state),
            (batch, hr, width), (batch, rows, width), (batch, heads, rows),
            (native.scratch_size(batch, rows, heads, raw),)]


class Arrays(NamedTuple):
    """A run's arrays in its block: ``rows[t]`` is the controller's input at step t,
    ``[x_t, r_{t-1}]`` and, for the LSTM, ``h_{t-1}``; ``hidden[t]`` is ``h_t``."""

    rows: Tensor  #: (T + 1, B, C_in + Hr M + state)
    hidden: Tensor  #: (T, B, H): the LSTM's is a view of ``rows``
    slots: list[Slot]


def _arrays(x: Tensor, memory: Tensor, weights: Tensor, layout: Layout, size: int, state: int,
            gates: int, raw: int, slots_count: int) -> tuple[Tensor, Arrays]:
    """Take a block (:func:`_take`) and carve the run's arrays from it."""
    steps, batch, inputs = x.shape
    shapes = _slot_shapes(batch, memory, weights.shape[1], layout.read_heads, gates, state, raw)
    per_slot = sum(math.prod(shape) for shape in shapes)
    start = inputs + layout.read_heads * layout.width
    rows_shape = (steps + 1, batch, start + state)
    hidden_shape = (steps, batch, 0 if state else size)  # the LSTM's h lives in the rows
    block = _take(math.prod(rows_shape) + math.prod(hidden_shape) + slots_count * per_slot,
                  x.dtype)
    rows, hidden, *flat = _carve(block, [rows_shape, hidden_shape] + [(per_slot,)] * slots_count)
    if state:
        hidden = rows[1:, :, start:]
    return block, Arrays(rows, hidden, [Slot(*_carve(f, shapes)) for f in flat])


# ------------------------------------------------------------------ the Function


class Run(torch.autograd.Function):
    """``(x, h_0, c_0, M_0, w_0, r_0, controller and head weights)`` -> the controller outputs
    and reads of every step, the final memory and weightings, ``h_T`` and ``c_T``; see the module.
    The controller is an LSTM layer (``w_ctrl`` = ``[W_ih, W_hh]``, ``b_ctrl`` = ``b_ih + b_hh``)
    or, when ``h_0`` and ``c_0`` are ``(B, 0)``, one feed-forward tanh layer."""

    @staticmethod
    def forward(ctx, x, h0, c0, memory, weights, reads, w_ctrl, b_ctrl, w_heads, b_heads,
                layout: Layout, keep: bool):
        steps, batch, inputs = x.shape
        state, size = h0.shape[1], w_heads.shape[1]  # state: 0 for the feed-forward controller
        start = inputs + layout.read_heads * layout.width
        slots_count = steps if keep else min(steps, 2)  # without gradients: two, in turn
        block, a = _arrays(x, memory, weights, layout, size, state, w_ctrl.shape[0],
                           w_heads.shape[0], slots_count)
        a.rows[:steps, :, :inputs] = x
        a.rows[steps, :, :inputs] = 0
        a.rows[0, :, inputs:start] = reads.reshape(batch, -1)
        a.rows[0, :, start:] = h0
        w_ctrl_t, w_heads_t = w_ctrl.t().contiguous(), w_heads.t().contiguous()
        c, kept = c0.contiguous(), []
        memory, weights = memory.contiguous(), weights.contiguous()
        # per step views, made once: indexing a tensor costs microseconds per call
        rows, hs, rs = a.rows.unbind(0), a.hidden.unbind(0), a.rows[1:, :, inputs:start].unbind(0)
        for t in range(steps):
            s = a.slots[t % slots_count]
            torch.addmm(b_ctrl, rows[t], w_ctrl_t, out=s.gates)
            if state:
                native.lstm_cell(s.gates, c, hs[t], s.c, s.acts, s.tanh_c)
                c = s.c
            else:
                torch.tanh(s.gates, out=hs[t])
            torch.addmm(b_heads, hs[t], w_heads_t, out=s.raw)
            kept.append(native.forward_into(s.raw, memory, weights, layout.shift_width, s.reads,
                                            s.memory, s.w, s.scratch))
            rs[t].copy_(s.reads.view(batch, -1))
            memory, weights = s.memory, s.w
        ctx.layout, ctx.inputs, ctx.saved = layout, inputs, None
        outputs = (a.hidden.clone(), a.rows[1:, :, inputs:start].clone(), memory.clone(),
                   weights.clone(), a.rows[steps, :, start:].clone(), c.clone())
        lease = _Lease(block)  # back to the pool now, or when the autograd node goes
        if keep:
            ctx.saved = (lease, a, kept)
            # saved this way, a weight changed in place before the backward pass raises
            ctx.save_for_backward(c0, w_ctrl, w_heads)
        return outputs

    @staticmethod
    @once_differentiable
    def backward(ctx, d_hidden, d_reads, d_memory, d_weights, d_h, d_c):
        _, a, kept = ctx.saved
        c0, w_ctrl, w_heads = ctx.saved_tensors
        return _backward(ctx, a, kept, c0.contiguous(), w_ctrl, w_heads,
                         (d_hidden, d_reads, d_memory, d_weights, d_h, d_c))


def _backward(ctx, a: Arrays, kept, c0, w_ctrl, w_heads, given):
    """:class:`Run`'s backward pass (module docstring): the gradients of its inputs."""
    (steps, batch, size), state = a.hidden.shape, c0.shape[1]
    layout, inputs = ctx.layout, ctx.inputs
    r_size = layout.read_heads * layout.width
    d_hidden, d_reads, d_mem, d_w, d_h, d_c = (
        a.rows.new_zeros(like.shape) if d is None else d
        for d, like in zip(given, (a.hidden, a.rows[1:, :, inputs:inputs + r_size],
                                   a.slots[0].memory, a.slots[0].w, c0, c0), strict=True))
    d_r, no_h = a.rows.new_zeros(batch, r_size), a.rows.new_zeros(batch, size)
    d_h = d_h if state else no_h  # the feed-forward controller carries no h
    d_gates = a.rows.new_empty(steps, batch, w_ctrl.shape[0])
    d_raws = a.rows.new_empty(steps, batch, w_heads.shape[0])
    w_state = w_ctrl[:, inputs:].contiguous()  # the weights on [r_{t-1}, h_{t-1}]
    per_step = (d_gates.unbind(0), d_raws.unbind(0), d_hidden.unbind(0), d_reads.unbind(0))
    for t in reversed(range(steps)):
        d_gates_t, d_raw, d_hidden_t, d_reads_t = (views[t] for views in per_step)
        d_read = torch.add(d_reads_t, d_r).view(batch, layout.read_heads, layout.width)
        d_raw_t, d_mem, d_w = native.backward(kept[t], d_read, d_mem, d_w)
        d_raw.copy_(d_raw_t)
        d_h = torch.addmm(d_h, d_raw, w_heads).add_(d_hidden_t)
        s = a.slots[t]
        if state:
            c_prev = a.slots[t - 1].c if t else c0
            d_c = native.lstm_cell_backward(d_h, d_c, c_prev, s.acts, s.tanh_c, d_gates_t)
        else:  # h = tanh(pre): dL/dpre = dL/dh (1 - h^2)
            torch.mul(a.hidden[t], a.hidden[t], out=d_gates_t).neg_().add_(1).mul_(d_h)
        d_state = torch.mm(d_gates_t, w_state)
        d_r, d_h = d_state[:, :r_size], (d_state[:, r_size:] if state else no_h)
    return _weight_grads(ctx, a, d_gates, d_raws, w_ctrl, d_r, d_h, d_c, d_mem, d_w)


def _weight_grads(ctx, a: Arrays, d_gates, d_raws, w_ctrl, d_r, d_h, d_c, d_mem, d_w):
    """Sums over all steps, one product each; then :class:`Run`'s gradients in its order."""
    (steps, batch, size), inputs = a.hidden.shape, ctx.inputs
    d_gates_all, d_raws_all = d_gates.view(steps * batch, -1), d_raws.view(steps * batch, -1)
    d_x = None
    if ctx.needs_input_grad[0]:
        d_x = (d_gates_all @ w_ctrl[:, :inputs]).view(steps, batch, inputs)
    d_reads0 = d_r.reshape(batch, ctx.layout.read_heads, ctx.layout.width)
    return (d_x, d_h if d_c.shape[1] else None, d_c if d_c.shape[1] else None, d_mem, d_w,
            d_reads0, d_gates_all.t() @ a.rows[:steps].view(steps * batch, -1),
            d_gates_all.sum(0), d_raws_all.t() @ a.hidden.reshape(steps * batch, size),
            d_raws_all.sum(0), None, None)


def run(model, x: Tensor, state, weight: Tensor, bias: Tensor, layout: Layout) -> Hidden:
    """``model``'s run of ``x`` from ``state`` through :class:`Run` (see :func:`supports`);
    ``weight`` and ``bias`` are both head layers side by side (``NTM._run_fused``)."""
    controller = model.controller
    lstm = hasattr(controller, "cells")
    if lstm:  # its two products as one
        cell = controller.cells[0]
        (h0, c0), = controller.split_state(state.controller)
        w_ctrl = torch.cat([cell.weight_ih, cell.weight_hh], 1)
        b_ctrl = cell.bias_ih + cell.bias_hh
    else:
        layer, h0 = controller.layers[0], x.new_zeros(x.shape[1], 0)
        w_ctrl, b_ctrl, c0 = layer.weight, layer.bias, h0
    previous = torch.cat([state.read_weights, state.write_weights], dim=1)
    args = (x, h0, c0, state.memory, previous, state.reads, w_ctrl, b_ctrl, weight, bias)
    keep = torch.is_grad_enabled() and any(a.requires_grad for a in args)
    hidden, reads, memory, weights, h, c = Run.apply(*args, layout, keep)
    final = controller.join_state([(h, c)] if lstm else [])
    return Hidden(hidden, reads, memory, weights, final)
