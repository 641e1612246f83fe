"""Fast checks of ``python -m ntm.train`` and ``python -m ntm.evaluate`` on tiny configurations."""

from __future__ import annotations

import json
import math
import os
import signal

import pytest
import torch

import ntm
from ntm import evaluate, train
from ntm.checkpoint import read_checkpoint
from ntm.tasks import CopyTask

TINY = [
    "--task", "copy", "--min-length", "1", "--max-length", "3",
    "--memory-rows", "12", "--memory-width", "6", "--controller-size", "24",
    "--batch-size", "8", "--eval-every", "80", "--eval-sequences", "30",
    "--device", "cpu", "--no-progress", "--seed", "5",
]


pytestmark = pytest.mark.usefixtures("one_thread")


def run(tmp_path, *extra, name="m.pt"):
    args = train.build_parser().parse_args([*TINY, "--output", str(tmp_path / name), *extra])
    return train.train(args, command="test")


def test_a_few_hundred_steps_reduce_the_loss(tmp_path):
    result = run(tmp_path, "--max-length", "2", "--memory-rows", "8", "--memory-width", "4",
                 "--controller-size", "16", "--max-sequences", "2400", "--eval-every", "400",
                 "--eval-sequences", "40", "--lr", "3e-3")  # 300 steps
    curve = result["curve"]
    assert result["status"] in ("budget", "converged")
    assert len(curve) == 6
    # Chance is ln 2 per bit (0.693): the training loss and the held-out cost fall clearly.
    assert curve[-1]["train_loss"] < 0.8 * math.log(2), curve
    assert min(p["cost"] for p in curve[1:]) < 0.8 * curve[0]["cost"], curve
    model = ntm.load_model(tmp_path / "m.pt")
    assert model.metadata["sequences_seen"] == result["sequences_seen"]
    assert model.metadata["task"] == "copy" and model.metadata["curve"] == curve
    assert model.metadata["seed"] == 5 and model.metadata["command"] == "test"


def test_resume_continues_exactly(tmp_path):
    straight = run(tmp_path, "--max-sequences", "320", name="straight.pt")
    half = run(tmp_path, "--max-sequences", "160", name="resumed.pt")
    assert half["sequences_seen"] == 160
    args = train.build_parser().parse_args(
        ["--output", str(tmp_path / "resumed.pt"), "--resume", "--max-sequences", "320", "--no-progress"]
    )
    resumed = train.train(args, command="resume")
    assert resumed["sequences_seen"] == straight["sequences_seen"] == 320
    a = ntm.load_model(tmp_path / "straight.pt")
    b = ntm.load_model(tmp_path / "resumed.pt")
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb), ka
    strip = [{k: v for k, v in p.items() if k != "wall_time"} for p in a.metadata["curve"]]
    assert strip == [{k: v for k, v in p.items() if k != "wall_time"} for p in b.metadata["curve"]]
    assert b.metadata["commands"] == ["test", "resume"]
    assert b.metadata["steps"] == 40


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    real = train.compute_loss
    calls = {"n": 0}

    def poisoned(model, batch):
        calls["n"] += 1
        loss, errors = real(model, batch)
        if calls["n"] == 15:  # step 15: after the checkpoint at 80 sequences (10 steps)
            loss = loss * math.nan
        return loss, errors

    monkeypatch.setattr(train, "compute_loss", poisoned)
    path = tmp_path / "m.pt"
    result = run(tmp_path, "--max-sequences", "400")
    assert result["status"] == "nan"
    assert "nan" in capsys.readouterr().out.lower()
    model = ntm.load_model(path)
    assert model.metadata["sequences_seen"] == 80
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert main_exit_code(tmp_path, monkeypatch) == train.EXIT_NAN


def main_exit_code(tmp_path, monkeypatch):
    def always_nan(model, batch):
        return torch.tensor(math.inf), torch.zeros(batch.batch_size)

    monkeypatch.setattr(train, "compute_loss", always_nan)
    return train.main([*TINY, "--output", str(tmp_path / "x.pt"), "--max-sequences", "80"])


def test_ctrl_c_saves_and_exits_cleanly(tmp_path, monkeypatch):
    real = train.compute_loss
    calls = {"n": 0}

    def interrupting(model, batch):
        calls["n"] += 1
        if calls["n"] == 7:
            os.kill(os.getpid(), signal.SIGINT)
        return real(model, batch)

    monkeypatch.setattr(train, "compute_loss", interrupting)
    code = train.main([*TINY, "--output", str(tmp_path / "m.pt"), "--max-sequences", "4000"])
    assert code == train.EXIT_INTERRUPTED
    model = ntm.load_model(tmp_path / "m.pt")
    assert model.metadata["status"] == "interrupted"
    assert model.metadata["sequences_seen"] == 7 * 8
    # ... and the interrupted run can be resumed.
    args = train.build_parser().parse_args(
        ["--output", str(tmp_path / "m.pt"), "--resume", "--max-sequences", "96", "--no-progress"]
    )
    monkeypatch.setattr(train, "compute_loss", real)
    assert train.train(args)["sequences_seen"] == 96


