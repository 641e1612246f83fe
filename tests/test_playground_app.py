"""The Addressing playground page under Streamlit's AppTest (no browser).

The four addressing stages are an in-browser component (``ntm.app.addressing_panel``): AppTest
cannot drag its sliders, so these tests drive the stage controls as a release does, through the
session (``pg_stage``) or the URL, and read back the data the page sends the component -- the
memory, the key and the controls -- computing what it draws with ``ntm.addressing`` in float64
(the browser's JavaScript is proven equal to that in tests/browser/). The memory figure is a
Plotly chart; the read and write figures are live components whose figure the server builds.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from ntm import addressing
from ntm import playground as pg
from ntm.app.addressing_panel import MAX_RADIUS, StageControls

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "playground.py")
STAGES = ("previous", "content", "gated", "shifted", "sharpened")
#: The browser computes in float64 from the float32 memory; ``pg.compute`` in float32.
RTOL, ATOL = 1e-4, 1e-6


def run(query: dict | None = None, **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    if query:
        at.query_params.update(query)
    for key, value in state.items():
        at.session_state[key] = value
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


def components(at: AppTest) -> dict[str, dict]:
    """The data each component of the page received, by its key."""
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.json)
            for c in at.get("bidi_component")}


def panel(at: AppTest) -> dict:
    return components(at)["pg_panel"]


def figures(at: AppTest) -> dict[str, dict]:
    """The Plotly figures the page draws besides the stages: the memory and the read and write
    figures, each a component drawn with the plotly package's Plotly.js."""
    assert not at.get("plotly_chart")  # no second Plotly.js (Streamlit's) on this page
    out = {}
    for key, data in components(at).items():
        if "figure" in data:
            out[key.removeprefix("pg_")] = data["figure"]
    return out


def stage_controls(at: AppTest) -> StageControls:
    """The stage controls the page gave the addressing panel."""
    data = panel(at)
    return StageControls.from_json(data["controls"], len(data["memory"]))


def reference_stages(data: dict) -> dict[str, np.ndarray]:
    """What the addressing panel draws for the data it received: ``w(t−1)`` (the start focus
    after ``steps`` passes) and the four stages, by ``ntm.addressing`` in float64."""
    c = data["controls"]
    mem = torch.tensor(data["memory"], dtype=torch.float64)[None]
    key = torch.tensor(data["key"], dtype=torch.float64)[None]
    n, r = mem.shape[1], int(c["R"])
    raw = torch.tensor(c["kernel"][MAX_RADIUS - r: MAX_RADIUS + r + 1], dtype=torch.float64)
    kernel = raw / raw.sum() if raw.sum() > 0 else torch.eye(2 * r + 1, dtype=torch.float64)[r]
    head = {name: torch.tensor([[float(c[name])]], dtype=torch.float64)
            for name in ("beta", "g", "gamma")}
    if c["prev"] == "uniform":
        previous = torch.full((1, n), 1.0 / n, dtype=torch.float64)
    else:
        previous = torch.zeros(1, n, dtype=torch.float64)
        previous[0, int(c["prow"])] = 1.0

    def step(prev: torch.Tensor) -> addressing.Addressing:
        return addressing.address(mem, key, head["beta"], head["g"], kernel[None],
                                  head["gamma"], prev)

    for _ in range(int(c["steps"])):
        previous = step(previous).sharpened
    out = step(previous)
    stages = {"previous": previous, "content": out.content, "gated": out.gated,
              "shifted": out.shifted, "sharpened": out.sharpened}
    return {name: w[0].numpy() for name, w in stages.items()}


def stages(at: AppTest) -> dict[str, np.ndarray]:
    """The five weightings the addressing panel shows for the page's data."""
    return reference_stages(panel(at))


def widget(at: AppTest, key: str):
    for kind in ("slider", "select_slider", "number_input", "radio", "selectbox", "toggle"):
        for w in getattr(at, kind):
            if w.key == key:
                return w
    raise KeyError(key)


def current_settings(at: AppTest) -> pg.Settings:
    values = {}
    for kind in ("slider", "select_slider", "number_input", "radio", "selectbox", "toggle"):
        for w in getattr(at, kind):
            if w.key in pg.PARAMS:
                values[w.key] = w.value
    return pg.Settings().updated(**values, **stage_controls(at).as_values())


def shown_values(at: AppTest) -> dict:
    """Every control's value as the page shows it: the widgets and the panel's controls."""
    settings = current_settings(at)
    stage = {k: v for k, v in stage_controls(at).as_values().items() if pg.active(settings, k)}
    return {**{k: widget(at, k).value for k in pg.widget_values(settings, stage=False)}, **stage}


