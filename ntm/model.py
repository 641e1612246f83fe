"""The Neural Turing Machine (Graves, Wayne & Danihelka 2014), with explicit state and traces.

One time step (:meth:`NTM.step`):

1. the controller reads ``[x_t, r_{t-1}]`` (input and previous read vectors) and emits ``h_t``;
2. every head maps ``h_t`` to ``k, beta, g, s, gamma`` (and ``e, a`` for write heads);
3. every head addresses the memory ``M_{t-1}`` (eqs. 5-9, :func:`ntm.addressing.address`);
4. read heads read ``r_t`` from ``M_{t-1}`` (eq. 2); write heads then erase and add (eqs. 3-4),
   giving ``M_t``;
5. the output layer maps ``[h_t, r_t]`` to the logits ``y_t``.

The state (memory, previous weightings, read vectors, controller state) lives in an
:class:`NTMState` that is passed in and returned, never on the module, so one model instance can
serve many sessions at once.

Two engines compute the same numbers. :meth:`NTM.step_info` (and :meth:`NTM.step`,
:meth:`NTM.trace`) call :mod:`ntm.addressing` and :mod:`ntm.memory`, one function per equation:
the reference, and the only one that returns every addressing stage. :meth:`NTM.run` (and so
``model(x)``, training and evaluation) uses :mod:`ntm.fused` when ``model.fast`` is true (the
default): steps 2-4 in one autograd Function with a hand-derived backward, and the output layer
applied once to the whole sequence; on a CPU, for a one-layer controller, the whole run is one
Function (:mod:`ntm.sequence`, unless ``model.whole_run = False``). ``model.fast = False`` runs
the reference loop instead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import fused, limits, sequence
from .addressing import Addressing, address
from .controller import CONTROLLERS, ControllerState
from .heads import HeadParams, Heads
from .memory import read, write

MEMORY_INITS = ("constant", "learned", "random")
#: (lowest, highest) value of every integer field of :class:`NTMConfig`.
_CONFIG_BOUNDS = {
    "input_size": (1, limits.MAX_IO_SIZE),
    "output_size": (1, limits.MAX_IO_SIZE),
    "memory_rows": (1, limits.MAX_MEMORY_ROWS),
    "memory_width": (1, limits.MAX_MEMORY_WIDTH),
    "controller_size": (1, limits.MAX_CONTROLLER_SIZE),
    "controller_layers": (1, limits.MAX_CONTROLLER_LAYERS),
    "read_heads": (1, limits.MAX_HEADS),
    "write_heads": (1, limits.MAX_HEADS),
    "shift_range": (0, limits.MAX_SHIFT_RANGE),
}
#: Memory value of the "constant" initialisation (Collier & Beel 2018).
CONSTANT_MEMORY = 1e-6


@dataclass(frozen=True)
class NTMConfig:
    """Everything needed to rebuild an :class:`NTM` (stored in checkpoints)."""

    input_size: int = 9
    output_size: int = 8
    memory_rows: int = 128  #: N
    memory_width: int = 20  #: M
    controller: str = "lstm"  #: "lstm" or "feedforward"
    controller_size: int = 100
    controller_layers: int = 1
    read_heads: int = 1
    write_heads: int = 1
    shift_range: int = 1  #: R: the kernel covers offsets -R..+R
    memory_init: str = "constant"  #: "constant" (1e-6), "learned" or "random"

    def __post_init__(self) -> None:
        """Refuse anything but integers within :mod:`ntm.limits` (configs come from uploads)."""
        for name, (low, high) in _CONFIG_BOUNDS.items():
            limits.check_int(name, getattr(self, name), low, high)
        if 2 * self.shift_range + 1 > self.memory_rows:
            raise ValueError(
                f"shift range {self.shift_range} needs at least {2 * self.shift_range + 1} rows, "
                f"memory has {self.memory_rows}"
            )
        if not isinstance(self.controller, str) or self.controller not in CONTROLLERS:
            raise ValueError(f"controller must be one of {sorted(CONTROLLERS)}, got {self.controller!r}")
        if not isinstance(self.memory_init, str) or self.memory_init not in MEMORY_INITS:
            raise ValueError(f"memory_init must be one of {MEMORY_INITS}, got {self.memory_init!r}")

    @classmethod
    def from_dict(cls, data: dict) -> NTMConfig:
        """Build from a dict, refusing unknown keys with a clear message."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown NTM config keys: {', '.join(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)


