"""Fast checks of ``python -m ntm.train`` (``ntm.training``) and ``python -m ntm.evaluate`` on tiny
configurations."""

from __future__ import annotations

import json
import math
import os
import shlex
import signal
from dataclasses import dataclass, fields

import pytest
import torch

import ntm
from ntm import evaluate
from ntm.checkpoint import read_checkpoint
from ntm.tasks import TASKS, AssociativeRecallTask, CopyTask, RepeatCopyTask
from ntm.training import cli, loop
from ntm.training import state as state_module
from ntm.training.config import TrainConfig, choices_of, make_task, task_fields
from ntm.training.state import save_run

TINY = [
    "--task", "copy", "--min-length", "1", "--max-length", "3",
    "--memory-rows", "12", "--memory-width", "6", "--controller-size", "24",
    "--batch-size", "8", "--eval-every", "80", "--eval-sequences", "30",
    "--device", "cpu", "--no-progress", "--seed", "5",
]


pytestmark = pytest.mark.usefixtures("one_thread")


def run(tmp_path, *extra, name="m.pt"):
    return cli.train([*TINY, "--output", str(tmp_path / name), *extra], command="test")


def resume(path, *extra, command="resume"):
    return cli.train(["--output", str(path), "--resume", "--no-progress", *extra], command=command)


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
    resumed = resume(tmp_path / "resumed.pt", "--max-sequences", "320")
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
    real = loop.compute_loss
    calls = {"n": 0}

    def poisoned(model, batch, *penalty):
        calls["n"] += 1
        loss, errors = real(model, batch, *penalty)
        if calls["n"] == 15:  # step 15: after the checkpoint at 80 sequences (10 steps)
            loss = loss * math.nan
        return loss, errors

    monkeypatch.setattr(loop, "compute_loss", poisoned)
    path = tmp_path / "m.pt"
    result = run(tmp_path, "--max-sequences", "400")
    assert result["status"] == "nan"
    assert "nan" in capsys.readouterr().out.lower()
    model = ntm.load_model(path)
    assert model.metadata["sequences_seen"] == 80
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert main_exit_code(tmp_path, monkeypatch) == cli.EXIT_NAN


def main_exit_code(tmp_path, monkeypatch):
    def always_nan(model, batch, *penalty):
        return torch.tensor(math.inf), torch.zeros(batch.batch_size)

    monkeypatch.setattr(loop, "compute_loss", always_nan)
    return cli.main([*TINY, "--output", str(tmp_path / "x.pt"), "--max-sequences", "80"])


def test_ctrl_c_saves_and_exits_cleanly(tmp_path, monkeypatch):
    real = loop.compute_loss
    calls = {"n": 0}

    def interrupting(model, batch, *penalty):
        calls["n"] += 1
        if calls["n"] == 7:
            os.kill(os.getpid(), signal.SIGINT)
        return real(model, batch, *penalty)

    monkeypatch.setattr(loop, "compute_loss", interrupting)
    code = cli.main([*TINY, "--output", str(tmp_path / "m.pt"), "--max-sequences", "4000"])
    assert code == cli.EXIT_INTERRUPTED
    model = ntm.load_model(tmp_path / "m.pt")
    assert model.metadata["status"] == "interrupted"
    assert model.metadata["sequences_seen"] == 7 * 8
    # ... and the interrupted run can be resumed.
    monkeypatch.setattr(loop, "compute_loss", real)
    assert resume(tmp_path / "m.pt", "--max-sequences", "96")["sequences_seen"] == 96


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
    code = cli.main(["--export", str(tmp_path / "m.pt"), "--output", str(tmp_path / "small.pt")])
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
    resumed = resume(tmp_path / "resumed.pt", "--max-sequences", "320")
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
    config = cli.parse_config([*TINY, "--gate-bias", "-3"])
    torch.manual_seed(config.seed)
    model = loop.make_model(config, CopyTask(max_length=3))  # the bias is make_model's to set
    params = model.heads(torch.zeros(2, config.controller_size))  # zero controller output: biases only
    assert torch.allclose(params.gate, torch.sigmoid(torch.tensor(-3.0)).expand_as(params.gate))
    assert not torch.allclose(params.beta, torch.sigmoid(torch.tensor(-3.0)).expand_as(params.beta))


