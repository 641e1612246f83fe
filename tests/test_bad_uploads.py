"""Bad checkpoints uploaded on the Model stepper: each gives one clear message, never an
exception, and nothing in them ever runs."""

import os
import pickle
import re
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

import ntm

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "stepper.py")


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def upload(models_dir, name, data):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["model"] = "upload"
    at.run()
    at.file_uploader[0].set_value((name, data, "application/octet-stream"))
    return at.run()


def only_error(at):
    """The one error shown, as the reader sees it (the page escapes every Markdown marker)."""
    assert not at.exception, at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    return re.sub(r"\\(.)", r"\1", at.error[0].value)


def good_bytes(models_dir):
    return (models_dir / "copy.pt").read_bytes()


def test_empty_file(models_dir):
    assert "empty" in only_error(upload(models_dir, "empty.pt", b""))


def test_random_bytes(models_dir):
    msg = only_error(upload(models_dir, "noise.pt", os.urandom(10_000)))
    assert "noise.pt" in msg and "not a readable checkpoint" in msg


def test_truncated_real_checkpoint(models_dir):
    data = good_bytes(models_dir)
    msg = only_error(upload(models_dir, "cut.pt", data[: len(data) // 3]))
    assert "cut.pt" in msg and "not a readable checkpoint" in msg


def test_checkpoint_whose_size_does_not_match_its_task(models_dir, tmp_path):
    torch.manual_seed(0)
    model = ntm.NTM(ntm.NTMConfig(input_size=5, output_size=3, memory_rows=8, memory_width=4,
                                  controller_size=8))
    ntm.save_model(model, tmp_path / "odd.pt", task="copy")
    msg = only_error(upload(models_dir, "odd.pt", (tmp_path / "odd.pt").read_bytes()))
    assert "do not fit the copy task" in msg


def test_lstm_baseline_has_no_memory_to_step(models_dir, tmp_path):
    ntm.save_model(ntm.LSTMBaseline(ntm.LSTMBaselineConfig(hidden_size=4, layers=1)),
                   tmp_path / "lstm.pt", task="copy")
    msg = only_error(upload(models_dir, "lstm.pt", (tmp_path / "lstm.pt").read_bytes()))
    assert "no memory to step through" in msg


def test_checkpoint_of_another_task_is_stepped_as_that_task(models_dir, tmp_path):
    torch.manual_seed(0)
    task = ntm.tasks.AssociativeRecallTask()
    model = ntm.NTM(ntm.NTMConfig(input_size=task.input_size, output_size=task.output_size,
                                  memory_rows=16, memory_width=6, controller_size=8))
    ntm.save_model(model, tmp_path / "ar.pt", task="associative-recall", task_params=task.params())
    at = upload(models_dir, "ar.pt", (tmp_path / "ar.pt").read_bytes())
    assert not at.exception and not at.error
    assert at.number_input(key="items").value == 6


def test_pickle_that_would_run_code_is_refused_and_never_runs(models_dir, tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"format": "ntm-explorer-checkpoint", "x": Exploit(str(marker))}, tmp_path / "evil.pt")
    msg = only_error(upload(models_dir, "evil.pt", (tmp_path / "evil.pt").read_bytes()))
    assert "refused, not run" in msg
    msg = only_error(upload(models_dir, "evil.pkl.pt", pickle.dumps(Exploit(str(marker)))))
    assert "not a readable checkpoint" in msg
    assert not marker.exists()


@pytest.mark.slow
def test_200_mb_file_is_refused_by_size_before_loading(models_dir, monkeypatch):
    def never(*a, **k):
        raise AssertionError("torch.load must not run on an oversized upload")

    monkeypatch.setattr(torch, "load", never)
    msg = only_error(upload(models_dir, "huge.pt", bytes(200 * 1024 * 1024)))
    assert "huge.pt" in msg and "larger than the 100 MiB" in msg


def test_file_name_with_markup_is_shown_as_text(models_dir):
    msg = upload(models_dir, "[Log in](javascript:alert).pt", b"junk").error[0].value
    assert "\\[Log in\\]\\(javascript\\:" in msg  # escaped: drawn as text, not a link


def test_non_finite_weights_load_with_a_warning(models_dir, tmp_path):
    model = ntm.load_model(models_dir / "copy.pt")
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    ntm.save_model(model, tmp_path / "nan.pt")
    at = upload(models_dir, "nan.pt", (tmp_path / "nan.pt").read_bytes())
    assert not at.exception
    assert any("NaN" in w.value for w in at.warning), [w.value for w in at.warning]


def test_an_outsized_episode_is_refused_with_a_message(models_dir, tmp_path):
    task = ntm.tasks.CopyTask()
    model = ntm.NTM(ntm.NTMConfig(input_size=task.input_size, output_size=task.output_size,
                                  memory_rows=1024, memory_width=256, controller_size=8))
    ntm.save_model(model, tmp_path / "big.pt", task="copy", task_params=task.params())
    at = upload(models_dir, "big.pt", (tmp_path / "big.pt").read_bytes())
    assert not at.exception
    assert any("too large to step" in e.value for e in at.error), [e.value for e in at.error]