class NTMState(NamedTuple):
    """The recurrent state of a batch of NTMs between two time steps."""

    memory: Tensor  #: M_{t-1}, (B, N, M)
    read_weights: Tensor  #: previous read weightings, (B, Hr, N)
    write_weights: Tensor  #: previous write weightings, (B, Hw, N)
    reads: Tensor  #: previous read vectors r_{t-1}, (B, Hr, M)
    controller: ControllerState  #: controller state (see ntm.controller)


class StepInfo(NamedTuple):
    """Everything one step computed, for traces and teaching."""

    read_params: HeadParams
    read_stages: Addressing
    write_params: HeadParams
    write_stages: Addressing
    reads: Tensor  #: (B, Hr, M)
    memory: Tensor  #: M_t after the write, (B, N, M)


@dataclass
class HeadTrace:
    """One kind of head (read or write) over a whole run; arrays are ``(T, B, H, ...)``."""

    key: np.ndarray  #: (T, B, H, M)
    beta: np.ndarray  #: (T, B, H)
    gate: np.ndarray  #: (T, B, H)
    shift: np.ndarray  #: (T, B, H, 2R+1), offsets -R..+R
    gamma: np.ndarray  #: (T, B, H)
    content: np.ndarray  #: w^c, (T, B, H, N)
    gated: np.ndarray  #: w^g
    shifted: np.ndarray  #: w~
    weights: np.ndarray  #: w (sharpened): the weighting actually used
    previous: np.ndarray  #: w_{t-1} fed into step t (so previous[t] == weights[t-1] for t > 0)
    erase: np.ndarray | None = None  #: (T, B, H, M), write heads only
    add: np.ndarray | None = None  #: (T, B, H, M), write heads only


@dataclass
class Trace:
    """A recorded run: plain numpy arrays, time-major, ready for the figure builders."""

    inputs: np.ndarray  #: (T, B, C_in)
    logits: np.ndarray  #: (T, B, C_out)
    outputs: np.ndarray  #: sigmoid(logits), (T, B, C_out)
    reads: np.ndarray  #: read vectors r_t, (T, B, Hr, M)
    memory: np.ndarray  #: M_t after the write at step t, (T, B, N, M)
    initial_memory: np.ndarray  #: M_0, (B, N, M)
    read: HeadTrace
    write: HeadTrace

    @property
    def steps(self) -> int:
        return self.inputs.shape[0]

    def memory_before(self, t: int) -> np.ndarray:
        """Memory as step ``t`` found it (``M_{t-1}``), ``(B, N, M)``."""
        return self.initial_memory if t == 0 else self.memory[t - 1]


def _head_trace(params: list[HeadParams], stages: list[Addressing], previous: list[Tensor]) -> HeadTrace:
    def stack(xs: list[Tensor]) -> np.ndarray:
        return torch.stack(xs).detach().cpu().numpy()

    write = params[0].erase is not None
    return HeadTrace(
        key=stack([p.key for p in params]),
        beta=stack([p.beta[..., 0] for p in params]),
        gate=stack([p.gate[..., 0] for p in params]),
        shift=stack([p.shift for p in params]),
        gamma=stack([p.gamma[..., 0] for p in params]),
        content=stack([s.content for s in stages]),
        gated=stack([s.gated for s in stages]),
        shifted=stack([s.shifted for s in stages]),
        weights=stack([s.sharpened for s in stages]),
        previous=stack(previous),
        erase=stack([p.erase for p in params]) if write else None,
        add=stack([p.add for p in params]) if write else None,
    )


