"""The Python side of the live addressing panel (ntm/app/addressing_panel.py): the controls'
round trip through the playground's names, clamping of whatever the browser reports, the data
the component receives, and the shipped assets. The browser side is in
tests/browser/test_browser_addressing_*.py."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ntm.app import addressing_panel as ap
from ntm.app import plotly_js
from ntm.app.addressing_panel import StageControls, addressing_panel, panel_data
from ntm.figures.style import WEIGHTING_COLORSCALE


def test_controls_round_trip_through_playground_names():
    c = StageControls(prev="uniform", prow=3, steps=2, beta=42.5, g=0.3, R=2,
                      kernel=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.0), gamma=7.5)
    values = c.as_values()
    assert values["s_m2"] == 0.1 and values["s_p2"] == 0.5 and values["s_0"] == 0.3
    assert StageControls.from_values(values) == c
    assert StageControls.from_values({}) == StageControls()


@pytest.mark.parametrize(
    ("given", "rows", "expected"),
    [
        ({"beta": 1e6, "gamma": 0.2, "g": -1}, 16, {"beta": ap.BETA_MAX, "gamma": 1.0, "g": 0.0}),
        ({"beta": float("nan"), "gamma": "x", "g": None}, 16, {"beta": 10.0, "gamma": 2.0, "g": 0.8}),
        ({"prow": 99, "R": 3}, 5, {"prow": 4, "R": 2}),  # 2R + 1 <= N
        ({"R": 3}, 3, {"R": 1}),
        ({"steps": 1000, "prev": "diagonal"}, 16, {"steps": ap.MAX_STEPS, "prev": "onehot"}),
        ({"kernel": [2, -1, "a"]}, 16, {"kernel": (1.0, 0.0, 0.0, 1.0, 0.2, 0.0, 0.0)}),
    ],
)
def test_reported_values_are_clamped(given, rows, expected):
    c = StageControls.from_json(given, rows)
    for name, value in expected.items():
        assert getattr(c, name) == value


def test_unusable_reports_are_ignored():
    assert StageControls.from_json(None, 16) is None
    assert StageControls.from_json([1, 2], 16) is None


def test_panel_data_is_exact_json_with_the_project_colour_scale():
    rng = np.random.default_rng(0)
    memory = torch.tensor(rng.normal(size=(7, 3)))
    key = memory[2] * 1 / 3
    data = panel_data(memory, key, StageControls(prow=50), row_labels=list("abcdefg"))
    back = json.loads(json.dumps(data))
    assert np.array_equal(np.array(back["memory"]), memory.numpy())  # floats round-trip
    assert back["key"] == key.tolist()
    assert back["controls"]["prow"] == 6
    assert back["colorscale"] == [[float(t), c] for t, c in WEIGHTING_COLORSCALE]
    assert back["rowLabels"] == list("abcdefg")


@pytest.mark.parametrize(
    ("memory", "key"),
    [(np.zeros((2, 3)), np.zeros(3)), (np.zeros((4, 3)), np.zeros(2)),
     (np.full((4, 2), math.inf), np.zeros(2)), (np.zeros(4), np.zeros(1))],
)
def test_panel_data_rejects_bad_shapes_and_non_finite(memory, key):
    with pytest.raises(ValueError):
        panel_data(memory, key, StageControls())


def test_wrapper_returns_the_released_values_else_the_servers(monkeypatch):
    calls = []

    def fake_mount(**kwargs):
        calls.append(kwargs)
        return SimpleNamespace(release=release)

    monkeypatch.setattr(ap, "_component", lambda: fake_mount)
    memory, key = np.eye(4), np.array([1.0, 0, 0, 0])
    server = StageControls(beta=5.0)

    release = None  # a run the panel did not cause: the server's values win
    assert addressing_panel(memory, key, server, key="p") == server
    release = {**server.to_json(), "beta": 33.0, "R": 3}  # a release: clamped (N = 4: R = 1)
    assert addressing_panel(memory, key, server, key="p") == StageControls(beta=33.0)
    assert calls[0]["key"] == "p" and callable(calls[0]["on_release_change"])
    assert calls[0]["data"]["controls"]["beta"] == 5.0


def test_assets_ship_and_expose_the_pure_function():
    js = plotly_js.asset("addressing.js")
    assert "export default function" in js and "globalThis.ntmAddressing" in js
    assert "http://" not in js.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in js and "@import" not in plotly_js.asset("addressing.css")


def test_the_components_load_the_partial_bundle_only_at_the_packages_version(tmp_path):
    """The vendored cartesian bundle is served while its banner's version is the one the plotly
    package ships (the version the Python builders write for); any other version, or no
    readable banner, falls back to the package's full build."""
    from ntm.app import plotly_js as pj

    vendored = pj.bundle_version(pj.VENDOR_FOLDER / pj.PARTIAL)
    assert vendored is not None, "vendor/plotly-cartesian.min.js has no version banner"
    assert vendored == pj.VERSION, (
        f"the vendored Plotly.js is {vendored}, the plotly package ships {pj.VERSION}: copy "
        "dist/plotly-cartesian.min.js of the npm package plotly.js@" + pj.VERSION + " into "
        "ntm/app/vendor/ (until then the full build is served)")
    assert pj.SCRIPT_FILE == pj.PARTIAL and pj.SCRIPT_PATH.endswith("/" + pj.PARTIAL)
    assert pj.choose_script("4.1.1", "4.1.1") == (pj.VENDOR_FOLDER, pj.PARTIAL)
    assert pj.choose_script("4.1.1", "4.2.0") == (pj.PACKAGE_FOLDER, "plotly.min.js")
    assert pj.choose_script(None, "4.1.1") == (pj.PACKAGE_FOLDER, "plotly.min.js")
    fake = tmp_path / "bundle.js"
    fake.write_text("/**\n* plotly.js (cartesian - minified) v9.8.7\n*/\n(function(){})()")
    assert pj.bundle_version(fake) == "9.8.7"
    fake.write_text("console.log(1)")
    assert pj.bundle_version(fake) is None and pj.bundle_version(tmp_path / "missing.js") is None


