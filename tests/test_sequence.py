"""The whole-run engine (ntm.sequence) against the reference (NTM.step: ntm.addressing,
ntm.memory, nn.LSTMCell): values and gradients of whole runs -- every parameter, the input, the
initial and the final state -- float64 gradcheck of its Function, and its block pool."""

import threading

import pytest
import torch
import torch.nn.functional as F

from ntm import NTM, NTMConfig, fused, native, sequence

pytestmark = pytest.mark.skipif(native.library() is None,
                                reason="no C compiler here: the C memory step is not built")

SMALL = NTMConfig(input_size=5, output_size=4, memory_rows=12, memory_width=6, controller_size=16)
SUPPORTED = [{}, {"controller": "feedforward"}, {"read_heads": 2, "write_heads": 3},
             {"shift_range": 3}, {"memory_init": "learned"}, {"memory_init": "random"},
             {"shift_range": 0}, {"controller": "feedforward", "read_heads": 2, "write_heads": 2}]


def layout_of(model):
    c = model.config
    return fused.Layout(c.read_heads, c.write_heads, c.memory_width, 2 * c.shift_range + 1)


def everything(model, x, fast: bool, seed: int = 1):
    """Logits, final state and the gradients of every parameter and of ``x`` for a loss that
    reads the logits and every part of the final state (so the final state's gradients flow
    into the run too)."""
    model.fast = fast
    model.zero_grad()
    x = x.detach().clone().requires_grad_(True)
    torch.manual_seed(0)  # the "random" memory initialisation
    logits, state = model.run(x)
    g = torch.Generator().manual_seed(seed)
    parts = [logits, state.memory, state.read_weights, state.write_weights, state.reads,
             *state.controller]
    loss = sum((p * torch.randn(p.shape, generator=g, dtype=p.dtype)).sum() for p in parts)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()} | {"x": x.grad.clone()}
    return [p.detach() for p in parts], grads