def release(at: AppTest, **changes) -> AppTest:
    """Rerun as after a released stage control: the session holds the new stage values."""
    at.session_state["pg_stage"] = dataclasses.replace(stage_controls(at), **changes)
    at.run()
    assert not at.exception, at.exception
    return at


def assert_stages(at: AppTest, settings: pg.Settings) -> None:
    expected = pg.compute(settings)
    for name, w in stages(at).items():
        np.testing.assert_allclose(w, expected.stages[name], rtol=RTOL, atol=ATOL, err_msg=name)


def test_renders_at_defaults_and_draws_the_library_result():
    at = run()
    assert at.title[0].value == "Addressing playground"
    assert not at.warning
    assert set(figures(at)) == {"memory", "read", "write"}
    data = panel(at)
    expected = pg.compute(pg.Settings())
    np.testing.assert_array_equal(np.array(data["memory"]), expected.memory)
    np.testing.assert_array_equal(np.array(data["key"]), expected.key)
    assert_stages(at, pg.Settings())
    assert data["texts"] == {k: v for k, v in pg.STAGE_TEXT.items()}  # the page's own words
    assert data["channel"] == components(at)["pg_read"]["channel"]
    assert data["token"] == components(at)["pg_read"]["token"] == components(at)["pg_write"]["token"]
    assert len(at.latex) >= 3  # the read and the two write equations (the stages' are in the panel)
    assert shown_values(at) == pg.widget_values(pg.Settings())


def test_the_read_and_write_figures_are_the_builders_for_this_state():
    at = run({"mem": "boba", "kmode": "blend", "krow": "1", "krow2": "2", "noise": "0"})
    result = pg.compute(current_settings(at))
    read, write = components(at)["pg_read"], components(at)["pg_write"]
    np.testing.assert_allclose(read["weighting"], result.sharpened)
    bars = read["figure"]["data"][1]
    np.testing.assert_allclose(_decode(bars["y"]), result.read, rtol=1e-6)
    assert len(read["figure"]["data"][0]["y"]) == 3  # always three rows: the shape never changes
    after = write["figure"]["data"][2]
    np.testing.assert_allclose(_decode(after["z"]), result.written, rtol=1e-6)
    np.testing.assert_allclose(write["erase"], result.erase)
    np.testing.assert_allclose(write["add"], result.add)


# (control, new value, first stage it must change): every stage before it stays identical.
MOVES = [
    ("prow", 4, "previous"),
    ("beta", 50.0, "content"),
    ("noise", 0.6, "content"),
    ("g", 0.3, "gated"),
    ("s_p1", 0.9, "shifted"),
    ("s_m1", 0.4, "shifted"),
    ("gamma", 8.0, "sharpened"),
]


def _move(at: AppTest, key: str, value) -> AppTest:
    """A server widget is set; a stage control is released in the panel."""
    if key not in pg.STAGE_PARAMS:
        widget(at, key).set_value(value).run()
        return at
    values = {**stage_controls(at).as_values(), key: value}
    return release(at, **dataclasses.asdict(StageControls.from_values(values)))


@pytest.mark.parametrize(("key", "value", "first"), MOVES)
def test_each_control_changes_its_stage_and_none_before_it(key, value, first):
    at = run()
    before = stages(at)
    _move(at, key, value)
    assert not at.exception, at.exception
    after = stages(at)
    i = STAGES.index(first)
    for name in STAGES[:i]:  # w_{t-1} is an input: only its own control may move it
        np.testing.assert_array_equal(after[name], before[name], err_msg=f"{key} moved {name}")
    assert not np.allclose(after[first], before[first]), f"{key} did not change {first}"
    assert at.query_params[key] == pg.to_query(current_settings(at))[key]  # and the link


@pytest.mark.parametrize("name", sorted(pg.SCENARIOS))
def test_each_scenario_button_sets_the_documented_values(name):
    at = run()
    release(at, g=0.35)  # something away from the scenario first
    at.button(key=f"pg_scenario_{name}").click().run()
    assert not at.exception, at.exception
    expected = pg.SCENARIOS[name].settings()
    assert shown_values(at) == pg.widget_values(expected)
    assert_stages(at, expected)
    assert any(pg.SCENARIOS[name].title in info.value for info in at.info)
    assert at.query_params == pg.to_query(expected)  # the link reproduces the scenario


