"""The stepper's library side: episodes, narration, exports, URL checks and trace figures."""

import io
import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from conftest import tiny_copy_model

import ntm
from ntm import catalogue, urlcheck
from ntm.checkpoint import CheckpointError
from ntm.evaluate import task_of
from ntm.figures import episode as episode_figures
from ntm.figures import evaluation as evaluation_figures
from ntm.stepper import episode, export, narration


@pytest.fixture
def model(models_dir):
    return catalogue.load_ntm(models_dir / "copy.pt")


def test_shipped_models_lists_what_exists(models_dir):
    entries = catalogue.shipped_models()
    assert [e.key for e in entries] == ["copy"]
    assert catalogue.shipped_models(models_dir / "nowhere") == []


def test_load_ntm_refuses_baselines_and_unknown_tasks(tmp_path):
    ntm.save_model(ntm.LSTMBaseline(ntm.LSTMBaselineConfig(hidden_size=4, layers=1)),
                   tmp_path / "lstm.pt", task="copy")
    with pytest.raises(CheckpointError, match="LSTM baseline"):
        catalogue.load_ntm(tmp_path / "lstm.pt")
    ntm.save_model(tiny_copy_model(), tmp_path / "none.pt")
    with pytest.raises(CheckpointError, match="names no task"):
        catalogue.load_ntm(tmp_path / "none.pt")
    ntm.save_model(tiny_copy_model(), tmp_path / "wrong.pt", task="associative-recall")
    with pytest.raises(CheckpointError, match="do not fit"):
        catalogue.load_ntm(tmp_path / "wrong.pt")


def test_episode_matches_the_model_and_the_task(model):
    task = task_of(model)
    batch = episode.random_batch(task, 7, length=12)
    ep = episode.run_episode(model, task, batch)
    assert ep.steps == 25 and ep.scored.sum() == 12
    logits = model(batch.inputs)[:, 0].detach().numpy()
    np.testing.assert_allclose(ep.trace.logits[:, 0], logits, atol=1e-6)
    expected = int((((logits > 0) != batch.targets[:, 0].numpy()) & ep.scored[:, None]).sum())
    assert ep.bit_errors == expected
    cost = ntm.tasks.cost_bits(torch.from_numpy(ep.trace.logits), batch)
    assert ep.cost_bits == pytest.approx(float(cost[0]), rel=1e-5)
    assert ep.phase(0) == "input: vector 1 of 12"
    assert ep.phase(12).startswith("delimiter")
    assert ep.phase(24) == "output: vector 12 of 12"


def test_same_seed_same_episode_and_beyond_training_lengths(model):
    task = task_of(model)
    a = episode.run_episode(model, task, episode.random_batch(task, 3, length=120))
    b = episode.run_episode(model, task, episode.random_batch(task, 3, length=120))
    assert a.steps == 241
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.trace.read.weights, b.trace.read.weights)


def test_typed_copy_input_follows_the_encoding():
    bits = np.array([[1, 0, 1, 0, 1, 0, 1, 0], [0, 0, 0, 0, 1, 1, 1, 1]])
    batch = ntm.tasks.CopyTask().encode(bits)
    assert batch.inputs.shape == (5, 1, 9)
    np.testing.assert_array_equal(batch.inputs[:2, 0, :8].numpy(), bits)
    assert batch.inputs[2, 0, 8] == 1 and batch.inputs[3:].abs().sum() == 0
    np.testing.assert_array_equal(batch.targets[3:, 0].numpy(), bits)
    assert batch.mask[:, 0].tolist() == [0, 0, 0, 1, 1]


def hand_made_trace(write_rows, read_rows, n=16):
    """A model-free trace whose heads focus on the given rows (for the narration)."""
    model = tiny_copy_model()
    x = torch.zeros(len(write_rows), 1, 9)
    tr = model.trace(x)
    for head, rows in ((tr.write, write_rows), (tr.read, read_rows)):
        w = np.zeros((len(rows), 1, 1, 32), dtype=np.float32)
        w[np.arange(len(rows)), 0, 0, rows] = 1
        head.weights = w
        head.previous = np.concatenate([np.roll(w[:1], -1, axis=-1), w[:-1]])
        head.gate[:] = 0.9
    return tr


def test_narration_reads_the_copy_algorithm_from_the_trace():
    # write rows 5, 6, 7 during input, read jumps back to 5 at the delimiter, then 6, 7
    write_rows = [5, 6, 7, 8, 8, 8, 8]
    read_rows = [0, 0, 0, 5, 6, 7, 8]
    task = ntm.tasks.CopyTask()
    batch = task.batch(1, torch.Generator().manual_seed(0), length=3)
    ep = episode.Episode(task, batch.inputs[:, 0].numpy(), batch.targets[:, 0].numpy(),
                   (batch.mask[:, 0] > 0).numpy(), hand_made_trace(write_rows, read_rows),
                   {"length": 3})
    notes = narration.describe_episode(ep)
    text = " ".join(n for n, _ in notes)
    assert "write head moves down 1 row each step on 100% of the steps" in text
    assert "At step 3 the read head's focus jumps to row 5" in text
    assert "read head moves down 1 row each step" in text
    assert [s for _, s in notes][:2] == [0, 3]