@pytest.mark.parametrize("overrides", SUPPORTED)
def test_whole_run_float64_equals_the_reference(overrides):
    torch.manual_seed(0)
    model = NTM(SMALL, **overrides).double()
    x = torch.rand(9, 3, 5, dtype=torch.float64).round()
    assert sequence.supports(model, x, model.initial_state(3).memory, layout_of(model))
    ref, ref_grads = everything(model, x, fast=False)
    out, grads = everything(model, x, fast=True)
    for a, b in zip(out, ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    for name in ref_grads:
        torch.testing.assert_close(grads[name], ref_grads[name], atol=1e-10, rtol=1e-10, msg=name)


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_copy_sized_float32_run_equals_the_reference(batch, controller):
    """Values to 1e-6. Gradients to 1e-6 of the largest one (and 1e-5 relative): this loss
    reads every output and the final state, so they reach 5-10, and over 41 steps of float32
    the per-step engine sits as far from the reference as the whole run does (the feed-forward
    model: 3.6e-6 and 3.8e-6 in its controller's weights, largest gradient 4.9)."""
    torch.manual_seed(0)
    model = NTM(NTMConfig(controller=controller))  # N = 128, M = 20, 100 units: copy's model
    x = torch.rand(41, batch, 9).round()
    ref, ref_grads = everything(model, x, fast=False)
    out, grads = everything(model, x, fast=True)
    for a, b in zip(out, ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
    for name in ref_grads:
        scale = max(1.0, ref_grads[name].abs().max().item())
        torch.testing.assert_close(grads[name], ref_grads[name], atol=1e-6 * scale, rtol=1e-5,
                                   msg=name)


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_gradcheck_float64(controller):
    """gradcheck of Run itself: every differentiable input, the head layer's bias set so that
    beta and gamma range from small to large across the heads."""
    torch.manual_seed(0)
    model = NTM(SMALL, controller=controller, read_heads=2, write_heads=1, memory_rows=7,
                memory_width=3, controller_size=5).double()
    with torch.no_grad():
        bias = model.heads.addressing.bias.view(3, 9)  # per head k (M = 3), beta, g, s (3), gamma
        bias[:, 3] = torch.tensor([-3.0, 2.0, 30.0])  # beta = softplus: 0.05 .. 30
        bias[:, 8] = torch.tensor([0.0, 5.0, 20.0])  # gamma = 1 + softplus: 1.7 .. 21
    layout, state = layout_of(model), model.initial_state(2)
    heads = model.heads
    weight = torch.cat([heads.addressing.weight, heads.erase_add.weight]).detach()
    bias = torch.cat([heads.addressing.bias, heads.erase_add.bias]).detach()
    g = torch.Generator().manual_seed(3)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    x, memory = randn(4, 2, 5), randn(2, 7, 3)
    previous = torch.softmax(randn(2, 3, 7), -1)
    if controller == "lstm":
        cell = model.controller.cells[0]
        h0, c0 = randn(2, 5), randn(2, 5)
        w_ctrl = torch.cat([cell.weight_ih, cell.weight_hh], 1)
        b_ctrl = cell.bias_ih + cell.bias_hh
    else:
        layer = model.controller.layers[0]
        h0 = c0 = x.new_zeros(2, 0)
        w_ctrl, b_ctrl = layer.weight, layer.bias
    inputs = [x, h0, c0, memory, previous, state.reads.detach().clone(), w_ctrl.detach().clone(),
              b_ctrl.detach().clone(), weight, bias]
    inputs = [t.requires_grad_(t.numel() > 0) for t in inputs]
    assert torch.autograd.gradcheck(lambda *a: sequence.Run.apply(*a, layout, True), inputs,
                                    eps=1e-6, atol=1e-6, rtol=1e-4)


def test_extreme_heads_stay_finite_and_equal_the_reference():
    """beta and gamma of 1e3 (the addressing tests' extremes) through whole runs."""
    torch.manual_seed(0)
    model = NTM(SMALL).double()
    with torch.no_grad():
        bias = model.heads.addressing.bias.view(2, -1)
        bias[:, SMALL.memory_width] = 1e3  # beta = softplus(1e3) = 1e3
        bias[:, -1] = 1e3  # gamma = 1 + 1e3
    x = torch.rand(7, 2, 5, dtype=torch.float64).round()
    ref, ref_grads = everything(model, x, fast=False)
    out, grads = everything(model, x, fast=True)
    assert all(torch.isfinite(t).all() for t in out + list(grads.values()))
    for a, b in zip(out, ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=0)
    for name in ref_grads:
        torch.testing.assert_close(grads[name], ref_grads[name], atol=1e-8, rtol=1e-8, msg=name)


@pytest.mark.parametrize("overrides", [{"controller_layers": 2},
                                       {"controller": "feedforward", "controller_layers": 2}])
def test_deeper_controllers_take_the_per_step_engine(overrides):
    model = NTM(SMALL, **overrides)
    x = torch.zeros(3, 2, 5)
    assert not sequence.supports(model, x, model.initial_state(2).memory, layout_of(model))


def test_supports_follows_the_c_step_and_the_switch(monkeypatch):
    model = NTM(SMALL)
    x, memory = torch.zeros(3, 2, 5), model.initial_state(2).memory
    assert sequence.supports(model, x, memory, layout_of(model))
    assert not sequence.supports(model, x.double(), memory, layout_of(model))  # mixed dtypes
    monkeypatch.setattr(sequence, "enabled", False)
    assert not sequence.supports(model, x, memory, layout_of(model))
    monkeypatch.setattr(sequence, "enabled", True)
    monkeypatch.setattr(native, "enabled", False)
    assert not sequence.supports(model, x, memory, layout_of(model))


def test_without_gradients_same_logits_and_nothing_kept():
    torch.manual_seed(0)
    model = NTM(SMALL)
    x = torch.rand(11, 3, 5).round()
    logits = model(x)
    with torch.no_grad():
        assert torch.equal(model(x), logits.detach())
    assert logits.grad_fn is not None


def test_a_run_can_be_backpropagated_twice_and_its_block_is_reused():
    torch.manual_seed(0)
    model = NTM(SMALL)
    x = torch.rand(6, 2, 5).round()
    y = model(x).sum()
    sequence._POOL.clear()
    y.backward(retain_graph=True)
    first = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    y.backward()  # the block is still the run's: the same gradients
    for a, p in zip(first, model.parameters(), strict=True):
        assert torch.equal(a, p.grad)
    assert sequence._POOL == []
    del y  # the graph goes, and its block back to the pool
    assert len(sequence._POOL) == 1
    block = sequence._POOL[0]
    model(x).sum().backward()
    assert any(b is block for b in sequence._POOL)
    assert len(sequence._POOL) <= sequence._POOL_SIZE


def test_runs_alive_at_once_do_not_share_a_block():
    """Two runs' graphs alive together, backward in either order: the pool must never hand out
    a block whose run still needs it."""
    torch.manual_seed(0)
    model = NTM(SMALL)
    xs = [torch.rand(8, 2, 5).round() for _ in range(3)]
    expected = []
    for x in xs:
        model.zero_grad()
        model(x).sum().backward()
        expected.append({n: p.grad.clone() for n, p in model.named_parameters()})
    losses = [model(x).sum() for x in xs]
    for i in (1, 0, 2):
        model.zero_grad()
        losses[i].backward()
        for name, p in model.named_parameters():
            torch.testing.assert_close(p.grad, expected[i][name], atol=0, rtol=0, msg=name)


def test_threads_running_at_once_get_their_own_results():
    torch.manual_seed(0)
    model = NTM(SMALL)
    xs = [torch.rand(10, 2, 5).round() for _ in range(4)]
    with torch.no_grad():
        expected = [model(x) for x in xs]
    results = [None] * len(xs)

    def work(i):
        for _ in range(20):
            with torch.no_grad():
                results[i] = model(xs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected, strict=True):
        assert torch.equal(got, want)


def test_the_answer_write_penalty_has_the_reference_gradient():
    """run_with_writes (the training penalty's path) takes the controller outputs from Run."""
    torch.manual_seed(0)
    model = NTM(SMALL)
    x = torch.rand(9, 3, 5).round()
    grads = []
    for fast in (False, True):
        model.fast = fast
        model.zero_grad()
        logits, erase, add = model.run_with_writes(x)
        (F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))
         + erase.mean() + (add ** 2).mean()).backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], atol=1e-6, rtol=1e-5, msg=name)


