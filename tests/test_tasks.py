"""Task generators and metrics (Graves et al. 2014, section 4): shapes, targets, seeding."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ntm.tasks import (
    AssociativeRecallTask,
    CopyTask,
    RepeatCopyTask,
    Task,
    bit_errors,
    cost_bits,
    make_task,
    masked_bce_loss,
)

FAST = settings(max_examples=12, deadline=None)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@FAST
@given(length=st.integers(1, 30), batch=st.integers(1, 5), seed=st.integers(0, 2**31))
def test_copy_encoding(length, batch, seed):
    b = CopyTask().batch(batch, gen(seed), length=length)
    assert b.inputs.shape == (2 * length + 1, batch, 9)
    assert b.targets.shape == (2 * length + 1, batch, 8)
    assert b.mask.shape == (2 * length + 1, batch)
    # Rows 0..L-1: bits, no delimiter; row L: delimiter only; rows L+1..2L: zeros.
    assert torch.all(b.inputs[:length, :, 8] == 0)
    assert torch.all(b.inputs[length, :, 8] == 1) and torch.all(b.inputs[length, :, :8] == 0)
    assert torch.all(b.inputs[length + 1 :] == 0)
    # The target is the copy of the input, scored exactly on rows L+1..2L.
    assert torch.equal(b.targets[length + 1 :], b.inputs[:length, :, :8])
    assert torch.all(b.mask[: length + 1] == 0) and torch.all(b.mask[length + 1 :] == 1)
    assert torch.all(b.targets[: length + 1] == 0)
    assert set(b.inputs.unique().tolist()) <= {0.0, 1.0}


@FAST
@given(length=st.integers(1, 8), repeats=st.integers(1, 8), batch=st.integers(1, 4),
       seed=st.integers(0, 2**31))
def test_repeat_copy_encoding(length, repeats, batch, seed):
    task = RepeatCopyTask()
    b = task.batch(batch, gen(seed), length=length, repeats=repeats)
    steps = length + 1 + repeats * length + 1
    assert b.inputs.shape == (steps, batch, 10)
    assert b.targets.shape == (steps, batch, 9)
    seq = b.inputs[:length, :, :8]
    # Delimiter and normalised repeat count on row L, then silence.
    assert torch.all(b.inputs[length, :, 8] == 1)
    assert torch.allclose(b.inputs[length, :, 9], torch.tensor(task.normalised_repeats(repeats)))
    assert torch.all(b.inputs[length + 1 :] == 0)
    # The target is the sequence repeated `repeats` times, then the end marker alone.
    for r in range(repeats):
        start = length + 1 + r * length
        assert torch.equal(b.targets[start : start + length, :, :8], seq)
    assert torch.all(b.targets[:-1, :, 8] == 0)
    assert torch.all(b.targets[-1, :, 8] == 1) and torch.all(b.targets[-1, :, :8] == 0)
    assert torch.all(b.mask[: length + 1] == 0) and torch.all(b.mask[length + 1 :] == 1)


def test_repeat_count_normalisation_has_zero_mean_unit_variance():
    task = RepeatCopyTask(min_repeats=1, max_repeats=10)
    values = [task.normalised_repeats(n) for n in range(1, 11)]
    mean = sum(values) / len(values)
    assert math.isclose(mean, 0.0, abs_tol=1e-12)
    assert math.isclose(sum((v - mean) ** 2 for v in values) / len(values), 1.0, rel_tol=1e-12)


@FAST
@given(items=st.integers(2, 12), batch=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_associative_recall_target_is_the_item_after_the_query(items, batch, seed):
    task = AssociativeRecallTask()
    b = task.batch(batch, gen(seed), items=items)
    n, bits = task.item_length, task.bits
    steps = items * (n + 1) + n + 2 + n
    assert b.inputs.shape == (steps, batch, bits + 2)
    assert b.targets.shape == (steps, batch, bits)
    stored = torch.stack([b.inputs[j * (n + 1) + 1 : (j + 1) * (n + 1), :, :bits] for j in range(items)])
    assert torch.all(torch.stack([b.inputs[j * (n + 1), :, bits] for j in range(items)]) == 1)
    q0 = items * (n + 1)
    assert torch.all(b.inputs[q0, :, bits + 1] == 1) and torch.all(b.inputs[q0 + n + 1, :, bits + 1] == 1)
    query = b.inputs[q0 + 1 : q0 + 1 + n, :, :bits]
    answer = b.targets[-n:]
    for s in range(batch):
        q = b.info["query"][s]
        assert 0 <= q < items - 1
        assert torch.equal(query[:, s], stored[q, :, s])
        assert torch.equal(answer[:, s], stored[q + 1, :, s])
    assert torch.all(b.inputs[-n:] == 0)
    assert torch.all(b.mask[:-n] == 0) and torch.all(b.mask[-n:] == 1)


def test_same_seed_same_batch_different_seed_different_batch():
    for task in (CopyTask(), RepeatCopyTask(), AssociativeRecallTask()):
        a, b, c = task.sample(4, gen(3)), task.sample(4, gen(3)), task.sample(4, gen(4))
        assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
        assert a.info == b.info
        assert a.inputs.shape != c.inputs.shape or not torch.equal(a.inputs, c.inputs)


def test_sample_stays_in_the_training_range():
    g = gen(0)
    copy = CopyTask(min_length=3, max_length=5)
    assert {copy.sample(1, g).info["length"] for _ in range(60)} == {3, 4, 5}
    rep = RepeatCopyTask(min_length=1, max_length=2, min_repeats=2, max_repeats=3)
    assert {tuple(rep.sample(1, g).info.values()) for _ in range(80)} == {(1, 2), (1, 3), (2, 2), (2, 3)}
    ar = AssociativeRecallTask(min_items=2, max_items=4)
    assert {ar.sample(1, g).info["items"] for _ in range(60)} == {2, 3, 4}
    assert len(rep.training_points()) == 4 and copy.training_points()[0] == {"length": 3}


def test_metrics_count_only_scored_bits():
    b = CopyTask().batch(3, gen(1), length=4)
    perfect = (2 * b.targets - 1) * 20.0  # confident and right everywhere
    assert torch.equal(bit_errors(perfect, b), torch.zeros(3))
    assert torch.all(cost_bits(perfect, b) < 1e-3)
    wrong = -perfect
    assert torch.equal(bit_errors(wrong, b), torch.full((3,), 32.0))  # 4 rows x 8 bits
    # Unscored rows never count, whatever is there.
    noisy = perfect.clone()
    noisy[:5] = torch.randn(5, 3, 8) * 100
    assert torch.equal(bit_errors(noisy, b), torch.zeros(3))
    # Zero logits: exactly one bit of cost per scored bit; loss is ln 2 per bit.
    zero = torch.zeros_like(perfect)
    assert torch.allclose(cost_bits(zero, b), torch.full((3,), 32.0))
    assert math.isclose(masked_bce_loss(zero, b).item(), math.log(2), rel_tol=1e-6)


def test_task_params_round_trip():
    for name, params in (("copy", {"max_length": 7}), ("repeat-copy", {"max_repeats": 4}),
                         ("associative-recall", {"max_items": 5})):
        task = make_task(name, **params)
        assert type(task).from_params(task.params()) == task
        assert make_task(name, **task.params()) == task


@pytest.mark.parametrize("name", ["copy", "repeat-copy", "associative-recall"])
@pytest.mark.parametrize("stages", [1, 2, 4, 50])
def test_curriculum_stages_are_nested_and_end_with_the_whole_range(name, stages):
    task = make_task(name)
    plan = task.curriculum(stages)
    assert 1 <= len(plan) <= stages
    assert plan[-1] == task.training_points()
    for easier, harder in zip(plan, plan[1:], strict=False):
        assert len(easier) < len(harder)
        assert all(p in harder for p in easier)
    # the first stage really is easier: its largest sizes are below the task's largest
    if len(plan) > 1:
        key = next(iter(plan[0][0]))
        assert max(p[key] for p in plan[0]) < max(p[key] for p in plan[-1])


def test_copy_curriculum_by_hand():
    lengths = [[p["length"] for p in stage] for stage in CopyTask().curriculum(4)]
    assert [max(s) for s in lengths] == [6, 11, 16, 20]
    assert all(min(s) == 1 for s in lengths)


def test_sample_from_draws_only_the_given_points():
    task = RepeatCopyTask()
    points = [{"length": 2, "repeats": 3}, {"length": 4, "repeats": 1}]
    gen = torch.Generator().manual_seed(3)
    seen = {(b.info["length"], b.info["repeats"]) for b in (task.sample_from(2, gen, points) for _ in range(40))}
    assert seen == {(2, 3), (4, 1)}


def test_typed_sequences_are_encoded_as_random_ones():
    task = CopyTask()
    drawn = task.batch(1, gen(3), length=5)
    typed = task.encode(drawn.inputs[:5, 0, :8].numpy())
    for a, b in ((drawn.inputs, typed.inputs), (drawn.targets, typed.targets),
                 (drawn.mask, typed.mask)):
        assert torch.equal(a, b)
    assert typed.info == {"length": 5}
    with pytest.raises(ValueError, match="8 bits"):
        task.encode([[0, 1, 0]])
    assert task.typed_input and not RepeatCopyTask().typed_input
    with pytest.raises(NotImplementedError, match="no typed input"):
        RepeatCopyTask().encode([[0] * 8])


def test_phases_of_repeat_copy_and_associative_recall():
    task = RepeatCopyTask()
    b = task.batch(1, gen(0), length=2, repeats=2)
    assert [task.phase(b.info, b.inputs[:, 0].numpy(), t) for t in range(8)] == [
        "input: vector 1 of 2", "input: vector 2 of 2", "delimiter and repeat count (2 copies)",
        "output: copy 1, vector 1", "output: copy 1, vector 2", "output: copy 2, vector 1",
        "output: copy 2, vector 2", "output: end marker"]
    task = AssociativeRecallTask()
    b = task.batch(1, gen(0), items=2)
    x = b.inputs[:, 0].numpy()
    phases = [task.phase(b.info, x, t) for t in range(x.shape[0])]
    assert phases[0] == phases[4] == "item delimiter"
    assert phases[8] == phases[12] == "query delimiter"
    assert phases[-3:] == ["output: recall the item after the query"] * 3
    assert set(phases[1:4]) <= {"item or query vector", "output: recall the item after the query"}


@pytest.mark.parametrize("task", [CopyTask(), RepeatCopyTask(max_length=3, max_repeats=4),
                                  AssociativeRecallTask()])
def test_each_task_knows_its_sizes(task):
    ranges = task.training_range()
    assert task.training_points() == Task.training_points(task)  # the generic cover agrees
    assert list(task.stepper_sizes()) == list(ranges) == list(task.evaluation_grid())
    for name, (low, high, default) in task.stepper_sizes().items():
        assert low <= default <= high and ranges[name][0] >= low
    assert make_task(task.name, **task.params()) == task
