"""The fused engine (ntm.fused) against the reference (ntm.addressing, ntm.memory, ntm.heads):
values and gradients of one step and of whole runs, float64 gradcheck, the extremes, the switch;
each on the step's C loops (ntm.native) and on its tensor operations."""

import gc
import weakref
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntm import NTM, NTMConfig, fused, load_model, native, save_model, sequence
from ntm.addressing import address
from ntm.memory import read, write

SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "models"


@pytest.fixture(autouse=True, params=["C loops", "C loops, per step", "tensor ops"])
def engine(request, monkeypatch):
    """Every test runs on each form of the fused step: its loops in C (ntm.native, built
    here when a C compiler is present) and its tensor operations (the fallback). Whole runs
    with the C loops take ntm.sequence where it applies ("C loops"; tests/test_sequence.py
    has its own tests), or record each step in autograd ("C loops, per step")."""
    if request.param != "tensor ops" and native.library() is None:
        pytest.skip("no C compiler here: the C memory step is not built")
    monkeypatch.setattr(native, "enabled", request.param != "tensor ops")
    monkeypatch.setattr(sequence, "enabled", request.param == "C loops")
    return request.param


def reference_step(raw, memory, previous, layout: fused.Layout):
    """The same step from the readable modules: ntm.heads' activations, eqs. 5-9, 2, 3-4."""
    batch, heads = raw.shape[0], layout.read_heads + layout.write_heads
    per_head = sum(layout.sizes)
    k, beta, gate, shift, gamma = torch.split(
        raw[:, : heads * per_head].view(batch, heads, per_head), layout.sizes, dim=-1)
    erase, add = raw[:, heads * per_head:].view(batch, layout.write_heads, -1).chunk(2, -1)
    stages = address(memory.unsqueeze(1), torch.tanh(k), F.softplus(beta), torch.sigmoid(gate),
                     torch.softmax(shift, -1), 1 + F.softplus(gamma), previous)
    w, hr = stages.sharpened, layout.read_heads
    return (read(memory, w[:, :hr]), write(memory, w[:, hr:], torch.sigmoid(erase), torch.tanh(add)),
            w)


def problem(seed, batch=3, rows=10, width=4, hr=1, hw=1, radius=1, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    layout = fused.Layout(hr, hw, width, 2 * radius + 1)
    size = (hr + hw) * sum(layout.sizes) + hw * 2 * width
    raw = torch.randn(batch, size, generator=g, dtype=dtype) * 2
    memory = torch.randn(batch, rows, width, generator=g, dtype=dtype)
    previous = torch.softmax(torch.randn(batch, hr + hw, rows, generator=g, dtype=dtype) * 3, -1)
    return [raw, memory, previous], layout


def outputs_and_grads(step, inputs, layout, seed=0):
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
    outs = step(*leaves, layout)
    g = torch.Generator().manual_seed(seed)
    cotangents = [torch.randn(o.shape, generator=g, dtype=o.dtype) for o in outs]
    torch.autograd.backward(outs, cotangents)
    return [o.detach() for o in outs], [leaf.grad for leaf in leaves]


def assert_same(a, b, tol):
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, atol=tol, rtol=tol)


# ---------------------------------------------------------------- one step


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # engine: per test
@given(seed=st.integers(0, 2**31 - 1), batch=st.integers(1, 4), rows=st.integers(3, 16),
       width=st.integers(1, 6), hr=st.integers(1, 3), hw=st.integers(1, 3), data=st.data())