def test_lstm_cell_activations_equal_torch_at_every_magnitude():
    """The C cell's float sigmoid and tanh (memory_step.c, eight at a time) round to within
    three ulp of torch's float32 ones, from 1e-30 to infinity, and keep NaN."""
    size = 16
    values = torch.cat([torch.linspace(-100, 100, 20001), torch.logspace(-30, 2, 400),
                        -torch.logspace(-30, 2, 400),
                        torch.tensor([0.0, -0.0, 88.0, 89.0, -89.0, 1e30, -1e30, float("inf"),
                                      float("-inf"), float("nan")])])
    values = torch.cat([values, values.new_zeros(-len(values) % (4 * size))])
    gates = values.view(-1, 4 * size)
    c_prev = torch.zeros(len(gates), size)
    c, acts, tanh_c, h = (torch.empty_like(c_prev) for _ in range(4))
    acts = torch.empty_like(gates)
    native.lstm_cell(gates, c_prev, h, c, acts, tanh_c)
    i, f, g, o = gates.chunk(4, 1)
    expected = torch.cat([i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()], 1)
    assert torch.equal(acts.isnan(), expected.isnan())
    ulp = torch.from_numpy(__import__("numpy").spacing(expected.abs().numpy()))
    close = ((acts - expected).abs() <= 3 * ulp) | ((acts - expected).abs() <= 1e-38)
    assert (close | expected.isnan()).all()
    torch.testing.assert_close(tanh_c, c.tanh(), atol=1e-38, rtol=4e-7, equal_nan=True)