def test_focus_moves_wrap_around():
    tr = hand_made_trace([30, 31, 0, 1], [0, 0, 0, 0])
    offsets = [m.offset for m in narration.focus_moves(tr) if m.head == "write"]
    assert offsets == [1, 1, 1, 1]


def test_exports_hold_the_trace(model):
    task = task_of(model)
    ep = episode.run_episode(model, task, episode.random_batch(task, 1, length=4))
    with np.load(io.BytesIO(export.trace_npz(ep))) as z:
        np.testing.assert_array_equal(z["read_weights"], ep.trace.read.weights[:, 0])
        np.testing.assert_array_equal(z["write_add"], ep.trace.write.add[:, 0])
        assert z["memory"].shape == (9, 32, 6)
    data = json.loads(export.trace_json(ep))
    assert len(data["steps"]) == 9 and data["task"] == "copy"
    assert data["steps"][3]["write"][0]["gate"] == pytest.approx(float(ep.trace.write.gate[3, 0, 0]), abs=1e-5)


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"seed": "abc"}, "not a whole number"),
        ({"length": "100000"}, "outside 1–120"),
        ({"length": "nan"}, "not a whole number"),
        ({"t": "-3"}, "outside"),
        ({"model": "gpt"}, "not one of"),
    ],
)
def test_query_notices(query, expected):
    limits = {"seed": (0, 10**6), "t": (0, 10**6), "length": (1, 120)}
    notices = urlcheck.query_notices(query, limits, {"model": ["copy", "upload"]})
    assert len(notices) == 1 and expected in notices[0]
    assert urlcheck.query_notices({"seed": "12", "length": "120"}, limits, {}) == []


@pytest.mark.parametrize("raw, want", [("5", 5), ("1e9", 40), ("-2", 0), ("x", 0), (None, 0), ("inf", 0)])
def test_parse_step(raw, want):
    assert urlcheck.parse_step(raw, 40) == want


# ------------------------------------------------------------------ trace figures


def test_focus_window_is_circular():
    w = np.zeros((4, 32))
    w[:, [30, 31, 0, 1]] = 0.25
    rows = episode.focus_window(w, margin=1, min_rows=4)
    assert rows == [29, 30, 31, 0, 1, 2]
    assert episode.focus_window(np.zeros((3, 8))) == list(range(8))


def heat(fig, name):
    return next(t for t in fig.data if isinstance(t, go.Heatmap) and t.name == name)


def test_episode_grid_shows_the_trace(model):
    task = task_of(model)
    ep = episode.run_episode(model, task, episode.random_batch(task, 2, length=6))
    tr = ep.trace
    rows = list(range(32))
    fig = episode_figures.episode_grid(ep.inputs, ep.outputs, tr.write.add[:, 0, 0], tr.reads[:, 0, 0],
                          tr.write.weights[:, 0, 0], tr.read.weights[:, 0, 0], cursor=4, rows=rows)
    np.testing.assert_allclose(heat(fig, "input").z, ep.inputs.T)
    np.testing.assert_allclose(heat(fig, "read weighting").z, tr.read.weights[:, 0, 0].T)
    assert heat(fig, "write weighting").zmin == 0 and heat(fig, "write weighting").zmax == 1
    assert sum(1 for s in fig.layout.shapes if s.x0 == 4 and s.x1 == 4) == 6  # cursor in 6 panels


def test_target_output_marks_exactly_the_wrong_bits():
    targets = np.zeros((5, 3))
    outputs = np.full((5, 3), 0.2)
    wrong = np.zeros((5, 3), dtype=bool)
    wrong[3, 1] = wrong[4, 2] = True
    fig = episode_figures.target_output(targets, outputs, wrong, steps=[3, 4])
    marks = next(t for t in fig.data if isinstance(t, go.Scatter))
    assert list(marks.x) == [3, 4] and list(marks.y) == [1, 2]
    assert "2 wrong bits" in fig.layout.annotations[1].text


def test_stage_panel_and_memory_change_values():
    g = np.random.default_rng(0)
    stages = [g.dirichlet(np.ones(12)) for _ in range(5)]
    fig = episode_figures.stage_panel(*stages, rows=[10, 11, 0, 1])
    np.testing.assert_allclose(fig.data[0].z, np.stack(stages)[:, [10, 11, 0, 1]].T)
    assert list(fig.data[0].y) == ["10", "11", "0", "1"]
    before, after = g.normal(size=(12, 4)), g.normal(size=(12, 4))
    fig = episode_figures.memory_change(before, after, mark_rows=[3], rows=[2, 3, 4])
    np.testing.assert_allclose(fig.data[1].z, (after - before)[[2, 3, 4]])
    assert len(fig.layout.shapes) == 2


