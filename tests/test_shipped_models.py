"""Every shipped checkpoint in assets/models/ loads and passes a small evaluation.

The full evaluation tables (1000 fresh sequences per length) sit next to each model as
``<name>.eval.json`` and in its model card ``<name>.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ntm
from ntm.evaluate import evaluate, size_columns, task_of

MODELS = Path(__file__).resolve().parent.parent / "assets" / "models"

#: name -> (model type, task, [(evaluation point, sequences, largest allowed mean bit errors per
#: sequence)]): each shipped model held to what its card claims, on a small fresh evaluation.
#: Associative recall: held to the issue's targets, in range (at most 0.1 bit errors per
#: sequence), at 10 items (at most 1) and at 15 (at most 3). The copy NTM is held to the issue's
#: target, perfect at L = 120 (its card: no error in 1,000 sequences at every L to 120, none in
#: 20,000 more at 120), here on 300 sequences at L = 50 and 120. Repeat copy is held
#: in range, where its card claims under 0.1 bit errors per sequence, with some slack for 50
#: sequences. The LSTM baseline fits its training range (its card: at most 0.013 bit errors per
#: sequence at any L <= 20; this sample of 200 finds two wrong bits at L = 20, 0.01; the
#: issue's target, perfect at L = 20, is not met yet) and fails beyond it (see the test below).
EXPECTED = {
    "copy": ("ntm", "copy", [({"length": 50}, 300, 0.0), ({"length": 120}, 300, 0.0)]),
    "copy-lstm": ("lstm", "copy", [({"length": 10}, 200, 0.0), ({"length": 20}, 200, 0.05)]),
    "repeat-copy": ("ntm", "repeat-copy", [({"length": 8, "repeats": 7}, 50, 0.5)]),
    "associative-recall": ("ntm", "associative-recall",
                           [({"items": 6}, 200, 0.1), ({"items": 10}, 200, 1.0),
                            ({"items": 15}, 100, 3.0)]),
}
SHIPPED = sorted(p.stem for p in MODELS.glob("*.pt"))


pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_copy_model_is_shipped():
    assert "copy" in SHIPPED, "assets/models/copy.pt is what the app's stepper pages load"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_loads_and_passes_a_small_evaluation(name):
    assert name in EXPECTED, f"add an expectation for {name}.pt"
    model_type, task_name, checks = EXPECTED[name]
    model = ntm.load_model(MODELS / f"{name}.pt")
    assert model.model_type == model_type and model.task == task_name
    assert "training_state" not in model.metadata, "ship exported (small) checkpoints"
    for key in ("command", "seed", "sequences_seen", "wall_time", "curve", "task_params"):
        assert key in model.metadata, key
    for point, sequences, max_errors in checks:
        [row] = evaluate(model, task_of(model), [point], sequences=sequences, seed=123)
        assert row["bit_errors"] <= max_errors, row


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_has_its_card_and_evaluation(name):
    card = MODELS / f"{name}.md"
    result = MODELS / f"{name}.eval.json"
    assert card.is_file() and result.is_file()
    data = json.loads(result.read_text())
    assert data["task"] == EXPECTED[name][1] and data["sequences"] == 1000
    assert data["rows"] and all(0 <= r["perfect_pct"] <= 100 for r in data["rows"])


@pytest.mark.parametrize("name", SHIPPED)
def test_rerunning_the_evaluation_reproduces_its_stored_rows(name):
    """``python -m ntm.evaluate`` seeds each size's sequences, so its table can be checked:
    the first two rows are recomputed here: the bit errors exactly; the cost, a sum of
    log-probabilities of near-certain bits, to 0.1%, since another CPU or engine (the fused
    step, the reference one) rounds the logits differently in their last bits."""
    data = json.loads((MODELS / f"{name}.eval.json").read_text())
    model = ntm.load_model(MODELS / f"{name}.pt")
    stored = data["rows"][:2]
    sizes = [{k: r[k] for k in size_columns(data["rows"])} for r in stored]
    rows = evaluate(model, task_of(model), sizes, sequences=data["sequences"], seed=data["seed"])
    for row, old in zip(rows, stored, strict=True):
        assert row["cost_bits"] == pytest.approx(old["cost_bits"], rel=1e-3, abs=1e-6)
        assert {**row, "cost_bits": 0} == {**old, "cost_bits": 0}


def test_the_lstm_baseline_fails_beyond_its_training_range():
    """What the Generalisation page teaches: without memory, the fit does not carry to longer
    sequences (its card: 42% of bits wrong at L = 30, 48% at 120)."""
    model = ntm.load_model(MODELS / "copy-lstm.pt")
    [row] = evaluate(model, task_of(model), [{"length": 50}], sequences=50, seed=123)
    assert row["bits_wrong_pct"] > 20, row
