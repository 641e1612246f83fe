"""The NTM module: shapes, explicit state, step/run/trace agreement, options, gradients."""

import numpy as np
import pytest
import torch

import ntm
from ntm.addressing import address
from ntm.memory import read, write
from ntm.model import CONSTANT_MEMORY, NTM, NTMConfig

SMALL = NTMConfig(input_size=5, output_size=4, memory_rows=12, memory_width=6, controller_size=16)


def small(**overrides) -> NTM:
    torch.manual_seed(0)
    return NTM(SMALL, **overrides)


def test_forward_shapes_and_contract_names():
    model = ntm.NTM(ntm.NTMConfig())  # the copy-task defaults: N=128, M=20, LSTM 100
    x = torch.zeros(41, 2, 9)
    assert model(x).shape == (41, 2, 8)
    assert model.config.memory_rows == 128 and model.config.memory_width == 20


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"controller": "feedforward"},
        {"read_heads": 2, "write_heads": 3},
        {"shift_range": 3},
        {"memory_init": "learned"},
        {"memory_init": "random"},
        {"controller_layers": 2},
    ],
)
def test_options_run_and_keep_distributions(overrides):
    model = small(**overrides)
    x = torch.rand(6, 3, 5)
    assert model(x).shape == (6, 3, 4)
    trace = model.trace(x)
    for head in (trace.read, trace.write):
        for stage in (head.content, head.gated, head.shifted, head.weights):
            assert np.isfinite(stage).all()
            np.testing.assert_allclose(stage.sum(-1), 1.0, atol=1e-5)


def test_memory_initialisations():
    model = small()
    state = model.initial_state(2)
    assert torch.all(state.memory == CONSTANT_MEMORY)
    learned = small(memory_init="learned").initial_state(2)
    assert learned.memory.requires_grad
    rnd = small(memory_init="random")
    a = rnd.initial_state(2, torch.Generator().manual_seed(1)).memory
    b = rnd.initial_state(2, torch.Generator().manual_seed(1)).memory
    c = rnd.initial_state(2, torch.Generator().manual_seed(2)).memory
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_initial_weightings_are_softmax_of_learned_logits():
    model = small()
    state = model.initial_state(1)
    torch.testing.assert_close(state.read_weights[0], torch.softmax(model.initial_read_logits, -1))
    assert model.initial_read_logits.requires_grad and model.initial_reads.requires_grad


def test_step_run_forward_and_trace_agree():
    model = small()
    x = torch.rand(7, 2, 5)
    state = model.initial_state(2)
    stepped = []
    for x_t in x:
        y, state = model.step(x_t, state)
        stepped.append(y)
    stepped = torch.stack(stepped)
    logits, final = model.run(x)
    torch.testing.assert_close(stepped, logits)
    torch.testing.assert_close(model(x), logits)
    torch.testing.assert_close(final.memory, state.memory)
    trace = model.trace(x)
    np.testing.assert_allclose(trace.logits, logits.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(trace.outputs, torch.sigmoid(logits).detach().numpy(), atol=1e-6)


def test_trace_is_consistent_with_the_equations():
    model = small(read_heads=2)
    x = torch.rand(5, 2, 5)
    tr = model.trace(x)
    assert tr.steps == 5
    assert tr.read.key.shape == (5, 2, 2, 6) and tr.read.beta.shape == (5, 2, 2)
    assert tr.read.shift.shape == (5, 2, 2, 3) and tr.read.erase is None
    assert tr.write.erase.shape == (5, 2, 1, 6) and tr.memory.shape == (5, 2, 12, 6)
    f = torch.from_numpy
    for t in range(5):
        before = f(tr.memory_before(t))
        for head in (tr.read, tr.write):
            stages = address(before.unsqueeze(1), f(head.key[t]), f(head.beta[t])[..., None],
                             f(head.gate[t])[..., None], f(head.shift[t]),
                             f(head.gamma[t])[..., None], f(head.previous[t]))
            for got, want in zip((head.content, head.gated, head.shifted, head.weights), stages,
                                 strict=True):
                np.testing.assert_allclose(got[t], want.numpy(), atol=1e-5)
            if t:
                np.testing.assert_array_equal(head.previous[t], head.weights[t - 1])
        np.testing.assert_allclose(tr.reads[t], read(before, f(tr.read.weights[t])).numpy(), atol=1e-6)
        after = write(before, f(tr.write.weights[t]), f(tr.write.erase[t]), f(tr.write.add[t]))
        np.testing.assert_allclose(tr.memory[t], after.numpy(), atol=1e-6)
    # the parameters are in their activation ranges
    assert (tr.read.beta > 0).all() and (tr.read.gamma >= 1).all()
    assert ((tr.write.gate >= 0) & (tr.write.gate <= 1)).all()
    assert (np.abs(tr.write.add) <= 1).all() and ((tr.write.erase >= 0) & (tr.write.erase <= 1)).all()


def test_state_is_not_kept_on_the_module():
    model = small()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    attrs = set(vars(model))
    a, b = torch.rand(6, 1, 5), torch.rand(6, 1, 5)
    alone_a, alone_b = model(a), model(b)
    # interleave two "sessions" step by step: each must see exactly its own run
    sa, sb = model.initial_state(1), model.initial_state(1)
    ya, yb = [], []
    for xa, xb in zip(a, b, strict=True):
        out, sa = model.step(xa, sa)
        ya.append(out)
        out, sb = model.step(xb, sb)
        yb.append(out)
    torch.testing.assert_close(torch.stack(ya), alone_a)
    torch.testing.assert_close(torch.stack(yb), alone_b)
    assert set(vars(model)) == attrs
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_batch_elements_are_independent():
    model = small()
    x = torch.rand(6, 3, 5)
    together = model(x)
    for b in range(3):
        torch.testing.assert_close(model(x[:, b : b + 1]), together[:, b : b + 1], atol=1e-6, rtol=1e-5)


def test_gradients_reach_every_parameter():
    model = small(memory_init="learned")
    loss = model(torch.rand(6, 2, 5)).pow(2).sum()
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"memory_rows": 0}, "memory_rows"),
        ({"controller": "gru"}, "controller"),
        ({"memory_init": "zeros"}, "memory_init"),
        ({"memory_rows": 4, "shift_range": 2}, "shift range"),
        ({"write_heads": 0}, "write_heads"),
    ],
)
def test_bad_configs_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        NTMConfig(**bad)


def test_unknown_config_keys_are_refused():
    with pytest.raises(ValueError, match="unknown NTM config keys: colour"):
        NTMConfig.from_dict({"colour": "red"})


def test_gradcheck_one_ntm_step_float64():
    torch.manual_seed(5)
    model = NTM(NTMConfig(input_size=3, output_size=2, memory_rows=5, memory_width=3,
                          controller_size=4)).double()
    state = model.initial_state(2)
    memory0 = (torch.randn(2, 5, 3, dtype=torch.float64) * 0.5).requires_grad_(True)
    x = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)

    def one_step(x_t, memory):
        y, new = model.step(x_t, state._replace(memory=memory))
        return y, new.memory, new.read_weights, new.write_weights

    assert torch.autograd.gradcheck(one_step, (x, memory0))