def test_curves():
    fig = evaluation_figures.error_curve({"NTM": [{"length": 20, "bit_errors": 0.0}, {"length": 10, "bit_errors": 0.1}],
                          "LSTM": [{"length": 10, "bit_errors": 3.0}]}, train_max=20)
    assert list(fig.data[0].x) == [10, 20] and fig.data[1].name == "LSTM"
    fig = evaluation_figures.learning_curves({"NTM": [{"sequences": 100, "cost": 9.0}, {"sequences": 0, "cost": 1}]})
    assert list(fig.data[0].x) == [100] and fig.layout.xaxis.type == "log"


@pytest.mark.parametrize("seed,length,repeats", [(1, 5, 3), (2, 3, 6), (3, 8, 2)])
def test_narration_counts_the_shipped_repeat_copy_models_jumps_back(seed, length, repeats):
    model = catalogue.load_ntm(Path(__file__).resolve().parents[1] / "assets" / "models" / "repeat-copy.pt")
    task = task_of(model)
    ep = episode.run_episode(model, task, episode.random_batch(task, seed, length=length, repeats=repeats))
    assert ep.bit_errors == 0
    text = " ".join(n for n, _ in narration.describe_episode(ep))
    back = repeats - 1
    assert f"{back} more time{'s' if back != 1 else ''}" in text, text
    assert f"At the last step ({ep.steps - 1}) it emits the end marker" in text


def test_focus_window_ignores_faint_spots_of_a_blurred_step():
    w = np.zeros((4, 128))
    w[0, [10, 11, 46, 97]] = [0.21, 0.43, 0.12, 0.16]  # a spread initial weighting
    w[1:, [11, 12, 13]] = np.eye(3)
    rows = episode.focus_window(w, margin=1, min_rows=4)
    assert rows == [10, 11, 12, 13, 14]


def test_narration_of_the_shipped_associative_recall_model_names_the_answer_rows():
    model = catalogue.load_ntm(Path(__file__).resolve().parents[1] / "assets" / "models"
                       / "associative-recall.pt")
    task = task_of(model)
    ep = episode.run_episode(model, task, episode.random_batch(task, 1, items=5))
    notes = narration.describe_episode(ep)
    text = " ".join(n for n, _ in notes)
    assert "While the 5 items arrive (steps 0–19) the write head moves" in text
    q = ep.info["query"]
    written = ep.trace.write.weights[:, 0, 0].argmax(-1)[(q + 1) * 4 + 1:(q + 1) * 4 + 4]
    assert f"was written to rows {', '.join(str(int(r)) for r in written)}" in text
    assert any(step == ep.steps - 3 for _, step in notes)


def test_the_content_share_says_where_the_new_rows_weight_came_from():
    from ntm.tasks import HeadFocus

    n = 8
    spread = np.full(n, 1 / n)  # an old focus spread thin
    sharp = np.eye(n)[2]  # an old focus on row 2
    lookup = np.eye(n)[6] * 0.9 + 0.1 / n  # a content lookup of row 6
    # g = 0.24 on a spread-out old focus: the head lands on row 6, by content, 0.24 x 0.91
    # against 0.76 x 0.125 ...
    small_g = HeadFocus.of(np.eye(n)[[6]], spread[None], np.array([0.24]), lookup[None])
    assert small_g.rows[0] == 6
    expected = 0.24 * lookup[6] / (0.24 * lookup[6] + 0.76 / n)
    assert small_g.content_share[0] == pytest.approx(expected) and expected > 0.5
    # ... and g = 0.9 with the lookup elsewhere: the head stays on row 2 by its old focus.
    large_g = HeadFocus.of(np.eye(n)[[2]], sharp[None], np.array([0.9]), lookup[None])
    assert large_g.content_share[0] == pytest.approx(0.9 * 0.1 / n / (0.9 * 0.1 / n + 0.1))
    assert large_g.content_share[0] < 0.5


@pytest.mark.parametrize("answer_writes", [0.0, 0.5])
def test_narration_says_when_the_write_head_goes_quiet_in_the_answer(answer_writes):
    task = ntm.tasks.CopyTask()
    batch = task.batch(1, torch.Generator().manual_seed(0), length=3)
    tr = hand_made_trace([5, 6, 7, 8, 9, 10, 11], [0, 0, 0, 5, 6, 7, 8])
    tr.write.erase[:] = 0.5
    tr.write.add[:] = np.sqrt(0.5)  # mean erase + mean add² = 1.0 while storing
    tr.write.erase[4:] = answer_writes
    tr.write.add[4:] = 0.0
    ep = episode.Episode(task, batch.inputs[:, 0].numpy(), batch.targets[:, 0].numpy(),
                         (batch.mask[:, 0] > 0).numpy(), tr, {"length": 3})
    notes = dict(narration.describe_episode(ep))
    quiet = [n for n in notes if "writes almost nothing" in n]
    if answer_writes == 0.0:
        assert quiet == ["Meanwhile the write head writes almost nothing: its erase and add "
                         "vectors are near zero (mean erase + mean add² under 0.001 per step, "
                         "against 1.00 while the input arrived), so the rows still to be read "
                         "stay as they were written."]
        assert notes[quiet[0]] == 4
    else:
        assert quiet == []