def test_the_panel_draws_with_the_plotly_package_and_shares_its_weighting(monkeypatch):
    """The component's JavaScript starts with the loader of the plotly package's Plotly.js (its
    version pinned), and its data names the channel and the memory's token that the live read
    and write figures of the same state carry."""
    from plotly.offline import get_plotlyjs_version

    from ntm.app import live_figures, plotly_js

    assert get_plotlyjs_version() == plotly_js.VERSION
    assert f"const PLOTLY_VERSION = {plotly_js.VERSION!r}" in plotly_js.LOADER_JS
    mounted = {}
    monkeypatch.setattr(ap, "_component", lambda: lambda **kw: mounted.update(kw))
    memory = np.random.default_rng(1).normal(size=(8, 3))
    addressing_panel(memory, memory[2], key="p", channel="lesson", texts={"gated": "**g**",
                                                                          "bogus": "x"},
                     classroom=True)
    data = mounted["data"]
    assert data["channel"] == "lesson" and data["classroom"] is True
    assert data["texts"] == {"gated": "**g**"}  # stages only
    w = np.full(8, 1 / 8)
    read = live_figures.read_data(memory, w, w @ memory, channel="lesson")
    write = live_figures.write_data(memory, memory, w, np.ones(3), np.zeros(3), channel="lesson")
    assert data["token"] == read["token"] == write["token"] == ap.memory_token(memory.tolist())
    assert ap.memory_token(memory + 1e-9) != data["token"]
    # The read figure keeps its shape as w changes: always min(3, N) rows.
    assert len(read["figure"]["data"][0]["y"]) == live_figures.READ_ROWS
    one_hot = np.eye(8)[0]
    assert len(live_figures.read_data(memory, one_hot, memory[0])["figure"]["data"][0]["y"]) == 3
