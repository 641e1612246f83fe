"""CUDA graphs for the NTM: a training step or a trace step replayed as one launch.

On a GPU the NTM is launch-bound: a time step is a few dozen small kernels, each costing the CPU
a few microseconds to launch, so at small batches the card waits on the CPU. A CUDA graph
records those launches once and replays them with a single call.

* :func:`capture_forward_backward` records a model's forward, loss and backward; the gradients
  land in static tensors that :meth:`CapturedStep.install_grads` hands to the parameters.
* :class:`GraphedSteps` does that for training: one graph per sequence length rounded up to a
  multiple of ``bucket`` (the batch is zero-padded at the end, with a zero mask there: the NTM is
  causal, so the padded steps change neither the loss nor the gradient). The optimiser step, the
  clipping and the NaN checks stay eager (a few fused kernels) so that the learning-rate schedule
  and every check of :func:`ntm.training.loop.train_step` work unchanged.
* :func:`graphed_trace_records` replays :meth:`NTM.step_info` (the reference engine) ``T`` times
  from one captured step, writing each step's record into preallocated buffers, for
  :meth:`NTM.trace` on CUDA.

Everything here needs a CUDA device; callers check ``torch.cuda.is_available()`` first.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_flatten, tree_map, tree_unflatten

from .tasks import Batch, bit_errors, masked_bce_loss


@dataclass
class CapturedStep:
    """A captured forward + backward: replay it, then install its gradients."""

    graph: torch.cuda.CUDAGraph
    outputs: object  #: what the captured function returned (static tensors)
    params: list[nn.Parameter]
    grads: list[Tensor | None]  #: static gradient tensors, one per parameter

    def replay(self) -> None:
        self.graph.replay()

    def install_grads(self) -> None:
        for p, g in zip(self.params, self.grads, strict=True):
            p.grad = g


def capture_forward_backward(model: nn.Module, loss_fn, warmup: int = 2,
                             pool=None) -> CapturedStep:
    """Capture ``loss_fn()`` (a loss, or a tuple whose first item is the loss) and its backward.

    ``loss_fn`` must read only static tensors (copy new data into them before each replay). The
    warm-up runs compute gradients that are thrown away: the weights are not touched.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(warmup):
            for p in params:
                p.grad = None
            _loss(loss_fn()).backward()
    torch.cuda.current_stream().wait_stream(side)
    for p in params:
        p.grad = None
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, pool=pool):
        outputs = loss_fn()
        _loss(outputs).backward()
    return CapturedStep(graph, outputs, params, [p.grad for p in params])


def _loss(outputs) -> Tensor:
    return outputs[0] if isinstance(outputs, tuple) else outputs


class GraphedSteps:
    """Training forward + backward from CUDA graphs, one per padded sequence length.

    The graphs share one memory pool: each replay's outputs (loss, errors, gradients) are used
    before the next replay, so one graph may reuse another's scratch memory.
    """

    def __init__(self, model: nn.Module, bucket: int = 8) -> None:
        self.model, self.bucket = model, bucket
        self.graphs: dict[tuple[int, int], tuple[CapturedStep, Batch]] = {}
        self.pool = torch.cuda.graph_pool_handle()

    def loss_and_errors(self, batch: Batch) -> tuple[Tensor, Tensor]:
        """Replay the graph for this batch's shape; the parameters' ``.grad`` hold its gradient.
        Returns the loss and the bit errors per sequence, as device tensors."""
        steps, size = batch.inputs.shape[0], batch.inputs.shape[1]
        key = (-(-steps // self.bucket) * self.bucket, size)
        if key not in self.graphs:
            self.graphs[key] = self._capture(key[0], batch)
        step, static = self.graphs[key]
        for buffer, data in ((static.inputs, batch.inputs), (static.targets, batch.targets),
                             (static.mask, batch.mask)):
            buffer.zero_()
            buffer[:steps].copy_(data)
        step.replay()
        step.install_grads()
        return step.outputs

    def _capture(self, steps: int, batch: Batch) -> tuple[CapturedStep, Batch]:
        def padded(t: Tensor) -> Tensor:
            out = t.new_zeros((steps, *t.shape[1:]))
            out[: t.shape[0]] = t
            return out

        static = Batch(padded(batch.inputs), padded(batch.targets), padded(batch.mask), {})

        def loss_fn():
            logits = self.model(static.inputs)
            return masked_bce_loss(logits, static), bit_errors(logits.detach(), static)

        return capture_forward_backward(self.model, loss_fn, pool=self.pool), static


def graphed_trace_records(model, x: Tensor, state) -> list | None:
    """``[(logits, StepInfo, previous read weights, previous write weights)]`` per step of
    ``x``, from one captured :meth:`step_info` replayed ``T`` times; None (with a warning) if
    the capture fails, so that the caller can fall back to its eager loop."""
    try:
        return _graphed_trace_records(model, x, state)
    except RuntimeError as exc:  # a capture the driver refuses: the eager loop still works
        warnings.warn(f"CUDA graph trace failed ({exc}); tracing eagerly", stacklevel=2)
        return None


def _graphed_trace_records(model, x: Tensor, state) -> list:
    steps = x.shape[0]
    frames = x.clone()
    live = tree_map(lambda t: t.clone(), state)  # the state the graph updates in place
    t = torch.zeros((), dtype=torch.long, device=x.device)

    def record():
        out, new, info = model.step_info(frames.index_select(0, t).squeeze(0), live)
        return (out, info, live.read_weights, live.write_weights), new

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # eager warm-up: leaf shapes, cached tables built outside
        first, _ = record()
    torch.cuda.current_stream().wait_stream(side)
    leaves, spec = tree_flatten(first)
    buffers = [leaf.new_empty((steps, *leaf.shape)) for leaf in leaves]
    graph = torch.cuda.CUDAGraph()
    torch.cuda.synchronize()
    with torch.cuda.graph(graph):
        rec, new = record()
        for buffer, leaf in zip(buffers, tree_flatten(rec)[0], strict=True):
            buffer.index_copy_(0, t.view(1), leaf.unsqueeze(0))
        for old, value in zip(tree_flatten(live)[0], tree_flatten(new)[0], strict=True):
            old.copy_(value)
        t.add_(1)
    for _ in range(steps):
        graph.replay()
    return [tree_unflatten([b[i] for b in buffers], spec) for i in range(steps)]