def test_a_url_restores_the_state():
    query = {
        "mem": "near",
        "krow": "3",
        "noise": "0",
        "beta": "47.5",  # any value in range: the panel's β and γ sliders are continuous
        "g": "0.5",
        "R": "2",
        "s_m2": "0.5",
        "s_0": "1",
        "s_p1": "0",
        "gamma": "3.3",
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
    assert (stage_controls(at).beta, stage_controls(at).gamma) == (47.5, 3.3)
    assert_stages(at, expected)
    memory = _decode(figures(at)["memory"]["data"][0]["z"])
    assert memory[3, 0] == 0.75
    assert at.query_params == pg.to_query(expected)  # canonical: defaults dropped


def test_url_state_url_round_trip():
    """URL -> state -> URL: the page writes back exactly the canonical link it was given, and
    that link opens the same numbers."""
    query = pg.to_query(pg.SCENARIOS["blur_sharpen"].settings().updated(beta=33.3, gamma=7.25,
                                                                        prow=4, steps=3))
    at = run(query)
    assert at.query_params == query
    again = run(dict(at.query_params))
    assert panel(again) == panel(at)
    for name, w in stages(again).items():
        np.testing.assert_array_equal(w, stages(at)[name])


def test_custom_key_components_from_the_url():
    at = run({"kmode": "custom", "M": "3", "k0": "1", "k1": "-0.5", "k2": "0.25"})
    key = _decode(figures(at)["memory"]["data"][1]["z"])[0]
    np.testing.assert_allclose(key, [1.0, -0.5, 0.25])
    np.testing.assert_allclose(panel(at)["key"], [1.0, -0.5, 0.25])


def test_garbage_query_values_give_a_notice_and_a_working_page():
    at = run({"beta": "abc", "gamma": "-5", "N": "100000"})
    (warning,) = at.warning
    for text in ("`beta=abc`", "`gamma=-5`", "`N=100000`"):
        assert text in warning.value
    assert stage_controls(at).beta == pg.DEFAULTS["beta"]
    assert stage_controls(at).gamma == 1.0
    assert widget(at, "N").value == pg.MAX_ROWS
    assert at.query_params == {"gamma": "1", "N": "128"}  # the URL now says what is shown
    assert stages(at)["sharpened"].shape == (pg.MAX_ROWS,)
    # the page keeps working, and the notice can be dismissed
    release(at, g=0.5)
    widget(at, "noise").set_value(0.5).run()
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
    assert widget(at, "krow").value == 0 and stage_controls(at).R == pg.MAX_RADIUS
    assert stage_controls(at).steps == pg.MAX_STEPS


def test_reset_restores_the_defaults():
    at = run({"beta": "50", "g": "0.1", "steps": "3", "cell_1_1": "0.5"})
    at.button(key="pg_reset").click().run()
    assert shown_values(at) == pg.widget_values(pg.Settings())
    assert_stages(at, pg.Settings())
    assert at.query_params == {}


def test_a_released_stage_control_updates_the_url():
    at = run()
    release(at, gamma=8.0)
    assert at.query_params == {"gamma": "8"}
    release(at, gamma=7.123456)  # continuous, as the panel's slider and number field are
    assert at.query_params == {"gamma": "7.12346"}
    release(at, gamma=pg.DEFAULTS["gamma"])
    assert at.query_params == {}


def test_a_server_rerun_keeps_the_released_stage_values():
    at = run()
    release(at, beta=42.0, R=2)
    widget(at, "noise").set_value(0.5).run()  # another control, another rerun
    assert (stage_controls(at).beta, stage_controls(at).R) == (42.0, 2)
    assert at.query_params["beta"] == "42" and at.query_params["noise"] == "0.5"


def test_apply_again_feeds_the_result_back():
    at = run()
    w = stages(at)["sharpened"]
    release(at, steps=1)  # the panel's "Apply again"
    assert at.query_params == {"steps": "1"}
    np.testing.assert_allclose(stages(at)["previous"], w, rtol=1e-12)
    assert_stages(at, current_settings(at))
    release(at, steps=0)  # "Restart"
    assert at.query_params == {}


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
    assert panel(at)["classroom"] is False
    widget(at, "classroom").set_value(True).run()
    assert len(at.caption) < captions
    assert len(at.latex) == latex
    assert not any("The head reads a weighted mix" in c.value for c in at.caption)
    assert panel(at)["classroom"] is True  # the panel hides its explanations too
    at = run({"classroom": "true"})
    assert not any("The head reads a weighted mix" in c.value for c in at.caption)
    assert panel(at)["classroom"] is True
