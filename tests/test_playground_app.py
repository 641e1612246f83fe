"""The Addressing playground page under Streamlit's AppTest (no browser).

The stage panels are read back from the Plotly specs the page sends, so these tests check
what a student sees, not only what the library computes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ntm import playground as pg

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "playground.py")
STAGES = ("previous", "content", "gated", "shifted", "sharpened")


def run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def _decode(z) -> np.ndarray:
    """Plotly sends numpy arrays as base64 typed arrays."""
    if isinstance(z, dict) and "bdata" in z:
        data = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        shape = [int(n) for n in str(z.get("shape", len(data))).split(",")]
        return data.reshape(shape).astype(np.float64)
    return np.asarray(z, dtype=np.float64)


def figures(at: AppTest) -> dict[str, dict]:
    out = {}
    for chart in at.get("plotly_chart"):
        name = chart.proto.id.rsplit("pg_fig_", 1)[-1]
        out[name] = json.loads(chart.proto.spec)
    return out


def stages(at: AppTest) -> dict[str, np.ndarray]:
    figs = figures(at)
    return {name: _decode(figs[name]["data"][0]["z"])[:, 0] for name in STAGES}


def widget(at: AppTest, key: str):
    for kind in ("slider", "select_slider", "number_input", "radio", "selectbox", "toggle"):
        for w in getattr(at, kind):
            if w.key == key:
                return w
    raise KeyError(key)


def shown_values(at: AppTest) -> dict:
    return {k: widget(at, k).value for k in pg.widget_values(current_settings(at))}


def current_settings(at: AppTest) -> pg.Settings:
    values = {}
    for kind in ("slider", "select_slider", "number_input", "radio", "selectbox", "toggle"):
        for w in getattr(at, kind):
            if w.key in pg.PARAMS:
                values[w.key] = w.value
    return pg.Settings().updated(**values)


def test_renders_at_defaults_and_draws_the_library_result():
    at = run()
    assert at.title[0].value == "Addressing playground"
    assert not at.warning
    assert set(figures(at)) == {"memory", "kernel", *STAGES, "read", "write"}
    expected = pg.compute(pg.Settings())
    for name, w in stages(at).items():
        np.testing.assert_allclose(w, expected.stages[name], rtol=1e-6, atol=1e-12)
    assert len(at.latex) >= 8  # five stage equations, the read and the two write equations
    assert shown_values(at) == pg.widget_values(pg.Settings())


# (widget, new value, first stage it must change): every stage before it stays identical.
MOVES = [
    ("prow", 4, "previous"),
    ("beta", 50.0, "content"),
    ("noise", 0.6, "content"),
    ("g", 0.3, "gated"),
    ("s_p1", 0.9, "shifted"),
    ("s_m1", 0.4, "shifted"),
    ("gamma", 8.0, "sharpened"),
]


@pytest.mark.parametrize(("key", "value", "first"), MOVES)
def test_each_control_changes_its_stage_and_none_before_it(key, value, first):
    at = run()
    before = stages(at)
    widget(at, key).set_value(value).run()
    assert not at.exception, at.exception
    after = stages(at)
    i = STAGES.index(first)
    for name in STAGES[:i]:  # w_{t-1} is an input: only its own control may move it
        np.testing.assert_array_equal(after[name], before[name], err_msg=f"{key} moved {name}")
    assert not np.allclose(after[first], before[first]), f"{key} did not change {first}"


@pytest.mark.parametrize("name", sorted(pg.SCENARIOS))
def test_each_scenario_button_sets_the_documented_values(name):
    at = run()
    widget(at, "g").set_value(0.35).run()  # something away from the scenario first
    at.button(key=f"pg_scenario_{name}").click().run()
    assert not at.exception, at.exception
    expected = pg.SCENARIOS[name].settings()
    assert shown_values(at) == pg.widget_values(expected)
    for stage, w in stages(at).items():
        np.testing.assert_allclose(w, pg.compute(expected).stages[stage], rtol=1e-6, atol=1e-12)
    assert any(pg.SCENARIOS[name].title in info.value for info in at.info)
    assert at.query_params == pg.to_query(expected)  # the link reproduces the scenario


def test_a_url_restores_the_state():
    query = {
        "mem": "near",
        "krow": "3",
        "noise": "0",
        "beta": "50",
        "g": "0.5",
        "R": "2",
        "s_m2": "0.5",
        "s_0": "1",
        "s_p1": "0",
        "gamma": "3",
        "prev": "onehot",
        "prow": "9",
        "steps": "2",
        "erase": "0.5",
        "add": "ones",
        "cell_3_0": "0.75",
    }
    at = run(query)
    assert not at.warning
    expected, notices, _ = pg.parse_query(query)
    assert notices == []
    assert shown_values(at) == pg.widget_values(expected)
    for stage, w in stages(at).items():
        np.testing.assert_allclose(w, pg.compute(expected).stages[stage], rtol=1e-6, atol=1e-12)
    memory = _decode(figures(at)["memory"]["data"][0]["z"])
    assert memory[3, 0] == 0.75
    assert at.query_params == pg.to_query(expected)  # canonical: defaults dropped


def test_custom_key_components_from_the_url():
    at = run({"kmode": "custom", "M": "3", "k0": "1", "k1": "-0.5", "k2": "0.25"})
    key = _decode(figures(at)["memory"]["data"][1]["z"])[0]
    np.testing.assert_allclose(key, [1.0, -0.5, 0.25])


def test_garbage_query_values_give_a_notice_and_a_working_page():
    at = run({"beta": "abc", "gamma": "-5", "N": "100000"})
    (warning,) = at.warning
    for text in ("`beta=abc`", "`gamma=-5`", "`N=100000`"):
        assert text in warning.value
    assert widget(at, "beta").value == pg.DEFAULTS["beta"]
    assert widget(at, "gamma").value == 1.0
    assert widget(at, "N").value == pg.MAX_ROWS
    assert at.query_params == {"gamma": "1", "N": "128"}  # the URL now says what is shown
    assert _decode(figures(at)["sharpened"]["data"][0]["z"]).shape == (pg.MAX_ROWS, 1)
    # the page keeps working, and the notice can be dismissed
    widget(at, "g").set_value(0.5).run()
    assert not at.exception
    at.button(key="pg_dismiss").click().run()
    assert not at.warning


def test_more_garbage_never_crashes():
    at = run(
        {
            "krow": "-3",
            "R": "9",
            "mem": "<script>",
            "steps": "1e9",
            "cell_a_b": "1",
            "cell_0_0": "zzz",
            "classroom": "2",
            "s_0": "-1",
        }
    )
    assert at.warning
    assert widget(at, "krow").value == 0 and widget(at, "R").value == pg.MAX_RADIUS


def test_reset_restores_the_defaults():
    at = run({"beta": "50", "g": "0.1", "steps": "3", "cell_1_1": "0.5"})
    at.button(key="pg_reset").click().run()
    assert shown_values(at) == pg.widget_values(pg.Settings())
    for stage, w in stages(at).items():
        np.testing.assert_allclose(w, pg.compute(pg.Settings()).stages[stage], rtol=1e-6)
    assert at.query_params == {}


def test_moving_a_slider_updates_the_url():
    at = run()
    widget(at, "gamma").set_value(8.0).run()
    assert at.query_params == {"gamma": "8"}
    widget(at, "gamma").set_value(pg.DEFAULTS["gamma"]).run()
    assert at.query_params == {}


def test_apply_again_feeds_the_result_back():
    at = run()
    w = stages(at)["sharpened"]
    at.button(key="pg_apply_again").click().run()
    assert widget(at, "steps").value == 1
    assert at.query_params == {"steps": "1"}
    np.testing.assert_allclose(stages(at)["previous"], w, rtol=1e-6)
    at.button(key="pg_restart").click().run()
    assert widget(at, "steps").value == 0


def test_switching_to_custom_key_starts_from_the_current_key():
    at = run()
    key = _decode(figures(at)["memory"]["data"][1]["z"])[0]
    widget(at, "kmode").set_value("custom").run()
    comps = [widget(at, pg.key_param(c)).value for c in range(6)]
    np.testing.assert_allclose(comps, np.clip(np.round(key, 2), -1, 1), atol=1e-9)


def test_classroom_mode_hides_the_explanations_but_not_the_equations():
    at = run()
    captions = len(at.caption)
    latex = len(at.latex)
    widget(at, "classroom").set_value(True).run()
    assert len(at.caption) < captions
    assert len(at.latex) == latex
    assert not any("The head reads a weighted mix" in c.value for c in at.caption)
    at = run({"classroom": "true"})
    assert not any("The head reads a weighted mix" in c.value for c in at.caption)