def test_resume_keeps_saved_evaluation_settings_unless_given(tmp_path):
    run(tmp_path, "--target-bit-errors", "0", "--max-sequences", "80")

    kept = resume(tmp_path / "m.pt", "--max-sequences", "160")  # saved target 0: never stops early
    assert kept["status"] == "budget" and kept["sequences_seen"] == 160
    given = resume(tmp_path / "m.pt", "--max-sequences", "800", "--target-bit-errors", "1e9", "--eval-every", "40")
    assert given["status"] == "converged" and given["sequences_seen"] == 200
    saved = ntm.load_model(tmp_path / "m.pt").metadata["args"]
    assert saved["target_bit_errors"] == 1e9 and saved["eval_every"] == 40


def test_a_threshold_given_on_resume_schedules_one_more_decay(tmp_path):
    run(tmp_path, "--lr-decay-below", "1e9", "--lr-decay", "0.5", "--lr", "1e-3", "--target-bit-errors", "0",
        "--max-sequences", "80")
    first = resume(tmp_path / "m.pt", "--max-sequences", "160", command="r1")
    assert first["curve"][-1]["lr"] == pytest.approx(5e-4)
    second = resume(tmp_path / "m.pt", "--max-sequences", "240", "--lr-decay-below", "1e9",
                    "--lr-decay", "0.1", command="r2")
    assert second["curve"][-1]["lr"] == pytest.approx(5e-5)


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
    # the card's evaluation command recomputes the table; --card and --notes only write the card
    assert "--lengths 2,5 --sequences 10\n" in text and "a note'" not in text


def test_the_table_command_drops_only_the_card_options():
    command = evaluate.table_command(["--model", "m.pt", "--card", "c.md", "--notes", "- x",
                                      "--items", "2,6", "--notes=y", "--card=d.md", "--json", "j"])
    assert command == "python -m ntm.evaluate --model m.pt --items 2,6 --json j"


def test_a_run_saved_before_the_newer_options_resumes_with_the_cut_off(tmp_path):
    run(tmp_path, "--max-sequences", "80", "--target-bit-errors", "0", "--lr", "1e-3")
    path = tmp_path / "m.pt"
    payload = read_checkpoint(path)
    for name in ("curriculum", "curriculum_threshold", "gate_bias", "lr_decay_below", "lr_decay"):
        del payload["metadata"]["args"][name]  # as a checkpoint from before these options
    torch.save(payload, path)
    result = resume(path, "--max-sequences", "160")
    assert result["sequences_seen"] == 160
    assert result["curve"][-1]["lr"] == pytest.approx(1e-3) and "stage" not in result["curve"][-1]
    assert ntm.load_model(path).metadata["args"]["lr_decay_below"] == 0.0


# ------------------------------------------------------------------ settings (TrainConfig)


def every_setting_changed() -> TrainConfig:
    """A config in which every setting differs from its default (so none can be forgotten)."""
    default, values = TrainConfig(), {}
    for f in fields(TrainConfig):
        value = getattr(default, f.name)
        choices = choices_of(f)
        if f.name == "task_params":
            continue
        if choices:
            values[f.name] = next(c for c in choices if c != value)
        elif f.name == "device":
            values[f.name] = "cpu"
        elif isinstance(value, int):
            values[f.name] = value + 1
        else:
            values[f.name] = value + 0.5
    task = values["task"]
    values["task_params"] = {name: f.default + 1 for name, f in task_fields(task).items()
                             if name.startswith("max")}
    return TrainConfig(**values)


def test_every_setting_has_an_option_and_the_command_parses_back_to_the_same_config():
    config = every_setting_changed()
    assert all(getattr(config, f.name) != getattr(TrainConfig(), f.name) for f in fields(config))
    command = config.command()
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "ntm.train"]
    assert cli.parse_config(words[3:]) == config
    assert cli.parse_config(shlex.split(TrainConfig().command())[3:]) == TrainConfig()


