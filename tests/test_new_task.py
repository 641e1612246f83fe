"""A new task is one file: a task defined here, and registered, goes through training (the CLI),
evaluation (the CLI and the library), the stepper's episode, phases and narration, and the
stepper page, with no other module touched."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import ntm
from ntm import catalogue
from ntm.evaluate import evaluate, points_for
from ntm.stepper import episode, export, narration, player, url
from ntm.tasks import TASKS, Batch, Focus, Task, register_task, task_of, unregister_task
from ntm.tasks.base import random_bits
from ntm.tasks.focus import Note, moves_phrase

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "stepper.py")


@dataclass(frozen=True)
class ReverseTask(Task):
    """Reverse a sequence: ``L`` bit vectors, a delimiter, then the vectors last first."""

    bits: int = 4
    min_length: int = 1
    max_length: int = 4

    name = "reverse"

    @property
    def input_size(self) -> int:
        return self.bits + 1

    @property
    def output_size(self) -> int:
        return self.bits

    def batch(self, batch_size: int, generator: torch.Generator, length: int = 3) -> Batch:
        seq = random_bits((length, batch_size, self.bits), generator)
        steps = 2 * length + 1
        inputs = torch.zeros(steps, batch_size, self.bits + 1)
        inputs[:length, :, : self.bits] = seq
        inputs[length, :, self.bits] = 1.0
        targets = torch.zeros(steps, batch_size, self.bits)
        targets[length + 1 :] = seq.flip(0)
        mask = torch.zeros(steps, batch_size)
        mask[length + 1 :] = 1.0
        return Batch(inputs, targets, mask, {"length": length})

    def phase(self, info: dict, inputs: object, t: int) -> str:
        length = info["length"]
        if t < length:
            return f"input: vector {t + 1} of {length}"
        return "delimiter" if t == length else f"output: vector {2 * length + 1 - t} of {length}"

    def narrate(self, focus: Focus) -> list[Note]:
        length = focus.info["length"]
        off, share = focus.read.typical_offset(range(length + 2, focus.steps))
        return [(f"Reversing, the read head {moves_phrase(off)} on {share:.0%} of the output "
                 "steps.", length + 1)]


@contextlib.contextmanager
def registered(cls):
    register_task(cls)
    try:
        yield cls
    finally:
        unregister_task(cls.name)


@pytest.fixture
def reverse():
    with registered(ReverseTask) as cls:
        yield cls


TINY = ["--memory-rows", "16", "--memory-width", "6", "--controller-size", "16",
        "--batch-size", "4", "--eval-every", "32", "--eval-sequences", "8", "--device", "cpu",
        "--threads", "1", "--no-progress"]


@pytest.fixture
def trained(reverse, tmp_path):
    """A tiny NTM trained (briefly) on the reverse task by ``python -m ntm.train``."""
    from ntm.train import main

    path = tmp_path / "reverse.pt"
    assert main(["--task", "reverse", "--max-length", "3", "--max-sequences", "64",
                 "--output", str(path), *TINY]) == 0
    return path


def test_registration_is_undone_and_names_are_not_taken_twice():
    with registered(ReverseTask):
        assert TASKS["reverse"] is ReverseTask
        assert ntm.tasks.make_task("reverse", max_length=2).training_range() == {"length": (1, 2)}
    assert "reverse" not in TASKS

    @dataclass(frozen=True)
    class Impostor(ReverseTask):
        name = "copy"

    with pytest.raises(ValueError, match="already taken"):
        register_task(Impostor)
    assert TASKS["copy"] is ntm.tasks.CopyTask


def test_the_defaults_a_task_gets_for_free(reverse):
    task = ReverseTask()
    assert task.training_points() == [{"length": n} for n in (1, 2, 3, 4)]
    assert task.sample(2, torch.Generator().manual_seed(0)).inputs.shape[1] == 2
    assert task.evaluation_grid() == {"length": [1, 4, 8]}
    assert task.stepper_sizes() == {"length": (1, 8, 4)}
    assert not task.typed_input
    assert points_for(task, lengths=[2, 5]) == [{"length": 2}, {"length": 5}]
    assert url.task_limits(task) == {"length": (1, 8)}
    assert url.any_task_limits()["length"] == (1, 120)  # copy's reach, the widest


def test_trained_evaluated_and_stepped(trained, tmp_path):
    model = ntm.load_model(trained)
    task = task_of(model)
    assert isinstance(task, ReverseTask) and task.max_length == 3
    assert model.metadata["task"] == "reverse" and model.metadata["sequences_seen"] == 64

    [row] = evaluate(model, task, [{"length": 5}], sequences=8)
    assert row["length"] == 5 and 0 <= row["bit_errors"] <= 5 * task.bits

    from ntm.evaluate import main as evaluate_main
    out = tmp_path / "reverse.eval.json"
    assert evaluate_main(["--model", str(trained), "--sequences", "4", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["task"] == "reverse" and [r["length"] for r in data["rows"]] == [1, 3, 6]

    stepped = catalogue.load_ntm(trained)
    ep = episode.run_episode(stepped, task, episode.random_batch(task, 3, length=4))
    assert ep.steps == 9 and ep.scored.sum() == 4
    np.testing.assert_array_equal(ep.targets[5:], ep.inputs[3::-1, :4])
    assert [ep.phase(t) for t in (0, 4, 5, 8)] == [
        "input: vector 1 of 4", "delimiter", "output: vector 4 of 4", "output: vector 1 of 4"]
    notes = narration.describe_episode(ep)
    assert notes[0][0].startswith("Reversing, the read head ") and notes[0][1] == 5
    assert notes[-1][0].startswith(f"{ep.bit_errors} bit error")
    assert json.loads(export.trace_json(ep))["task"] == "reverse"
    assert catalogue.model_card(stepped).lines[1].startswith("Trained on length 1–3")


def test_the_stepper_page_steps_an_uploaded_model_of_the_new_task(trained, models_dir):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"model": "upload"})
    at.run()
    at.file_uploader[0].set_value(("reverse.pt", trained.read_bytes(), "application/octet-stream"))
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key="length").value == 3  # the task's default: its longest in training
    # what the page hands the browser's trace player: the task's own phases and narration
    header, _ = player.unpack(at.session_state["_payload"])
    assert len(header["phases"]) == 7 and header["phases"][0] == "input: vector 1 of 3"
    assert any(sentence.startswith("Reversing, the read head")
               for sentence, _step in header["narration"])
