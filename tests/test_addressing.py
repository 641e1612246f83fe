"""Addressing (eqs. 5-9): hand-computed examples, properties, extremes and gradients."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ntm.addressing import (
    address,
    content_weighting,
    interpolate,
    sharpen,
    shift,
    similarity,
)

T = torch.tensor


def close(a, b, tol=1e-6):
    torch.testing.assert_close(torch.as_tensor(a, dtype=torch.float64),
                               torch.as_tensor(b, dtype=torch.float64), atol=tol, rtol=tol)


# ---------------------------------------------------------------- hand-computed, N = 4

MEMORY = T([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]])  # (1, 4, 2); last row is zero
KEY = T([[1.0, 0.0]])


def test_similarity_by_hand():
    # cos([1,0],[1,0]) = 1; cos([1,0],[0,1]) = 0; cos([1,0],[1,1]) = 1/sqrt(2); zero row -> 0
    close(similarity(MEMORY, KEY), [[1.0, 0.0, 1 / math.sqrt(2), 0.0]])


def test_similarity_is_scale_invariant_and_signed():
    close(similarity(MEMORY * 7.0, KEY * 0.01), similarity(MEMORY, KEY))
    close(similarity(MEMORY, -KEY), [[-1.0, 0.0, -1 / math.sqrt(2), 0.0]])


def test_content_weighting_by_hand():
    scores = [2.0 * c for c in (1.0, 0.0, 1 / math.sqrt(2), 0.0)]  # beta = 2
    exps = [math.exp(s) for s in scores]
    expected = [e / sum(exps) for e in exps]
    close(content_weighting(MEMORY, KEY, T([[2.0]])), [expected])


def test_interpolate_by_hand():
    content = T([[0.1, 0.2, 0.3, 0.4]])
    previous = T([[1.0, 0.0, 0.0, 0.0]])
    # 0.25 * content + 0.75 * previous
    close(interpolate(content, previous, T([[0.25]])), [[0.775, 0.05, 0.075, 0.1]])


def test_shift_by_hand():
    w = T([[0.1, 0.2, 0.3, 0.4]])
    s = T([[0.2, 0.5, 0.3]])  # offsets -1, 0, +1
    # w~(i) = s(-1) w(i+1) + s(0) w(i) + s(+1) w(i-1), indices mod 4
    expected = [
        0.2 * 0.2 + 0.5 * 0.1 + 0.3 * 0.4,
        0.2 * 0.3 + 0.5 * 0.2 + 0.3 * 0.1,
        0.2 * 0.4 + 0.5 * 0.3 + 0.3 * 0.2,
        0.2 * 0.1 + 0.5 * 0.4 + 0.3 * 0.3,
    ]
    close(shift(w, s), [expected])
    close(expected, [0.21, 0.19, 0.29, 0.31])


def test_shift_direction_plus_one_moves_focus_down_and_wraps():
    down = T([[0.0, 0.0, 1.0]])
    close(shift(T([[1.0, 0.0, 0.0, 0.0]]), down), [[0.0, 1.0, 0.0, 0.0]])
    close(shift(T([[0.0, 0.0, 0.0, 1.0]]), down), [[1.0, 0.0, 0.0, 0.0]])  # wraps to row 0
    up = T([[1.0, 0.0, 0.0]])
    close(shift(T([[1.0, 0.0, 0.0, 0.0]]), up), [[0.0, 0.0, 0.0, 1.0]])


def test_shift_radius_three_by_hand():
    w = torch.zeros(1, 8)
    w[0, 2] = 1.0
    s = torch.zeros(1, 7)  # offsets -3..+3
    s[0, 6] = 0.5  # +3
    s[0, 0] = 0.5  # -3
    expected = torch.zeros(1, 8)
    expected[0, 5] = 0.5
    expected[0, 7] = 0.5  # 2 - 3 = -1 -> row 7
    close(shift(w, s), expected)


def test_shift_rejects_bad_kernels():
    with pytest.raises(ValueError, match="odd"):
        shift(torch.ones(1, 4) / 4, torch.ones(1, 2) / 2)
    with pytest.raises(ValueError, match="does not fit"):
        shift(torch.ones(1, 4) / 4, torch.ones(1, 5) / 5)


def test_sharpen_by_hand():
    w = T([[0.1, 0.2, 0.3, 0.4]])
    close(sharpen(w, T([[2.0]])), [[1 / 30, 4 / 30, 9 / 30, 16 / 30]])


def test_address_by_hand_chains_the_four_stages():
    beta, gate, gamma = T([[1.0]]), T([[0.5]]), T([[2.0]])
    kernel = T([[0.0, 0.0, 1.0]])
    previous = T([[0.0, 0.0, 0.0, 1.0]])
    exps = [math.exp(c) for c in (1.0, 0.0, 1 / math.sqrt(2), 0.0)]
    wc = [e / sum(exps) for e in exps]
    wg = [0.5 * c + 0.5 * p for c, p in zip(wc, [0, 0, 0, 1], strict=True)]
    ws = [wg[3], wg[0], wg[1], wg[2]]  # +1 shift: row i takes row i-1
    sq = [x**2 for x in ws]
    w = [x / sum(sq) for x in sq]
    stages = address(MEMORY, KEY, beta, gate, kernel, gamma, previous)
    close(stages.content, [wc])
    close(stages.gated, [wg])
    close(stages.shifted, [ws])
    close(stages.sharpened, [w])


# ---------------------------------------------------------------- properties (hypothesis)


@st.composite
def problems(draw, dtype=torch.float64):
    b = draw(st.integers(1, 4))
    n = draw(st.integers(3, 24))
    m = draw(st.integers(1, 6))
    r = draw(st.integers(0, (n - 1) // 2))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    memory = torch.randn(b, n, m, generator=g, dtype=dtype)
    key = torch.randn(b, m, generator=g, dtype=dtype)
    beta = torch.rand(b, 1, generator=g, dtype=dtype) * draw(st.sampled_from([1.0, 10.0, 100.0]))
    gate = torch.rand(b, 1, generator=g, dtype=dtype)
    kernel = torch.softmax(torch.randn(b, 2 * r + 1, generator=g, dtype=dtype) * 3, -1)
    gamma = 1 + torch.rand(b, 1, generator=g, dtype=dtype) * draw(st.sampled_from([1.0, 10.0, 50.0]))
    previous = torch.softmax(torch.randn(b, n, generator=g, dtype=dtype) * 3, -1)
    return memory, key, beta, gate, kernel, gamma, previous


@settings(max_examples=60, deadline=None)
@given(problems())
def test_every_stage_is_a_distribution(p):
    for stage in address(*p):
        assert torch.isfinite(stage).all()
        assert (stage >= 0).all()
        close(stage.sum(-1), torch.ones(stage.shape[0]), tol=1e-9)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_gate_one_gives_content_and_zero_gives_previous(p):
    memory, key, beta, _, kernel, gamma, previous = p
    ones = torch.ones_like(beta)
    content = content_weighting(memory, key, beta)
    close(interpolate(content, previous, ones), content, tol=1e-12)
    close(interpolate(content, previous, 0 * ones), previous, tol=1e-12)
    close(address(memory, key, beta, ones, kernel, gamma, previous).gated, content, tol=1e-12)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_identity_kernel_leaves_weighting_unchanged(p):
    previous, kernel = p[6], p[4]
    r = kernel.shape[-1] // 2
    identity = torch.zeros_like(kernel)
    identity[:, r] = 1
    close(shift(previous, identity), previous, tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(problems(), st.data())
def test_one_hot_kernel_at_plus_d_is_roll_by_d(p, data):
    previous, kernel = p[6], p[4]
    r = kernel.shape[-1] // 2
    d = data.draw(st.integers(-r, r))
    one_hot = torch.zeros_like(kernel)
    one_hot[:, d + r] = 1
    close(shift(previous, one_hot), torch.roll(previous, d, dims=-1), tol=1e-12)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_shift_is_linear_and_keeps_mass(p):
    previous, kernel = p[6], p[4]
    other = torch.roll(previous, 1, -1)
    close(shift(0.3 * previous + 0.7 * other, kernel),
          0.3 * shift(previous, kernel) + 0.7 * shift(other, kernel), tol=1e-12)
    close(shift(previous, kernel).sum(-1), previous.sum(-1), tol=1e-12)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_gamma_one_is_identity(p):
    previous = p[6]
    close(sharpen(previous, torch.ones(previous.shape[0], 1, dtype=previous.dtype)), previous,
          tol=1e-10)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_large_gamma_approaches_one_hot_at_argmax(p):
    previous = p[6]
    top2 = previous.topk(2, dim=-1).values
    ratio = top2[:, 1] / top2[:, 0]  # < 1 when the max is unique
    ratio = ratio.clamp_max(1 - 1e-3)
    # choose gamma so that (second / first)^gamma * N < 1e-6
    gamma = (math.log(1e-6 / previous.shape[-1]) / torch.log(ratio)).unsqueeze(-1) + 1
    result = sharpen(previous, gamma)
    unique = top2[:, 1] < top2[:, 0] * (1 - 1e-3)
    one_hot = torch.nn.functional.one_hot(previous.argmax(-1), previous.shape[-1]).to(previous)
    close(result[unique], one_hot[unique], tol=1e-5)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_sharpening_keeps_the_order_and_never_flattens(p):
    previous, gamma = p[6], p[5]
    result = sharpen(previous, gamma)
    assert torch.equal(result.argmax(-1), previous.argmax(-1))
    assert (result.max(-1).values >= previous.max(-1).values - 1e-12).all()


@settings(max_examples=30, deadline=None)
@given(problems())
def test_batch_elements_are_independent(p):
    together = address(*p)
    for b in range(p[0].shape[0]):
        alone = address(*(x[b : b + 1] for x in p))
        for s_all, s_one in zip(together, alone, strict=True):
            close(s_all[b : b + 1], s_one, tol=1e-12)


def test_heads_axis_broadcasts_against_one_memory():
    g = torch.Generator().manual_seed(0)
    memory = torch.randn(2, 10, 3, generator=g)
    keys = torch.randn(2, 4, 3, generator=g)  # 4 heads
    beta = torch.full((2, 4, 1), 5.0)
    stages = address(memory.unsqueeze(1), keys, beta, torch.full((2, 4, 1), 0.5),
                     torch.full((2, 4, 3), 1 / 3), torch.full((2, 4, 1), 2.0),
                     torch.full((2, 4, 10), 0.1))
    for h in range(4):
        single = content_weighting(memory, keys[:, h], beta[:, h])
        close(stages.content[:, h], single)


# ---------------------------------------------------------------- extremes

EXTREME_BETAS = [1e-6, 1.0, 1e3]
EXTREME_GAMMAS = [1.0, 100.0, 1e3]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("beta", EXTREME_BETAS)
@pytest.mark.parametrize("gamma", EXTREME_GAMMAS)
def test_extremes_stay_finite_and_normalised_with_finite_gradients(dtype, beta, gamma):
    n, m = 8, 4
    memory = torch.randn(3, n, m, dtype=dtype)
    memory[:, 2] = 0  # zero rows
    memory[1] = 0  # an all-zero memory
    memory[2, 5] = memory[2, 6]  # a tie
    key = torch.randn(3, m, dtype=dtype)
    key[0] = 0  # zero key
    previous = torch.zeros(3, n, dtype=dtype)
    previous[:, 0] = 1  # exact zeros everywhere else
    kernel = torch.tensor([[0.0, 1.0, 0.0], [0.3, 0.5, 0.2], [0.0, 0.0, 1.0]], dtype=dtype)
    leaves = [memory, key, torch.full((3, 1), beta, dtype=dtype), torch.tensor([[1.0], [0.0], [0.5]], dtype=dtype),
              kernel, torch.full((3, 1), gamma, dtype=dtype), previous]
    leaves = [x.clone().requires_grad_(True) for x in leaves]
    stages = address(*leaves)
    for stage in stages:
        assert torch.isfinite(stage).all()
        assert (stage >= 0).all()
        torch.testing.assert_close(stage.sum(-1), torch.ones(3, dtype=dtype), atol=1e-5, rtol=0)
    (stages.sharpened * torch.arange(n, dtype=dtype)).sum().backward()
    for leaf in leaves:
        assert torch.isfinite(leaf.grad).all()


def test_zero_key_gives_uniform_content():
    memory = torch.randn(2, 6, 3)
    close(content_weighting(memory, torch.zeros(2, 3), torch.full((2, 1), 50.0)),
          torch.full((2, 6), 1 / 6))


def test_beta_separates_near_duplicates():
    memory = T([[[1.0, 0.0], [1.0, 0.05], [0.0, 1.0]]])
    soft = content_weighting(memory, KEY, T([[1.0]]))
    hard = content_weighting(memory, KEY, T([[1000.0]]))
    assert soft[0, 0] - soft[0, 1] < 0.01
    assert hard[0, 0] > 0.7  # cos differs by ~1.2e-3; beta = 1000 turns that into a clear winner


# ---------------------------------------------------------------- gradients


def test_gradcheck_address_float64():
    g = torch.Generator().manual_seed(1)
    b, n, m = 2, 6, 3
    inputs = (
        torch.randn(b, n, m, generator=g, dtype=torch.float64),
        torch.randn(b, m, generator=g, dtype=torch.float64),
        torch.rand(b, 1, generator=g, dtype=torch.float64) * 5 + 0.1,
        torch.rand(b, 1, generator=g, dtype=torch.float64),
        torch.softmax(torch.randn(b, 3, generator=g, dtype=torch.float64), -1),
        torch.rand(b, 1, generator=g, dtype=torch.float64) * 3 + 1,
        torch.softmax(torch.randn(b, n, generator=g, dtype=torch.float64), -1),
    )
    inputs = tuple(x.requires_grad_(True) for x in inputs)
    assert torch.autograd.gradcheck(lambda *a: tuple(address(*a)), inputs)
