"""The catalogue's model card: plain data, and "unknown" for metadata of the wrong type."""

import pytest
from conftest import tiny_copy_model

from ntm import catalogue


def card_of(**metadata):
    model = tiny_copy_model()
    model.metadata = {"task": "copy", "task_params": {"max_length": 20}, **metadata}
    return catalogue.model_card(model)


def test_the_card_of_a_complete_checkpoint(models_dir):
    card = catalogue.model_card(catalogue.load_ntm(models_dir / "copy.pt"))
    assert card.task == "copy" and card.learned
    assert card.metrics == {"Memory N × M": "32 × 6", "Controller": "LSTM 16",
                            "Sequences seen": "1,234", "Training time": "1.0 min"}
    assert card.final_bit_errors == 0.05
    assert card.lines == [
        "Final held-out bit errors per sequence: 0.050",
        "Trained on length 1–20 · 1 read / 1 write head(s) · shift range ±1 · "
        "command: `python -m ntm.train --task copy`",
    ]


@pytest.mark.parametrize("metadata", [
    {},
    {"sequences_seen": "many", "wall_time": [3], "curve": "steep", "command": 7},
    {"sequences_seen": True, "wall_time": float("nan"), "curve": [1, 2], "command": None},
    {"sequences_seen": 10**400, "wall_time": {"s": 1}, "curve": [{"bit_errors": "low"}]},
    {"curve": []},
])
def test_missing_or_malformed_facts_read_unknown(metadata):
    card = card_of(**metadata)
    assert card.metrics["Sequences seen"] == "unknown"
    assert card.metrics["Training time"] == "unknown"
    assert card.final_bit_errors is None and card.learned
    assert card.lines[0] == "Final held-out bit errors per sequence: unknown"
    assert "command" not in card.lines[1]


def test_a_model_that_did_not_learn_and_a_command_with_backticks():
    card = card_of(curve=[{"bit_errors": 30.0}], command="echo `x`")
    assert not card.learned and card.final_bit_errors == 30.0
    assert card.lines[1].endswith("command: `echo 'x'`")


def test_a_card_without_a_known_task():
    model = tiny_copy_model()
    model.metadata = {"task": ["copy"]}
    card = catalogue.model_card(model)
    assert card.task == "unknown" and card.lines[1].startswith("Trained on unknown sizes")


def test_available_lists_the_files_that_exist(models_dir):
    assert catalogue.available(catalogue.COPY_MODELS) == {"NTM": models_dir / "copy.pt"}
