"""Memory read / erase / add (eqs. 2-4), single and several heads, and their gradients."""

import torch

from ntm.memory import add, erase, read, write

T = torch.tensor
MEMORY = T([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]])  # (1, 4, 2)


def test_read_by_hand():
    torch.testing.assert_close(read(MEMORY, T([[0.5, 0.5, 0.0, 0.0]])), T([[2.0, 3.0]]))
    torch.testing.assert_close(read(MEMORY, T([[0.0, 0.0, 0.0, 1.0]])), T([[7.0, 8.0]]))


def test_read_several_heads():
    w = T([[[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.25, 0.75]]])  # (1, 2 heads, 4)
    torch.testing.assert_close(read(MEMORY, w), T([[[2.0, 3.0], [6.5, 7.5]]]))


def test_erase_by_hand():
    # row 0 fully addressed: multiplied by (1 - e) = (0, 0.5); row 1 half: (1 - 0.5 e) = (0.5, 0.75)
    out = erase(MEMORY, T([[1.0, 0.5, 0.0, 0.0]]), T([[1.0, 0.5]]))
    torch.testing.assert_close(out, T([[[0.0, 1.0], [1.5, 3.0], [5.0, 6.0], [7.0, 8.0]]]))


def test_add_by_hand():
    out = add(MEMORY, T([[0.0, 0.5, 0.0, 1.0]]), T([[2.0, -2.0]]))
    torch.testing.assert_close(out, T([[[1.0, 2.0], [4.0, 3.0], [5.0, 6.0], [9.0, 6.0]]]))


def test_write_is_erase_then_add():
    w, e, a = T([[0.0, 1.0, 0.0, 0.0]]), T([[1.0, 1.0]]), T([[0.25, -0.5]])
    out = write(MEMORY, w, e, a)
    # full erase then add replaces row 1 by a
    torch.testing.assert_close(out[0, 1], T([0.25, -0.5]))
    torch.testing.assert_close(out[0, [0, 2, 3]], MEMORY[0, [0, 2, 3]])


def test_several_write_heads_multiply_erases_and_sum_adds():
    w = T([[[1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]]])  # (1, 2, 4)
    e = T([[[0.5, 0.5], [1.0, 0.0]]])
    a = T([[[1.0, 1.0], [2.0, 2.0]]])
    out = write(MEMORY, w, e, a)
    row0 = MEMORY[0, 0] * (1 - 1.0 * e[0, 0]) * (1 - 0.5 * e[0, 1]) + 1.0 * a[0, 0] + 0.5 * a[0, 1]
    row1 = MEMORY[0, 1] * (1 - 0.5 * e[0, 1]) + 0.5 * a[0, 1]
    torch.testing.assert_close(out[0, 0], row0)
    torch.testing.assert_close(out[0, 1], row1)
    torch.testing.assert_close(out[0, 2:], MEMORY[0, 2:])
    # the heads' order does not matter
    torch.testing.assert_close(write(MEMORY, w.flip(1), e.flip(1), a.flip(1)), out)


def test_one_head_with_head_axis_equals_without():
    g = torch.Generator().manual_seed(3)
    m = torch.randn(3, 7, 5, generator=g)
    w = torch.softmax(torch.randn(3, 7, generator=g), -1)
    e, a = torch.rand(3, 5, generator=g), torch.randn(3, 5, generator=g)
    torch.testing.assert_close(write(m, w, e, a), write(m, w[:, None], e[:, None], a[:, None]))
    torch.testing.assert_close(read(m, w), read(m, w[:, None])[:, 0])


def test_gradcheck_write_and_read_float64():
    g = torch.Generator().manual_seed(4)
    dt = torch.float64
    inputs = (
        torch.randn(2, 5, 3, generator=g, dtype=dt),
        torch.softmax(torch.randn(2, 2, 5, generator=g, dtype=dt), -1),
        torch.rand(2, 2, 3, generator=g, dtype=dt),
        torch.randn(2, 2, 3, generator=g, dtype=dt),
    )
    inputs = tuple(x.requires_grad_(True) for x in inputs)
    assert torch.autograd.gradcheck(write, inputs)
    assert torch.autograd.gradcheck(read, inputs[:2])