def test_early_stop_and_lstm_baseline(tmp_path):
    # A target no model can miss stops at the first evaluation.
    result = run(tmp_path, "--model", "lstm", "--lstm-hidden", "16", "--lstm-layers", "1",
                 "--max-sequences", "4000", "--target-bit-errors", "1000")
    assert result["status"] == "converged" and result["sequences_seen"] == 80
    model = ntm.load_model(tmp_path / "m.pt")
    assert isinstance(model, ntm.LSTMBaseline) and model.metadata["converged"] is True


def test_evaluate_cli_table_and_json(tmp_path, capsys):
    run(tmp_path, "--max-sequences", "80")
    out = tmp_path / "eval.json"
    code = evaluate.main(["--model", str(tmp_path / "m.pt"), "--lengths", "2,5",
                          "--sequences", "20", "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "bit errors/seq" in text and "% perfect" in text
    data = json.loads(out.read_text())
    assert [r["length"] for r in data["rows"]] == [2, 5]
    for r in data["rows"]:
        assert r["sequences"] == 20 and 0 <= r["perfect_pct"] <= 100
        assert r["bit_errors"] == pytest.approx(r["bits_wrong_pct"] / 100 * r["length"] * 8)


def test_evaluate_is_reproducible_and_held_out():
    model = ntm.NTM(memory_rows=8, memory_width=4, controller_size=8)
    task = CopyTask()
    a = evaluate.evaluate(model, task, [{"length": 3}], sequences=10, seed=1)
    b = evaluate.evaluate(model, task, [{"length": 3}], sequences=10, seed=1)
    assert a == b


def test_keep_best_and_export(tmp_path):
    run(tmp_path, "--max-sequences", "240", "--keep-best")
    best = ntm.load_model(tmp_path / "m.best.pt")
    scores = [(p["bit_errors"], p["cost"]) for p in best.metadata["curve"]]
    assert scores[-1] == min(scores)
    code = train.main(["--export", str(tmp_path / "m.pt"), "--output", str(tmp_path / "small.pt")])
    assert code == 0
    small = ntm.load_model(tmp_path / "small.pt")
    assert "training_state" not in small.metadata and small.metadata["sequences_seen"] == 240
    assert (tmp_path / "small.pt").stat().st_size < (tmp_path / "m.pt").stat().st_size


def test_curriculum_moves_through_its_stages_and_resumes_on_the_same_stage(tmp_path):
    # a threshold no model misses: the run climbs one stage per evaluation
    cur = ["--max-length", "8", "--curriculum", "4", "--curriculum-threshold", "1e9"]
    straight = run(tmp_path, *cur, "--max-sequences", "320", name="straight.pt")
    stages = [p["stage"] for p in straight["curve"]]
    assert stages == [1, 2, 3, 4]
    assert [p["stage_bit_errors"] for p in straight["curve"]][-1] == straight["curve"][-1]["bit_errors"]
    run(tmp_path, *cur, "--max-sequences", "160", name="resumed.pt")
    args = train.build_parser().parse_args(
        ["--output", str(tmp_path / "resumed.pt"), "--resume", "--max-sequences", "320", "--no-progress"]
    )
    resumed = train.train(args, command="resume")
    assert [p["stage"] for p in resumed["curve"]] == stages
    a = ntm.load_model(tmp_path / "straight.pt")
    b = ntm.load_model(tmp_path / "resumed.pt")
    for va, vb in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb)


def test_curriculum_does_not_declare_convergence_before_the_last_stage(tmp_path):
    # an unreachable stage threshold keeps the run on stage 1; a huge target would otherwise
    # stop it at the first evaluation
    result = run(
        tmp_path, "--max-length", "8", "--curriculum", "4", "--curriculum-threshold", "-1",
        "--target-bit-errors", "1e9", "--max-sequences", "240",
    )
    assert result["status"] == "budget"
    assert {p["stage"] for p in result["curve"]} == {1}
    plain = run(tmp_path, "--target-bit-errors", "1e9", "--max-sequences", "240", name="p.pt")
    assert plain["status"] == "converged" and plain["sequences_seen"] == 80


def test_lr_decays_once_when_the_held_out_errors_fall_below_the_threshold(tmp_path):
    result = run(tmp_path, "--lr-decay-below", "1e9", "--lr-decay", "0.5", "--lr", "2e-3",
                 "--target-bit-errors", "0", "--max-sequences", "240")
    assert [p["lr"] for p in result["curve"]] == pytest.approx([1e-3, 1e-3, 1e-3])
    off = run(tmp_path, "--lr-decay-below", "0", "--lr", "1e-3", "--target-bit-errors", "0",
              "--max-sequences", "160", name="off.pt")
    assert [p["lr"] for p in off["curve"]] == pytest.approx([1e-3, 1e-3])


def test_gate_bias_starts_every_head_location_based(tmp_path):
    run(tmp_path, "--gate-bias", "-3", "--max-sequences", "8", "--eval-every", "8")
    args = train.build_parser().parse_args([*TINY, "--gate-bias", "-3"])
    torch.manual_seed(args.seed)
    model = train.make_model(args, CopyTask(max_length=3))
    model.heads.set_gate_bias(-3.0)
    params = model.heads(torch.zeros(2, args.controller_size))  # zero controller output: biases only
    assert torch.allclose(params.gate, torch.sigmoid(torch.tensor(-3.0)).expand_as(params.gate))
    assert not torch.allclose(params.beta, torch.sigmoid(torch.tensor(-3.0)).expand_as(params.beta))


def test_resume_keeps_saved_evaluation_settings_unless_given(tmp_path):
    run(tmp_path, "--target-bit-errors", "0", "--max-sequences", "80")

    def resume(*extra):
        args = train.build_parser().parse_args(
            ["--output", str(tmp_path / "m.pt"), "--resume", "--no-progress", *extra]
        )
        return train.train(args, command="resume")

    kept = resume("--max-sequences", "160")  # saved target 0: never stops early
    assert kept["status"] == "budget" and kept["sequences_seen"] == 160
    given = resume("--max-sequences", "800", "--target-bit-errors", "1e9", "--eval-every", "40")
    assert given["status"] == "converged" and given["sequences_seen"] == 200
    saved = ntm.load_model(tmp_path / "m.pt").metadata["args"]
    assert saved["target_bit_errors"] == 1e9 and saved["eval_every"] == 40


def test_a_threshold_given_on_resume_schedules_one_more_decay(tmp_path):
    run(tmp_path, "--lr-decay-below", "1e9", "--lr-decay", "0.5", "--lr", "1e-3", "--target-bit-errors", "0",
        "--max-sequences", "80")
    args = train.build_parser().parse_args(
        ["--output", str(tmp_path / "m.pt"), "--resume", "--no-progress", "--max-sequences", "160"]
    )
    assert train.train(args, command="r1")["curve"][-1]["lr"] == pytest.approx(5e-4)
    args = train.build_parser().parse_args(
        ["--output", str(tmp_path / "m.pt"), "--resume", "--no-progress", "--max-sequences", "240",
         "--lr-decay-below", "1e9", "--lr-decay", "0.1"]
    )
    assert train.train(args, command="r2")["curve"][-1]["lr"] == pytest.approx(5e-5)


def test_model_card_lists_the_commands_the_saved_settings_and_the_table(tmp_path):
    run(tmp_path, "--max-sequences", "80", "--optimizer", "adam", "--lr", "2e-3")
    card = tmp_path / "m.md"
    code = evaluate.main(["--model", str(tmp_path / "m.pt"), "--lengths", "2,5", "--sequences",
                          "10", "--card", str(card), "--notes", "- a note"])
    assert code == 0
    text = card.read_text()
    assert "      test" in text  # the training command recorded by run()
    settings = next(line for line in text.splitlines() if line.startswith("- Settings"))
    assert "`optimizer=adam`" in settings and "`lr=0.002`" in settings
    assert "momentum" not in settings and "lstm_hidden" not in settings
    assert "| 2 | 10 |" in text and "| 5 | 10 |" in text
    assert text.rstrip().endswith("- a note")


def test_a_run_saved_before_the_newer_options_resumes_with_the_cut_off(tmp_path):
    run(tmp_path, "--max-sequences", "80", "--target-bit-errors", "0", "--lr", "1e-3")
    path = tmp_path / "m.pt"
    payload = read_checkpoint(path)
    for name in ("curriculum", "curriculum_threshold", "gate_bias", "lr_decay_below", "lr_decay"):
        del payload["metadata"]["args"][name]  # as a checkpoint from before these options
    torch.save(payload, path)
    args = train.build_parser().parse_args(
        ["--output", str(path), "--resume", "--no-progress", "--max-sequences", "160"]
    )
    result = train.train(args, command="resume")
    assert result["sequences_seen"] == 160
    assert result["curve"][-1]["lr"] == pytest.approx(1e-3) and "stage" not in result["curve"][-1]
    assert ntm.load_model(path).metadata["args"]["lr_decay_below"] == 0.0
