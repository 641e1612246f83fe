"""Training one recipe over several seeds (``python -m ntm.seeds``), its document, its figures
and the Generalisation page's band."""

from __future__ import annotations

import copy
import json
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from ntm import catalogue, seeds
from ntm import generalisation as G
from ntm.checkpoint import read_checkpoint
from ntm.evaluate import DEFAULT_SEED, evaluate, points_for
from ntm.figures import evaluation as evaluation_figures
from ntm.tasks import task_of

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "generalisation.py")
#: A tiny recipe: a few optimiser steps of a small NTM, so that two seeds train in seconds.
RECIPE = ["--task", "copy", "--max-length", "4", "--controller-size", "8", "--memory-rows", "8",
          "--memory-width", "4", "--batch-size", "4", "--max-sequences", "16",
          "--eval-every", "8", "--eval-sequences", "4", "--threads", "1",
          "--then", "--lr-decay-below", "1e9", "--lr-decay", "0.1", "--max-sequences", "24"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two seeds of the tiny recipe, trained two at a time, scored at lengths 2 and 6."""
    folder = tmp_path_factory.mktemp("seeds")
    out = folder / "copy.seeds.json"
    code = seeds.main(["--seeds", "3,5", "--jobs", "2", "--output", str(out), "--runs",
                       str(folder / "runs"), "--lengths", "2,6", "--sequences", "12",
                       "--", *RECIPE])
    assert code == 0
    return folder, json.loads(out.read_text())


def test_the_document_holds_each_seeds_curve_and_table(trained):
    folder, doc = trained
    assert seeds.check_document(doc) is doc
    assert doc["task"] == "copy" and doc["model_type"] == "ntm"
    assert doc["command"].startswith("python -m ntm.seeds --seeds 3,5 --jobs 2 --output")
    assert [r["seed"] for r in doc["seeds"]] == [3, 5]
    first, then = doc["recipe"]
    assert first.startswith("python -m ntm.train --task copy") and "--then" not in first
    assert then == ("python -m ntm.train --resume --lr-decay-below 1e9 --lr-decay 0.1 "
                    "--max-sequences 24 --threads 1")
    for rec in doc["seeds"]:
        assert rec["status"] in seeds.FINISHED and rec["sequences_seen"] == 24
        assert [p["sequences"] for p in rec["curve"]] == [8, 16, 24]
        assert len(rec["commands"]) == 2 and "--resume" in rec["commands"][1]
        assert set(rec["curve"][0]) <= set(seeds.CURVE_FIELDS)
        assert [r["length"] for r in rec["rows"]] == [2, 6]
        assert f"--seed {rec['seed']}" in rec["commands"][0]


def test_each_table_is_what_ntm_evaluate_gives_and_the_summary_is_over_seeds(trained):
    folder, doc = trained
    for rec in doc["seeds"]:
        payload = read_checkpoint(folder / "runs" / f"seed-{rec['seed']}.pt")
        assert payload["metadata"]["seed"] == rec["seed"]
        model = seeds.load_model(folder / "runs" / f"seed-{rec['seed']}.pt")
        points = points_for(task_of(model), lengths=[2, 6])
        assert evaluate(model, task_of(model), points, 12, DEFAULT_SEED) == rec["rows"]
    for i, row in enumerate(doc["summary"]):
        values = [rec["rows"][i]["bit_errors"] for rec in doc["seeds"]]
        assert (row["min"], row["median"], row["max"]) == (
            min(values), statistics.median(values), max(values))


def test_a_finished_seed_is_not_trained_again(trained, monkeypatch):
    folder, doc = trained
    monkeypatch.setattr(seeds.subprocess, "Popen", lambda *a, **k: pytest.fail("trained again"))
    assert seeds.train_seed(RECIPE, 3, folder / "runs") == folder / "runs" / "seed-3.pt"


def _recorded(monkeypatch) -> list[list[str]]:
    """The training commands ``ntm.seeds`` starts from now on (they still run)."""
    commands, real = [], subprocess.Popen
    monkeypatch.setattr(seeds.subprocess, "Popen",
                        lambda command, **kw: commands.append(command) or real(command, **kw))
    return commands


def _copy_runs(source: Path, runs: Path, status: str | None = None) -> None:
    runs.mkdir()
    for name in ("seed-3.stage1.pt", "seed-3.pt"):
        shutil.copyfile(source / name, runs / name)
    if status:
        payload = read_checkpoint(runs / "seed-3.pt")
        payload["metadata"]["status"] = status
        torch.save(payload, runs / "seed-3.pt")


def test_an_interrupted_stage_resumes_without_repeating_its_schedule(trained, tmp_path,
                                                                      monkeypatch):
    """Stage 2 cuts the learning rate once; resuming it must not cut it again."""
    folder, runs = trained[0] / "runs", tmp_path / "runs"
    _copy_runs(folder, runs, status="interrupted")
    commands = _recorded(monkeypatch)
    seeds.train_seed(RECIPE, 3, runs)
    [command] = commands
    assert command[-1] == "--resume" and "--lr-decay-below" not in command
    assert command[command.index("--max-sequences") + 1] == "24" and "--threads" in command
    reference = seeds.load_model(folder / "seed-3.pt").state_dict()
    for key, value in seeds.load_model(runs / "seed-3.pt").state_dict().items():
        assert torch.equal(value, reference[key]), key


def test_a_stage_copied_but_never_run_starts_with_its_own_options(trained, tmp_path,
                                                                   monkeypatch):
    folder, runs = trained[0] / "runs", tmp_path / "runs"
    _copy_runs(folder, runs)
    shutil.copyfile(runs / "seed-3.stage1.pt", runs / "seed-3.pt")  # copied; killed at once
    commands = _recorded(monkeypatch)
    seeds.train_seed(RECIPE, 3, runs)
    [command] = commands
    assert "--lr-decay-below" in command and command[-1] == "--resume"
    reference = seeds.load_model(folder / "seed-3.pt").state_dict()
    for key, value in seeds.load_model(runs / "seed-3.pt").state_dict().items():
        assert torch.equal(value, reference[key]), key


def test_a_failed_seed_is_reported_with_its_log(tmp_path, capsys):
    code = seeds.main(["--seeds", "0", "--output", str(tmp_path / "x.json"), "--runs",
                       str(tmp_path / "runs"), "--", "--lr", "-1", *RECIPE])
    assert code == 1 and not (tmp_path / "x.json").exists()
    assert "seed 0: training stage 1 did not finish" in capsys.readouterr().err
    assert (tmp_path / "runs" / "seed-0.log").read_text().strip()


def test_seed_and_output_belong_to_the_tool(tmp_path, capsys):
    assert seeds.main(["--output", str(tmp_path / "x.json"), "--runs", str(tmp_path),
                       "--", *RECIPE, "--seed", "4"]) == 2
    assert "no --seed or --output" in capsys.readouterr().err


@pytest.mark.parametrize("damage", [
    lambda d: d.update(format="other"),
    lambda d: d.update(seeds=[]),
    lambda d: d["summary"][0].update(median=float("nan")),
    lambda d: d["summary"][0].update(min=5.0, median=1.0),
    lambda d: d["seeds"][0].update(curve="x"),
    lambda d: d["seeds"][0]["curve"].append({"cost": 1}),
])
def test_a_malformed_document_is_refused(trained, damage):
    doc = copy.deepcopy(trained[1])
    damage(doc)
    with pytest.raises(ValueError):
        seeds.check_document(doc)


def test_the_band_figure_draws_median_min_and_max(trained):
    doc = trained[1]
    fig = evaluation_figures.seed_band({"NTM": doc}, train_max=4)
    lo, hi, mid = fig.data
    assert list(lo.y) == [r["min"] for r in doc["summary"]]
    assert list(hi.y) == [r["max"] for r in doc["summary"]] and hi.fill == "tonexty"
    assert list(mid.y) == [r["median"] for r in doc["summary"]]
    assert mid.name == "NTM: median of 2"
    curves = evaluation_figures.seed_curves({"NTM": doc, "LSTM": doc})
    assert len(curves.data) == 4 and [t.showlegend for t in curves.data] == [True, False] * 2


def test_the_page_draws_the_band_and_every_seeds_curve(trained, models_dir):
    doc = trained[1]
    (models_dir / "copy.seeds.json").write_text(json.dumps(doc))
    (models_dir / "copy-lstm.seeds.json").write_text("{broken")
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    specs = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    band = next(s for s in specs.values() if any(t.get("fill") == "tonexty" for t in s["data"]))
    assert [t["y"] for t in band["data"]][2] == [r["median"] for r in doc["summary"]]
    assert any(len(s["data"]) == 2 and all(t.get("mode") == "lines" for t in s["data"])
               for s in specs.values())
    assert any("copy-lstm.seeds.json" in w.value for w in at.warning)


def test_the_catalogue_skips_missing_files_and_names_broken_ones(tmp_path):
    (tmp_path / "copy.seeds.json").write_text("[]")
    docs, problems = catalogue.load_seeds(catalogue.COPY_SEEDS, tmp_path)
    assert docs == {} and problems == ["copy.seeds.json: not an ntm-seeds/1 document"]


def test_sigterm_stops_the_trainings_which_save_their_runs(tmp_path):
    """A stopped command leaves every started seed saved as interrupted, and no training behind."""
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "ntm.seeds", "--seeds", "0,1,2", "--jobs", "2", "--output",
               str(tmp_path / "x.json"), "--runs", str(runs), "--", *RECIPE[:RECIPE.index("--then")],
               "--max-sequences", "0"]  # no budget: trains until stopped
    runner = subprocess.Popen(command)
    logs = [runs / "seed-0.log", runs / "seed-1.log"]
    deadline = time.monotonic() + 180
    while not all(p.is_file() and "held-out" in p.read_text() for p in logs):
        assert time.monotonic() < deadline and runner.poll() is None
        time.sleep(0.2)
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=120) == 1
    assert not (tmp_path / "x.json").exists() and not (runs / "seed-2.log").exists()
    for seed in (0, 1):
        meta = read_checkpoint(runs / f"seed-{seed}.pt")["metadata"]
        assert meta["status"] == "interrupted" and meta["sequences_seen"] > 0


def test_every_stage_runs_on_the_first_stages_threads_unless_it_says():
    first, second, third = seeds.split_stages(
        ["--task", "copy", "--threads", "1", "--then", "--max-sequences", "9", "--then",
         "--threads", "2"])
    assert first == ["--task", "copy", "--threads", "1"]
    assert second == ["--max-sequences", "9", "--threads", "1"] and third == ["--threads", "2"]


def test_the_seeds_line_counts_the_seeds_that_learnt_their_range(trained):
    doc = copy.deepcopy(trained[1])
    doc["seeds"][0]["curve"][-1]["bit_errors"] = 0.05
    doc["seeds"][1]["curve"][-1]["bit_errors"] = 3.0
    doc["seeds"][0]["rows"][-1]["bit_errors"] = 0.25
    doc["seeds"][1]["rows"][-1]["bit_errors"] = 0.0
    assert G.seeds_line("NTM", doc) == ("NTM, 24 sequences per seed: 1 of 2 seeds ended under "
                                        "0.1 bit errors per sequence on the training lengths, "
                                        "1 of 2 at length 6")


def test_a_seeds_table_is_kept_beside_it_and_reused_while_it_fits(trained, monkeypatch):
    folder, doc = trained
    path = folder / "runs" / "seed-3.pt"
    kept = json.loads(path.with_suffix(".eval.json").read_text())
    assert kept["rows"] == doc["seeds"][0]["rows"] and kept["lengths"] == [2, 6]
    monkeypatch.setattr(seeds.subprocess, "run", lambda *a, **k: pytest.fail("scored again"))
    assert seeds.evaluate_seed(path, [2, 6], 12, "1") == kept["rows"]
    with pytest.raises(pytest.fail.Exception):  # another evaluation is not the kept one
        seeds.evaluate_seed(path, [2, 6], 13, "1")


def test_a_fine_tuned_models_curve_is_said_to_start_trained():
    meta = {"init_from": {"path": "a.pt", "sequences_seen": 876432, "wall_time": 4400.0}}
    assert G.fine_tune_note("NTM", meta) == (
        "NTM's curve is its last fine-tune alone, from weights that had already seen 876,432 "
        "sequences: it starts trained")
    assert G.fine_tune_note("LSTM", {"curve": []}) is None