def run_inputs(beta: float, gamma: float, zero_vectors: bool, controller: str = "lstm"):
    """Run's inputs for a small model whose head layer gives every head this beta and gamma
    (its bias; the weights add a little), exact zeros in the previous weightings and in the
    read head's shift kernel, and with ``zero_vectors`` a zero key (the key's weights and bias
    zero: tanh(0) = 0), a zero row in every memory and an all-zero memory in sequence 1."""
    torch.manual_seed(0)
    model = NTM(SMALL, controller=controller, memory_rows=6, memory_width=3,
                controller_size=4).double()
    g = torch.Generator().manual_seed(5)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    heads = model.heads
    weight = torch.cat([heads.addressing.weight, heads.erase_add.weight]).detach().clone()
    bias = torch.cat([heads.addressing.bias, heads.erase_add.bias]).detach().clone()
    per_head = 3 + 1 + 1 + 3 + 1  # k (M = 3), beta, g, s (3), gamma
    for h in range(2):
        bias[h * per_head + 3] = beta  # softplus(beta) = beta above 20, and ~ beta below
        bias[h * per_head + 8] = gamma - 1  # gamma = 1 + softplus
        weight[h * per_head + 3] *= 1e-3
        weight[h * per_head + 8] *= 1e-3
    bias[5:8] = torch.tensor([-1e4, 0.0, -1e4])  # the read head's kernel: exactly (0, 1, 0)
    weight[5:8] = 0
    memory, previous = randn(2, 6, 3), torch.zeros(2, 2, 6, dtype=torch.float64)
    previous[:, :, 0] = 1
    if zero_vectors:
        weight[:3], bias[:3] = 0, 0
        memory[:, 2], memory[1] = 0, 0
    if controller == "lstm":
        cell = model.controller.cells[0]
        h0, c0 = randn(2, 4), randn(2, 4)
        w_ctrl, b_ctrl = torch.cat([cell.weight_ih, cell.weight_hh], 1), cell.bias_ih + cell.bias_hh
    else:
        layer = model.controller.layers[0]
        h0 = c0 = memory.new_zeros(2, 0)
        w_ctrl, b_ctrl = layer.weight, layer.bias
    reads = randn(2, 1, 3)
    inputs = [randn(3, 2, 5), h0, c0, memory, previous, reads, w_ctrl.detach().clone(),
              b_ctrl.detach().clone(), weight, bias]
    return [t.requires_grad_(t.numel() > 0) for t in inputs], layout_of(model)


@pytest.mark.parametrize("beta, gamma", [(1e-3, 1.0), (1.0, 100.0), (1e3, 1.0), (1e3, 1e3)])
@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_gradcheck_extremes(beta, gamma, controller):
    """As the step's own test (test_fused.test_gradcheck_extremes): large beta and gamma make
    the run strongly curved, so the finite-difference step is 1e-8."""
    inputs, layout = run_inputs(beta, gamma, zero_vectors=False, controller=controller)
    assert torch.autograd.gradcheck(lambda *a: sequence.Run.apply(*a, layout, True), inputs,
                                    eps=1e-8, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("beta, gamma", [(1e-3, 1.0), (1.0, 100.0), (1.0, 1e3)])
def test_gradcheck_zero_key_and_zero_rows(beta, gamma):
    """Near a zero vector the cosine changes on a scale of 1e-8 (test_fused's test of the same
    name), so the finite-difference step is 1e-11."""
    inputs, layout = run_inputs(beta, gamma, zero_vectors=True)
    assert torch.autograd.gradcheck(lambda *a: sequence.Run.apply(*a, layout, True), inputs,
                                    eps=1e-11, atol=1e-3, rtol=1e-3)


def test_a_weight_changed_in_place_before_the_backward_pass_raises():
    """As autograd's own saved tensors: the run's weights are checked for in-place changes."""
    torch.manual_seed(0)
    model = NTM(SMALL, controller="feedforward")  # its layer's weight is Run's own input
    loss = model(torch.rand(5, 2, 5).round()).sum()
    with torch.no_grad():
        model.controller.layers[0].weight.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