def test_step_equals_reference_float64(seed, batch, rows, width, hr, hw, data):
    radius = data.draw(st.integers(0, (rows - 1) // 2))
    inputs, layout = problem(seed, batch, rows, width, hr, hw, radius)
    ref_out, ref_grad = outputs_and_grads(reference_step, inputs, layout)
    out, grad = outputs_and_grads(fused.memory_step, inputs, layout)
    assert_same(out, ref_out, 1e-12)
    assert_same(grad, ref_grad, 1e-10)


@pytest.mark.parametrize("width", [7, 8, 16, 20, 21, 32])
@pytest.mark.parametrize("heads", [(1, 1), (2, 2)])
def test_every_memory_width_of_the_c_loops(width, heads):
    """The C loops take the usual widths (8, 16, 20, 32) as constants (memory_step.c's
    FIXED_WIDTH) and any other one as a variable: each path equals the reference."""
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-6)):
        inputs, layout = problem(width, batch=3, rows=12, width=width, hr=heads[0], hw=heads[1],
                                 dtype=dtype)
        ref_out, ref_grad = outputs_and_grads(reference_step, inputs, layout)
        out, grad = outputs_and_grads(fused.memory_step, inputs, layout)
        assert_same(out, ref_out, tol)
        assert_same(grad, ref_grad, 100 * tol)


def test_a_step_is_freed_without_the_garbage_collector():
    """No reference cycle holds a step: with the collector off, its outputs die with their last
    reference. (The C path once kept its output w on the autograd node, w -> grad_fn -> ctx ->
    w, so a training batch's memories piled up until the collector ran: 5,700 page faults per
    batch of 32 copy sequences, against about a hundred.)"""
    inputs, layout = problem(0, batch=2, rows=12, width=4, dtype=torch.float32)
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
    gc.collect()
    gc.disable()
    try:
        outs = fused.memory_step(*leaves, layout)
        refs = [weakref.ref(o) for o in outs]
        sum(o.sum() for o in outs).backward()
        del outs
        assert [r() for r in refs] == [None, None, None]
    finally:
        gc.enable()


@pytest.mark.parametrize("seed", range(5))
def test_step_equals_reference_float32(seed):
    inputs, layout = problem(seed, batch=8, rows=128, width=20, dtype=torch.float32)
    ref_out, ref_grad = outputs_and_grads(reference_step, inputs, layout)
    out, grad = outputs_and_grads(fused.memory_step, inputs, layout)
    assert_same(out, ref_out, 1e-6)
    assert_same(grad, ref_grad, 1e-5)


@pytest.mark.parametrize("rows", [3, 5, 13, 37])
@pytest.mark.parametrize("beta, gamma", [(1e-3, 1.0), (30.0, 10.0), (1e3, 1.0), (1e3, 1e3)])
def test_float32_step_is_as_exact_as_torch_float32(rows, beta, gamma):
    """In float32 the C loops compute the softmaxes' exp and eq. 9's log a vector at a time
    with their own code (memory_step.c), for row counts that are and are not a multiple of the
    vector (3, 5, 13, 37 rows), and at beta, gamma up to 1e3, where float32 rounding is
    amplified: the step's outputs are as close to the float64 reference as torch's own float32
    operations are (within twice their error, plus 1e-6)."""
    for seed in range(5):
        inputs, layout = problem(seed, batch=3, rows=rows, width=6)
        per_head = sum(layout.sizes)
        for h in range(2):
            inputs[0][:, h * per_head + 6] = beta
            inputs[0][:, h * per_head + per_head - 1] = gamma - 1
        exact, _ = outputs_and_grads(reference_step, inputs, layout)
        single = [x.float() for x in inputs]
        torch_f32, _ = outputs_and_grads(reference_step, single, layout)
        ours, _ = outputs_and_grads(fused.memory_step, single, layout)
        for o, t, e in zip(ours, torch_f32, exact, strict=True):
            assert o.dtype == torch.float32 and torch.isfinite(o).all()
            assert (o.double() - e).abs().max() <= 2 * (t.double() - e).abs().max() + 1e-6


