"""The Generalisation page and its library side."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import ntm
from ntm import catalogue
from ntm import generalisation as G
from ntm.figures import evaluation as evaluation_figures
from ntm.stepper import episode

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "generalisation.py")
COPY = {"bits": 8, "min_length": 1, "max_length": 20}


@pytest.fixture
def with_baseline(models_dir):
    torch.manual_seed(1)
    lstm = ntm.LSTMBaseline(ntm.LSTMBaselineConfig(hidden_size=8, layers=1))
    ntm.save_model(lstm, models_dir / "copy-lstm.pt", task="copy", task_params=COPY,
                   curve=[{"sequences": 500, "cost": 70.0, "bit_errors": 40.0}])
    rows = [{"length": n, "sequences": 10, "bit_errors": n / 10, "bits_wrong_pct": 1.0,
             "perfect_pct": 50.0, "cost_bits": 3.0} for n in (10, 20, 50)]
    catalogue.evaluation_path(models_dir / "copy.pt").write_text(json.dumps({"rows": rows}))
    return models_dir


def test_load_evaluation(with_baseline, tmp_path):
    rows = catalogue.load_evaluation(with_baseline / "copy.pt")
    assert [r["length"] for r in rows] == [10, 20, 50]
    assert catalogue.load_evaluation(with_baseline / "copy-lstm.pt") == []
    (tmp_path / "x.eval.json").write_text("{not json")
    assert catalogue.load_evaluation(tmp_path / "x.pt") == []
    assert G.table(rows)[2]["bit errors per sequence"] == 5.0


def test_sample_is_the_same_sequence_for_every_model(with_baseline):
    nt = ntm.load_model(with_baseline / "copy.pt")
    ls = ntm.load_model(with_baseline / "copy-lstm.pt")
    task = ntm.evaluate.task_of(nt)
    a, b = G.sample(nt, task, 4, length=30), G.sample(ls, task, 4, length=30)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert a.steps.tolist() == list(range(31, 61))
    logits = nt(episode.random_batch(task, 4, length=30).inputs)[31:, 0]
    assert a.bit_errors == int(((logits > 0).float() != torch.from_numpy(a.targets)).sum())


def test_reevaluate_reports_progress(with_baseline):
    model = ntm.load_model(with_baseline / "copy.pt")
    seen = []
    rows = G.reevaluate(model, [{"length": 3}, {"length": 5}], 8, lambda d, t, p: seen.append((d, t)))
    assert seen == [(1, 2), (2, 2)] and [r["length"] for r in rows] == [3, 5]
    assert all(r["sequences"] == 8 for r in rows)


def test_page_renders_both_models_and_the_stored_curves(with_baseline):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert len(charts) >= 2 * len(G.FIGURE_LENGTHS) + 4
    titles = " ".join(c.proto.spec for c in charts)
    assert "NTM, length 120 (beyond training)" in titles
    assert "LSTM, length 10 (within training)" in titles


def test_page_recomputes_on_demand(with_baseline):
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    at.slider(key="gseqs").set_value(20).run()
    next(b for b in at.button if b.label == "Recompute now").click().run()
    assert not at.exception, at.exception
    fresh = at.session_state["_gen_fresh"]
    assert set(fresh) == {"NTM", "LSTM"} and len(fresh["NTM"]) == 7


def test_page_without_models_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(ntm.catalogue, "MODELS_DIR", tmp_path)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception and "No shipped copy models" in at.warning[0].value


def test_evaluation_heatmap_puts_each_row_in_its_cell_and_outlines_the_training_range():

    rows = [{"length": n, "repeats": r, "bits_wrong_pct": n * 10 + r}
            for n in (1, 5, 20) for r in (1, 10, 20) if (n, r) != (20, 1)]
    fig = evaluation_figures.evaluation_heatmap(rows, train_max=(10, 10))
    z = np.array(fig.data[0].z, dtype=float)
    assert list(fig.data[0].x) == ["1", "5", "20"] and list(fig.data[0].y) == ["1", "10", "20"]
    for row in rows:
        i = ["1", "10", "20"].index(str(row["repeats"]))
        j = ["1", "5", "20"].index(str(row["length"]))
        assert z[i, j] == row["bits_wrong_pct"]
        assert fig.data[0].text[i][j] == f"{row['bits_wrong_pct']:.2g}"
    assert np.isnan(z[0, 2]) and fig.data[0].text[0][2] == ""  # (20, 1) was not evaluated
    [box] = fig.layout.shapes  # lengths 1 and 5, repeats 1 and 10: columns 0-1, rows 0-1
    assert (box.x0, box.x1, box.y0, box.y1) == (-0.5, 1.5, -0.5, 1.5)
    assert fig.data[0].zmin == 0


def test_the_page_draws_the_repeat_copy_heatmap_and_the_recall_curve():
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "pages" / "generalisation.py"),
                           default_timeout=60).run()
    assert not at.exception, at.exception
    headers = [h.value for h in at.subheader]
    assert "Repeat copy NTM" in headers and "Associative recall NTM" in headers
    ids = [chart.proto.id for chart in at.get("plotly_chart")]
    assert any(i.endswith("heat_Repeat copy NTM") for i in ids), ids
    assert any(i.endswith("curve_Associative recall NTM") for i in ids), ids
