"""The fast engine on CUDA: the fused step, the CUDA-graph training step and the CUDA-graph
trace against their eager references. Skipped (with a message) where no CUDA device is present;
``benchmarks/gpu_checks.sh`` runs them on a GPU machine."""

import pytest
import torch

from ntm import NTM, NTMConfig
from ntm.cuda_graphs import GraphedSteps, capture_forward_backward
from ntm.tasks import masked_bce_loss
from ntm.training import TrainConfig
from ntm.training.loop import make_graphs, make_model, make_optimizer, make_task, train_step

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA device (run benchmarks/gpu_checks.sh there)")
CUDA = torch.device("cuda")
SMALL = NTMConfig(input_size=5, output_size=4, memory_rows=16, memory_width=6, controller_size=16)


def test_fused_equals_reference_on_cuda():
    torch.manual_seed(0)
    model = NTM(SMALL).to(CUDA)
    x = torch.rand(9, 4, 5, device=CUDA).round()
    results = []
    for fast in (False, True):
        model.fast = fast
        model.zero_grad()
        logits = model(x)
        logits.square().mean().backward()
        results.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    (ref, ref_grads), (out, grads) = results
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r, atol=1e-5, rtol=1e-4)


def test_captured_forward_backward_equals_eager():
    torch.manual_seed(0)
    model = NTM(SMALL).to(CUDA)
    x = torch.rand(9, 4, 5, device=CUDA).round()
    model.zero_grad()
    model(x).square().mean().backward()
    eager = [p.grad.clone() for p in model.parameters()]
    step = capture_forward_backward(model, lambda: model(x).square().mean())
    for _ in range(2):  # replays overwrite, never accumulate
        step.replay()
    step.install_grads()
    for p, g in zip(model.parameters(), eager, strict=True):
        torch.testing.assert_close(p.grad, g, atol=1e-6, rtol=1e-5)


def test_graphed_training_follows_eager_training():
    config = TrainConfig(device="cuda", batch_size=4, seed=0)
    task = make_task(config)
    runs = []
    for graphed in (False, True):
        torch.manual_seed(0)
        model = make_model(config, task).to(CUDA)
        opt = make_optimizer(config, model)
        graphs = make_graphs(config, model, CUDA) if graphed else None
        gen = torch.Generator().manual_seed(0)
        losses = [train_step(config, model, opt, task.sample(4, gen).to(CUDA),
                             graphs=graphs)[0]
                  for _ in range(5)]
        runs.append((losses, [p.detach().clone() for p in model.parameters()]))
    assert runs[0][0] == pytest.approx(runs[1][0], rel=1e-4, abs=1e-5)
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_padding_to_the_bucket_leaves_loss_and_gradient_unchanged():
    config = TrainConfig(device="cuda", batch_size=3)
    task = make_task(config)
    torch.manual_seed(0)
    model = make_model(config, task).to(CUDA)
    batch = task.sample(3, torch.Generator().manual_seed(1)).to(CUDA)
    assert batch.inputs.shape[0] % 8  # a length the graphs pad
    model.zero_grad()
    masked_bce_loss(model(batch.inputs), batch).backward()
    eager = [p.grad.clone() for p in model.parameters()]
    loss, _ = GraphedSteps(model).loss_and_errors(batch)
    for p, g in zip(model.parameters(), eager, strict=True):
        torch.testing.assert_close(p.grad, g, atol=1e-6, rtol=1e-5)
    assert torch.isfinite(loss)


def test_graphed_trace_equals_eager_trace(monkeypatch):
    from ntm import cuda_graphs

    torch.manual_seed(0)
    model = NTM(SMALL, read_heads=2).to(CUDA)
    x = torch.rand(12, 2, 5, device=CUDA).round()
    graphed = model.trace(x)
    monkeypatch.setattr(cuda_graphs, "graphed_trace_records", lambda *a: None)
    eager = model.trace(x)
    for name in ("inputs", "logits", "reads", "memory", "initial_memory"):
        torch.testing.assert_close(torch.from_numpy(getattr(graphed, name)),
                                   torch.from_numpy(getattr(eager, name)), atol=1e-6, rtol=1e-6)
    for head in ("read", "write"):
        for name in ("key", "beta", "gate", "shift", "gamma", "content", "gated", "shifted",
                     "weights", "previous"):
            torch.testing.assert_close(
                torch.from_numpy(getattr(getattr(graphed, head), name)),
                torch.from_numpy(getattr(getattr(eager, head), name)), atol=1e-6, rtol=1e-6)