def test_float32_head_activations_equal_torch_at_extreme_inputs(engine):
    """The C loops' float version computes the keys' and adds' tanh and the erase vectors'
    sigmoid a vector at a time from their own expm1 (memory_step.c); at every magnitude, from
    1e-30 (where tanh x = x must survive) to infinity, they round to what torch's float32 tanh
    and sigmoid give, within an ulp."""
    if engine == "tensor ops":
        pytest.skip("the tensor step calls torch's own tanh and sigmoid")
    extremes = [0.0, -0.0, 1e-30, -1e-30, 3e-8, -1e-4, 0.3, -0.9, 1.5, -5.0, 9.5, -20.0, 44.0,
                -88.0, 89.0, -400.0, 1e4, -1e30, float("inf"), float("-inf")]
    inputs, layout = problem(0, batch=len(extremes), rows=12, width=8, hw=2, dtype=torch.float32)
    raw, m = inputs[0], layout.width
    heads, per_head = layout.read_heads + layout.write_heads, sum(layout.sizes)
    keys = [h * per_head + i for h in range(heads) for i in range(m)]
    erase_add = list(range(heads * per_head, raw.shape[1]))
    values = torch.tensor(extremes)
    for j, column in enumerate(keys + erase_add):  # every entry meets every extreme
        raw[:, column] = values.roll(j)
    outs = native.forward(raw, *inputs[1:], layout.read_heads, layout.shift_width)
    acts = outs[3].buffer[: raw.numel()].view_as(raw)
    erase = [c for c in erase_add if (c - heads * per_head) % (2 * m) < m]
    adds = [c for c in erase_add if c not in erase]
    for columns, fn in ((keys + adds, torch.tanh), (erase, torch.sigmoid)):
        torch.testing.assert_close(acts[:, columns], fn(raw[:, columns]), rtol=2.4e-7, atol=0)
    assert all(torch.isfinite(o).all() for o in outs[:3])


@pytest.mark.parametrize("shape", [dict(), dict(hr=2, hw=3), dict(radius=2, rows=7)])
def test_gradcheck_float64(shape):
    inputs, layout = problem(1, **shape)
    leaves = [x.requires_grad_(True) for x in inputs]
    assert torch.autograd.gradcheck(lambda *a: fused.memory_step(*a, layout), leaves)


# ---------------------------------------------------------------- the extremes


def extreme(beta: float, gamma: float, dtype=torch.float64, zero_vectors: bool = True):
    """beta and gamma as given (raw = beta: softplus is the identity above 20), exact zeros in
    the previous weightings and in two kernels and, with ``zero_vectors``, a zero key in
    sequence 0, a zero row in every memory and an all-zero memory in sequence 1."""
    batch, rows, width = 3, 8, 4
    layout = fused.Layout(1, 1, width, 3)
    g = torch.Generator().manual_seed(3)
    head = torch.randn(batch, 2, sum(layout.sizes), generator=g, dtype=dtype)
    head[..., width] = beta
    head[..., -1] = gamma - 1
    if zero_vectors:
        head[0, :, :width] = 0  # tanh(0) = 0: a zero key
    kernel = head[..., width + 2: width + 5]
    kernel[1] = torch.tensor([-1e4, 0.0, -1e4], dtype=dtype)  # softmax: exactly (0, 1, 0)
    kernel[2] = torch.tensor([-1e4, -1e4, 0.0], dtype=dtype)
    raw = torch.cat([head.reshape(batch, -1), torch.randn(batch, 2 * width, generator=g,
                                                          dtype=dtype)], -1)
    memory = torch.randn(batch, rows, width, generator=g, dtype=dtype)
    if zero_vectors:
        memory[:, 2] = 0
        memory[1] = 0
    previous = torch.zeros(batch, 2, rows, dtype=dtype)
    previous[:, :, 0] = 1
    return [raw, memory, previous], layout