class NTM(nn.Module):
    """A Neural Turing Machine. ``model(x)`` maps ``(T, B, C_in)`` to logits ``(T, B, C_out)``.

    >>> model = NTM(NTMConfig(input_size=9, output_size=8, memory_rows=16, memory_width=4))
    >>> model(torch.zeros(5, 2, 9)).shape
    torch.Size([5, 2, 8])
    """

    model_type = "ntm"
    #: :meth:`run` uses the fused engine (:mod:`ntm.fused`); not saved in checkpoints.
    fast: bool = True
    #: with :attr:`fast`, :meth:`run` takes the whole sequence as one autograd Function where
    #: :func:`ntm.sequence.supports` it (False: one Function per step); not saved either.
    whole_run: bool = True

    def __init__(self, config: NTMConfig | None = None, **overrides) -> None:
        super().__init__()
        config = config or NTMConfig()
        if overrides:
            config = NTMConfig.from_dict({**config.to_dict(), **overrides})
        self.config = config
        self.metadata: dict = {}
        c = config
        n, m = c.memory_rows, c.memory_width
        self.controller = CONTROLLERS[c.controller](
            c.input_size + c.read_heads * m, c.controller_size, c.controller_layers
        )
        self.heads = Heads(c.controller_size, c.read_heads, c.write_heads, m, c.shift_range)
        self.output = nn.Linear(c.controller_size + c.read_heads * m, c.output_size)
        # Learned initial read vectors and weightings (softmax of learned logits). The logits
        # start random: with identical memory rows, equal logits would be a symmetric saddle
        # that no gradient could leave.
        self.initial_reads = nn.Parameter(0.01 * torch.randn(c.read_heads, m))
        self.initial_read_logits = nn.Parameter(torch.randn(c.read_heads, n))
        self.initial_write_logits = nn.Parameter(torch.randn(c.write_heads, n))
        if c.memory_init == "learned":
            self.initial_memory = nn.Parameter(0.1 * torch.randn(n, m))

    @property
    def task(self) -> str | None:
        """The task the model was trained on (from its metadata), if known."""
        return self.metadata.get("task")

    def initial_state(self, batch: int, generator: torch.Generator | None = None) -> NTMState:
        """The state before the first step, for a batch of ``batch`` sequences.

        ``generator`` seeds the "random" memory initialisation (ignored otherwise).
        """
        ref = self.output.weight
        n, m = self.config.memory_rows, self.config.memory_width
        if self.config.memory_init == "learned":
            memory = self.initial_memory.expand(batch, n, m)
        elif self.config.memory_init == "random":
            gen_device = generator.device if generator is not None else ref.device
            memory = 0.5 * torch.randn(batch, n, m, generator=generator, device=gen_device)
            memory = memory.to(ref)
        else:
            memory = torch.full((batch, n, m), CONSTANT_MEMORY, dtype=ref.dtype, device=ref.device)
        return NTMState(
            memory=memory,
            read_weights=torch.softmax(self.initial_read_logits, -1).expand(batch, -1, -1),
            write_weights=torch.softmax(self.initial_write_logits, -1).expand(batch, -1, -1),
            reads=self.initial_reads.expand(batch, -1, -1),
            controller=self.controller.initial_state(batch),
        )

    def step_info(self, x_t: Tensor, state: NTMState) -> tuple[Tensor, NTMState, StepInfo]:
        """One time step with everything it computed. ``x_t`` is ``(B, C_in)``."""
        batch = x_t.shape[0]
        h, controller_state = self.controller(
            torch.cat([x_t, state.reads.reshape(batch, -1)], dim=-1), state.controller
        )
        params = self.heads(h)  # all heads at once: read heads first, then write heads
        previous = torch.cat([state.read_weights, state.write_weights], dim=1)
        memory = state.memory.unsqueeze(1)  # (B, 1, N, M): broadcast over heads
        stages = address(memory, params.key, params.beta, params.gate, params.shift, params.gamma,
                         previous)
        hr = self.config.read_heads
        r_stages = Addressing(*(s[:, :hr] for s in stages))
        w_stages = Addressing(*(s[:, hr:] for s in stages))
        rp, wp = self.heads.split(params)
        reads = read(state.memory, r_stages.sharpened)  # from M_{t-1}
        new_memory = write(state.memory, w_stages.sharpened, wp.erase, wp.add)
        logits = self.output(torch.cat([h, reads.reshape(batch, -1)], dim=-1))
        new_state = NTMState(new_memory, r_stages.sharpened, w_stages.sharpened, reads, controller_state)
        return logits, new_state, StepInfo(rp, r_stages, wp, w_stages, reads, new_memory)

    def step(self, x_t: Tensor, state: NTMState) -> tuple[Tensor, NTMState]:
        """One time step: ``(B, C_in)`` input and state in, ``(B, C_out)`` logits and state out."""
        logits, new_state, _ = self.step_info(x_t, state)
        return logits, new_state

    def run(self, x: Tensor, state: NTMState | None = None) -> tuple[Tensor, NTMState]:
        """Run a whole sequence ``(T, B, C_in)``; returns logits ``(T, B, C_out)`` and final state."""
        if state is None:
            state = self.initial_state(x.shape[1])
        if self.fast:
            return self._run_fused(x, state)[:2]
        outputs = []
        for x_t in x:
            logits, state = self.step(x_t, state)
            outputs.append(logits)
        return torch.stack(outputs), state

    def run_with_writes(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """:meth:`run`'s logits ``(T, B, C_out)`` from the initial state, with every step's
        write-head erase and add vectors, ``(T, B, Hw, M)`` each (what a training penalty on
        writing reads, ``--answer-write-penalty``)."""
        state = self.initial_state(x.shape[1])
        if self.fast:
            logits, _, hidden = self._run_fused(x, state)
            return (logits, *self.heads.write_vectors(hidden))
        logits, erase, add = [], [], []
        for x_t in x:
            out, state, info = self.step_info(x_t, state)
            logits.append(out)
            erase.append(info.write_params.erase)
            add.append(info.write_params.add)
        return torch.stack(logits), torch.stack(erase), torch.stack(add)

    def _run_fused(self, x: Tensor, state: NTMState) -> tuple[Tensor, NTMState, Tensor]:
        """:meth:`run` on the fused engine: the whole run as one Function where
        :func:`ntm.sequence.supports` it, else per step the controller, both head layers in
        one product and :class:`ntm.fused.MemoryStep`; the output layer once for all steps.
        Also returns the controller outputs ``(T, B, controller_size)``."""
        c, heads = self.config, self.heads
        layout = fused.Layout(c.read_heads, c.write_heads, c.memory_width, 2 * c.shift_range + 1)
        weight = torch.cat([heads.addressing.weight, heads.erase_add.weight])
        bias = torch.cat([heads.addressing.bias, heads.erase_add.bias])
        if self.whole_run and sequence.supports(self, x, state.memory, layout):  # ntm.sequence
            hidden, read_seq, memory, weights, controller = sequence.run(self, x, state, weight,
                                                                         bias, layout)
            reads = read_seq[-1].view_as(state.reads)
        else:
            hidden, read_seq, memory, weights, reads, controller = self._run_steps(
                x, state, weight, bias, layout)
        logits = self.output(torch.cat([hidden, read_seq], dim=-1))
        hr = c.read_heads
        return logits, NTMState(memory, weights[:, :hr], weights[:, hr:], reads, controller), hidden

    def _run_steps(self, x: Tensor, state: NTMState, weight: Tensor, bias: Tensor,
                   layout: fused.Layout) -> tuple:
        """The fused engine one step at a time: the controller, both head layers in one product
        and :class:`ntm.fused.MemoryStep`. Returns the controller outputs and reads of every
        step, then the final memory, weightings, reads and controller state."""
        memory, reads = state.memory, state.reads
        layers = self.controller.split_state(state.controller)  # per layer: no stack per step
        weights = torch.cat([state.read_weights, state.write_weights], dim=1)
        hs, rs = [], []
        for x_t in x:
            h, layers = self.controller.step_layers(torch.cat([x_t, reads.flatten(1)], -1),
                                                    layers)
            reads, memory, weights = fused.memory_step(F.linear(h, weight, bias), memory,
                                                       weights, layout)
            hs.append(h)
            rs.append(reads.flatten(1))
        return (torch.stack(hs), torch.stack(rs), memory, weights, reads,
                self.controller.join_state(layers))

    def forward(self, x: Tensor, state: NTMState | None = None) -> Tensor:
        return self.run(x, state)[0]

    @torch.no_grad()
    def trace(self, x: Tensor, state: NTMState | None = None) -> Trace:
        """Run ``x`` (``(T, B, C_in)``) and record every head's parameters and stages per step."""
        if state is None:
            state = self.initial_state(x.shape[1])
        initial_memory = state.memory.detach().cpu().numpy().copy()
        records = None
        if x.is_cuda and len(x) > 1:  # launch-bound: replay one captured step (ntm.cuda_graphs)
            from .cuda_graphs import graphed_trace_records

            records = graphed_trace_records(self, x, state)
        if records is None:
            records = []
            for x_t in x:
                out, new_state, info = self.step_info(x_t, state)
                records.append((out, info, state.read_weights, state.write_weights))
                state = new_state
        logits, infos, prev_r, prev_w = (list(r) for r in zip(*records, strict=True))
        logits_t = torch.stack(logits)

        def np_(t: Tensor) -> np.ndarray:
            return t.detach().cpu().numpy()

        return Trace(
            inputs=np_(x),
            logits=np_(logits_t),
            outputs=np_(torch.sigmoid(logits_t)),
            reads=np_(torch.stack([i.reads for i in infos])),
            memory=np_(torch.stack([i.memory for i in infos])),
            initial_memory=initial_memory,
            read=_head_trace([i.read_params for i in infos], [i.read_stages for i in infos], prev_r),
            write=_head_trace([i.write_params for i in infos], [i.write_stages for i in infos], prev_w),
        )