def test_task_options_are_the_task_fields_and_others_are_ignored(monkeypatch):
    config = cli.parse_config(["--task", "associative-recall", "--min-items", "3",
                               "--max-length", "5"])  # copy's option: ignored, as before
    assert config.task_params == {"min_items": 3}
    assert make_task(config) == AssociativeRecallTask(min_items=3)
    config = cli.parse_config(["--task", "repeat-copy", "--max-repeats", "4", "--max-length", "6"])
    assert make_task(config) == RepeatCopyTask(max_length=6, max_repeats=4)

    @dataclass(frozen=True)
    class PaddedCopy(CopyTask):  # a task registered later brings its own option
        name = "padded-copy"
        padding: int = 0

    monkeypatch.setitem(TASKS, "padded-copy", PaddedCopy)
    config = cli.parse_config(["--task", "padded-copy", "--padding", "2", "--max-length", "3"])
    assert make_task(config) == PaddedCopy(padding=2, max_length=3)
    with pytest.raises(ValueError, match="has no parameter 'padding'"):
        TrainConfig(task="copy", task_params={"padding": 2})


@pytest.mark.parametrize("option, message", [
    (["--batch-size", "0"], "batch_size must be at least 1, got 0"),
    (["--eval-every", "0"], "eval_every must be at least 1, got 0"),
    (["--lr", "nan"], "lr must be a number, got nan"),
    (["--max-length", "0"], "max_length must be an integer from 1"),
    (["--memory-rows", "2", "--shift-range", "1"], "shift range 1 needs at least 3 rows"),
    (["--device", "gpu"], "device must be auto, cpu"),
])
def test_settings_that_cannot_train_are_refused_in_one_line(tmp_path, capsys, option, message):
    code = cli.main([*TINY, "--output", str(tmp_path / "m.pt"), *option])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert err.count("\n") == 1 and message in err and "Traceback" not in err, err
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("args", [
    {"batch_size": "eight"}, {"eval_every": 0}, {"task": "sorting"}, {"task_params": [3]}, None,
])
def test_resume_with_malformed_saved_settings_is_one_line(tmp_path, capsys, args):
    run(tmp_path, "--max-sequences", "80")
    path = tmp_path / "m.pt"
    payload = read_checkpoint(path)
    if args is None:
        payload["metadata"]["args"] = ["not", "a", "dict"]
    else:
        payload["metadata"]["args"].update(args)
    torch.save(payload, path)
    capsys.readouterr()
    code = cli.main(["--output", str(path), "--resume", "--no-progress", "--max-sequences", "160"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert err.count("\n") == 1 and "saved settings are malformed" in err, err


def test_a_non_finite_model_is_never_saved_as_the_last_good_checkpoint(tmp_path, capsys):
    # lr = inf: the first step's gradient is finite, the weights after it are not
    result = run(tmp_path, "--lr", "inf", "--eval-every", "8", "--max-sequences", "80")
    out = capsys.readouterr().out
    assert result["status"] == "nan" and "weights are not finite" in out
    assert "last good checkpoint" not in out and "No checkpoint was saved" in out
    assert not (tmp_path / "m.pt").exists()
    # and save_run itself refuses, leaving the good file as it was
    good = run(tmp_path, "--max-sequences", "80", name="good.pt")
    config = cli.parse_config(TINY)
    state = loop.start(config)
    with torch.no_grad():
        next(state.model.parameters()).fill_(math.inf)
    with pytest.raises(ntm.CheckpointError, match="infinite"):
        save_run(tmp_path / "good.pt", config, state, "training", ["test"])
    assert ntm.load_model(tmp_path / "good.pt").metadata["sequences_seen"] == good["sequences_seen"]


def test_output_is_not_overwritten_without_force(tmp_path, capsys):
    notes = tmp_path / "m.pt"
    notes.write_text("my notes\n")
    assert cli.main([*TINY, "--output", str(notes), "--max-sequences", "8"]) == cli.EXIT_USAGE
    assert "is not a checkpoint" in capsys.readouterr().err and notes.read_text() == "my notes\n"
    assert cli.main([*TINY, "--output", str(notes), "--max-sequences", "80", "--force"]) == 0
    assert ntm.load_model(notes).metadata["sequences_seen"] == 80
    # another run's checkpoint, when --resume was forgotten
    assert cli.main([*TINY, "--output", str(notes), "--max-sequences", "8"]) == cli.EXIT_USAGE
    assert "--resume" in capsys.readouterr().err
    assert ntm.load_model(notes).metadata["sequences_seen"] == 80


def test_sigterm_during_a_save_saves_the_run_as_interrupted_and_leaves_no_tmp(tmp_path, monkeypatch):
    handler = signal.getsignal(signal.SIGTERM)
    real = state_module.save_model
    calls = {"n": 0}

    def terminated_while_saving(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(state_module, "save_model", terminated_while_saving)
    code = cli.main([*TINY, "--output", str(tmp_path / "m.pt"), "--max-sequences", "4000"])
    assert code == cli.EXIT_INTERRUPTED
    model = ntm.load_model(tmp_path / "m.pt")
    assert model.metadata["status"] == "interrupted" and model.metadata["sequences_seen"] == 80
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]
    assert signal.getsignal(signal.SIGTERM) == handler


def test_fit_yields_steps_evaluations_and_one_finish():
    config = cli.parse_config([*TINY, "--max-sequences", "160", "--curriculum", "2",
                               "--curriculum-threshold", "1e9", "--lr-decay-below", "1e9"])
    events = list(loop.fit(config))
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("Step") == 20 and kinds.count("Evaluation") == 2
    assert kinds[-1] == "Finished" and events[-1].status == loop.BUDGET
    first, second = (e for e in events if isinstance(e, loop.Evaluation))
    # the first evaluation moves to the last stage, which lets the cut happen at once
    assert first.next_stage == {"length": 3} and first.stages == 2 and first.lr_cut
    assert first.point["stage"] == 1 and second.point["stage"] == 2
    assert second.next_stage is None and not second.lr_cut
    run_ = events[-1].run
    assert run_.sequences == 160 and len(run_.curve) == 2 and run_.elapsed() > 0


def test_init_from_starts_a_new_run_from_a_checkpoints_weights(tmp_path, capsys):
    run(tmp_path, "--max-sequences", "160", name="first.pt")
    cli.main(["--export", str(tmp_path / "first.pt"), "--output", str(tmp_path / "ship.pt")])
    shipped = ntm.load_model(tmp_path / "ship.pt")
    started = cli.prepare(*cli.parse([*TINY, "--init-from", str(tmp_path / "ship.pt"),
                                      "--output", str(tmp_path / "ft.pt")]), command="ft")
    for key, value in shipped.state_dict().items():
        assert torch.equal(started.run.model.state_dict()[key], value), key
    assert started.run.sequences == 0 and started.commands == ["test", "ft"]
    assert started.extra["init_from"] == {"path": str(tmp_path / "ship.pt"),
                                          "sequences_seen": 160,
                                          "wall_time": shipped.metadata["wall_time"]}
    run(tmp_path, "--init-from", str(tmp_path / "ship.pt"), "--max-sequences", "40",
        "--lr", "1e-4", name="ft.pt")
    resume(tmp_path / "ft.pt", "--max-sequences", "80")
    meta = ntm.load_model(tmp_path / "ft.pt").metadata
    assert meta["sequences_seen"] == 80 and meta["commands"] == ["test", "test", "resume"]
    assert meta["init_from"]["path"] == str(tmp_path / "ship.pt")
    assert meta["init_from"]["sequences_seen"] == 160
    assert evaluate.main(["--model", str(tmp_path / "ft.pt"), "--lengths", "2", "--sequences",
                          "4", "--card", str(tmp_path / "ft.md")]) == 0
    card = (tmp_path / "ft.md").read_text()
    assert f"weights of `{tmp_path / 'ship.pt'}` (160 sequences" in card
    assert "- Sequences seen: 80" in card
    # another size, another task, or with --resume: refused with a reason
    for extra, words in [(["--memory-width", "5"], "does not fit this model's settings"),
                         (["--task", "repeat-copy"], "was trained on 'copy'"),
                         (["--resume"], "give one of them")]:
        code = cli.main([*TINY, "--init-from", str(tmp_path / "ship.pt"), "--force",
                         "--output", str(tmp_path / "x.pt"), *extra])
        assert code == cli.EXIT_USAGE and words in capsys.readouterr().err


def _small_ntm_and_batch():
    torch.manual_seed(3)
    task = CopyTask(min_length=1, max_length=5)
    model = ntm.NTM(ntm.NTMConfig(input_size=9, output_size=8, memory_rows=10, memory_width=6,
                                  controller_size=16, write_heads=2))
    return model, task.sample(4, torch.Generator().manual_seed(1))


def test_run_with_writes_gives_both_engines_erase_and_add_and_the_same_logits():
    model, batch = _small_ntm_and_batch()
    model.fast = True
    fast = model.run_with_writes(batch.inputs)
    model.fast = False
    reference = model.run_with_writes(batch.inputs)
    trace = model.trace(batch.inputs)
    assert fast[1].shape == fast[2].shape == (batch.inputs.shape[0], 4, 2, 6)
    for a, b in zip(fast, reference, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(fast[0], model(batch.inputs), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(fast[1].detach().numpy(), trace.write.erase, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(fast[2].detach().numpy(), trace.write.add, atol=1e-6, rtol=1e-5)


def test_the_answer_write_activity_is_the_scored_steps_mean_erase_plus_squared_add():
    model, batch = _small_ntm_and_batch()
    _, erase, add = model.run_with_writes(batch.inputs)
    expected, count = 0.0, 0
    for t in range(batch.inputs.shape[0]):
        for b in range(batch.batch_size):
            if batch.mask[t, b]:
                for h in range(2):
                    expected += erase[t, b, h].mean().item() + (add[t, b, h] ** 2).mean().item()
                count += 1
    activity = loop.answer_write_activity(erase, add, batch)
    assert activity.item() == pytest.approx(expected / (2 * count), rel=1e-5)
    bce, _ = loop.compute_loss(model, batch)
    penalised, _ = loop.compute_loss(model, batch, 0.5)
    assert penalised.item() == pytest.approx(bce.item() + 0.5 * activity.item(), rel=1e-5)
    penalised.backward()  # the penalty reaches the erase/add layer
    assert model.heads.erase_add.weight.grad.abs().sum() > 0


def test_the_answer_write_penalty_quiets_the_answer_phase_writes(tmp_path):
    def activity(path):
        model = ntm.load_model(path)
        batch = CopyTask(min_length=1, max_length=3).sample(64, torch.Generator().manual_seed(9))
        with torch.no_grad():
            return loop.answer_write_activity(*model.run_with_writes(batch.inputs)[1:], batch)

    budget = ("--max-sequences", "800", "--target-bit-errors", "0", "--lr", "3e-3")
    run(tmp_path, *budget, name="plain.pt")
    run(tmp_path, *budget, "--answer-write-penalty", "1", name="quiet.pt")
    assert activity(tmp_path / "quiet.pt") < 0.5 * activity(tmp_path / "plain.pt")
    saved = ntm.load_model(tmp_path / "quiet.pt").metadata
    assert saved["args"]["answer_write_penalty"] == 1.0
    assert "--answer-write-penalty 1.0" in TrainConfig(**{
        k: v for k, v in saved["args"].items() if k in {f.name for f in fields(TrainConfig)}
    }).command()


def test_the_answer_write_penalty_is_refused_below_zero_and_ignored_by_the_lstm(tmp_path):
    run(tmp_path, "--model", "lstm", "--lstm-hidden", "8", "--lstm-layers", "1",
        "--answer-write-penalty", "0.1", "--max-sequences", "16")
    with pytest.raises(ValueError, match="answer_write_penalty must be at least 0"):
        cli.parse_config([*TINY, "--answer-write-penalty", "-1"])