@pytest.mark.parametrize("beta", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("gamma", [1.0, 100.0, 1e3])
def test_extremes_equal_reference_and_stay_finite(beta, gamma):
    inputs, layout = extreme(beta, gamma)
    ref_out, ref_grad = outputs_and_grads(reference_step, inputs, layout)
    out, grad = outputs_and_grads(fused.memory_step, inputs, layout)
    assert_same(out, ref_out, 1e-12)
    assert_same(grad, ref_grad, 1e-9)
    for t in out + grad:
        assert torch.isfinite(t).all()
    torch.testing.assert_close(out[2].sum(-1), torch.ones(3, 2, dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extremes_float32_and_float64_finite(dtype):
    for beta in (1e-3, 1e3):
        for gamma in (1.0, 1e3):
            inputs, layout = extreme(beta, gamma, dtype)
            out, grad = outputs_and_grads(fused.memory_step, inputs, layout)
            assert all(torch.isfinite(t).all() for t in out + grad)


@pytest.mark.parametrize("beta", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("gamma", [1.0, 100.0, 1e3])
def test_gradcheck_extremes(beta, gamma):
    """Large beta and gamma make the step strongly curved: a finite-difference step of 1e-8
    (instead of gradcheck's 1e-6) keeps the numerical Jacobian accurate."""
    inputs, layout = extreme(beta, gamma, zero_vectors=False)
    leaves = [x.requires_grad_(True) for x in inputs]
    assert torch.autograd.gradcheck(lambda *a: fused.memory_step(*a, layout), leaves,
                                    eps=1e-8, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("beta", [1e-3, 1.0])
@pytest.mark.parametrize("gamma", [1.0, 100.0, 1e3])
def test_gradcheck_zero_key_and_zero_rows(beta, gamma):
    """Near a zero vector the cosine (eq. 6, norms ``sqrt(|x|^2 + 1e-16)``) changes on a scale
    of 1e-8, so the finite-difference step must be far smaller: 1e-11. With beta = 1e3 on top,
    no float64 step is both small enough and above round-off; that case is checked against the
    reference's autograd instead (test_extremes_equal_reference_and_stay_finite)."""
    inputs, layout = extreme(beta, gamma)
    leaves = [x.requires_grad_(True) for x in inputs]
    assert torch.autograd.gradcheck(lambda *a: fused.memory_step(*a, layout), leaves,
                                    eps=1e-11, atol=1e-3, rtol=1e-3)


# ---------------------------------------------------------------- whole runs and the switch

SMALL = NTMConfig(input_size=5, output_size=4, memory_rows=12, memory_width=6, controller_size=16)
OPTIONS = [{}, {"controller": "feedforward"}, {"read_heads": 2, "write_heads": 3},
           {"shift_range": 3}, {"memory_init": "learned"}, {"controller_layers": 2},
           {"memory_init": "random"}]


def run_both(model, x, loss=lambda y: F.binary_cross_entropy_with_logits(y, torch.zeros_like(y))):
    results = []
    for fast in (False, True):
        model.fast = fast
        model.zero_grad()
        torch.manual_seed(0)  # the "random" memory initialisation
        logits, state = model.run(x)
        loss(logits).backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        results.append((logits.detach(), state, grads))
    return results


@pytest.mark.parametrize("overrides", OPTIONS)
def test_whole_run_float32_matches_reference(overrides):
    torch.manual_seed(0)
    model = NTM(SMALL, **overrides)
    x = torch.rand(9, 3, 5).round()
    (ref, ref_state, ref_grads), (out, state, grads) = run_both(model, x)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)
    for name in grads:
        torch.testing.assert_close(grads[name], ref_grads[name], atol=1e-6, rtol=1e-5, msg=name)
    for a, b in zip(state, ref_state, strict=True):
        for u, v in zip(a if isinstance(a, tuple) else [a], b if isinstance(b, tuple) else [b],
                        strict=True):
            torch.testing.assert_close(u, v, atol=1e-6, rtol=0)


@pytest.mark.parametrize("overrides", OPTIONS[:3])
def test_whole_run_float64_matches_reference(overrides):
    torch.manual_seed(0)
    model = NTM(SMALL, **overrides).double()
    x = torch.rand(9, 3, 5, dtype=torch.float64).round()
    (ref, _, ref_grads), (out, _, grads) = run_both(model, x, lambda y: y.sin().sum())
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=0)
    for name in grads:
        torch.testing.assert_close(grads[name], ref_grads[name], atol=1e-10, rtol=1e-10)


def test_copy_sized_run_matches_reference():
    torch.manual_seed(0)
    model = NTM(NTMConfig())  # N = 128, M = 20, LSTM 100: the benchmark's model
    x = torch.rand(41, 4, 9).round()
    (ref, _, ref_grads), (out, _, grads) = run_both(model, x)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)
    for name in grads:
        torch.testing.assert_close(grads[name], ref_grads[name], atol=1e-6, rtol=1e-5, msg=name)


def test_fast_is_the_default_and_not_saved(tmp_path):
    torch.manual_seed(0)
    model = NTM(SMALL)
    assert model.fast
    assert not any("fast" in key for key in model.state_dict())
    x = torch.rand(7, 2, 5)
    path = save_model(model, tmp_path / "m.pt", task="copy")
    loaded = load_model(path)
    assert loaded.fast
    with torch.no_grad():
        model.fast = False
        expected = model(x)
        torch.testing.assert_close(loaded(x), expected, atol=1e-6, rtol=0)
        loaded.fast = False
        assert torch.equal(loaded(x), expected)  # the reference engine: bit for bit


def test_trace_stays_on_the_reference_and_agrees_with_the_fused_run():
    torch.manual_seed(0)
    model = NTM(SMALL)
    x = torch.rand(8, 2, 5)
    trace = model.trace(x)
    model.fast = False
    with torch.no_grad():
        assert torch.equal(torch.from_numpy(trace.logits), model(x))
        model.fast = True
        torch.testing.assert_close(model(x), torch.from_numpy(trace.logits), atol=1e-6, rtol=0)


def _both_engines(model, x) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        model.fast = True
        fast = model(x)
        model.fast = False
        return fast, model(x)


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.pt")), ids=lambda p: p.stem)
def test_shipped_checkpoints_give_the_same_output(path):
    """In float64 the two engines agree to rounding (1e-9). In float32 neither is exact: the
    model's own dynamics amplify rounding (the fine-tuned recall model: about 5e-5 in its
    logits after 21 steps, in either engine), so there the fast engine must be as close to the
    float64 truth as the reference engine is, and give the same bits. "As close" is read from
    the per-sequence worst errors over 32 sequences: their median and 90th percentile. Not
    their maximum: some random inputs drive a model into a regime that amplifies any rounding,
    and which engine's rounding is the luckier one there is chance. With the copy model
    shipped beside this test, one of these 32 sequences gives every engine its worst error: 1.2e-2 on
    the reference, 6.0e-3 on the tensor operations, 1.2e-1 on the C loops, against medians of
    3.8e-5, 3.3e-5 and 5.0e-5 (other draws of 32: the C loops' maximum 0.4 to 1.1 times the
    reference's)."""
    model = load_model(path)
    if model.model_type == "ntm":
        torch.manual_seed(0)
        x = torch.rand(21, 32, model.config.input_size).round()
        fast, reference = _both_engines(model, x)
        fast64, exact = _both_engines(model.double(), x.double())
        torch.testing.assert_close(fast64, exact, atol=1e-9, rtol=0)

        def spread(y):  # per sequence, the worst logit error; its median and 90th percentile
            return torch.quantile((y.double() - exact).abs().amax(dim=(0, 2)),
                                  torch.tensor([0.5, 0.9], dtype=torch.float64))
        assert (spread(fast) <= 2 * spread(reference) + 1e-6).all()
        assert torch.equal(fast > 0, reference > 0)
