"""The app's one colour choice (``colors=default|cividis``): its URL parsing, the figure builders'
``colorscale`` argument, the addressing panel's data, and, under AppTest with the entry script,
the sidebar selector recolouring a page's figures, in the URL and across page navigation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ntm import playground as pg
from ntm.app import colours
from ntm.app.addressing_panel import StageControls, panel_data
from ntm.figures.addressing import weighting_heatmap, write_figure
from ntm.figures.evaluation import ERRORS_COLORSCALE, evaluation_heatmap
from ntm.figures.playground import build_figures
from ntm.figures.style import (
    CIVIDIS_COLORSCALE,
    WEIGHTING_COLORSCALE,
    WEIGHTING_SCALE_WORDS,
    weighting_scale,
)
from ntm.lessons import links
from ntm.urlcheck import parse_colors

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "explorer_app.py")


def scale_of(trace) -> list:
    return [[float(t), c] for t, c in trace.colorscale]


# ------------------------------------------------------------------ the URL's value


@pytest.mark.parametrize(("given", "name"), [
    ("cividis", "cividis"), ("default", "default"), (" Cividis ", "cividis"), (["cividis"], "cividis"),
])
def test_a_good_value_is_used_without_a_notice(given, name):
    assert parse_colors(given) == (name, None)


@pytest.mark.parametrize("given", [None, [], ()])
def test_a_missing_value_is_the_default_without_a_notice(given):
    assert parse_colors(given) == ("default", None)


@pytest.mark.parametrize("given", ["neon", "", "<b>x</b>", "9" * 5000, "viridis"])
def test_a_garbage_value_is_refused_with_a_notice(given):
    name, notice = parse_colors(given)
    assert name == "default"
    assert notice.startswith("`colors=") and "is not one of default, cividis" in notice
    assert len(notice) < 200  # a long value is quoted briefly, inside backticks


def test_repeated_values_use_the_last_with_a_notice():
    name, notice = parse_colors(["default", "cividis"])
    assert name == "cividis"
    assert notice == "`colors` is given 2 times in the link; using the last value, `cividis`."
    assert parse_colors(["cividis", "neon"])[0] == "default"


def test_the_page_parsers_accept_the_app_wide_parameter():
    _, notices, _ = pg.parse_query({"colors": "cividis", "bogus": "1"})
    assert notices == ["unknown parameter `bogus` ignored."]
    state, notices = links.parse_query({"colors": "cividis"})
    assert state.colors == "cividis" and not notices


def test_weighting_scale_by_name():
    assert weighting_scale("cividis") is CIVIDIS_COLORSCALE
    assert weighting_scale("default") is WEIGHTING_COLORSCALE
    assert weighting_scale(None) is WEIGHTING_COLORSCALE
    assert weighting_scale("neon") is WEIGHTING_COLORSCALE


# ------------------------------------------------------------------ figure builders


def test_builders_take_a_colorscale_and_keep_the_default():
    w = np.array([0.1, 0.7, 0.2])
    assert scale_of(weighting_heatmap(w).data[0]) == WEIGHTING_COLORSCALE
    assert scale_of(weighting_heatmap(w, colorscale=CIVIDIS_COLORSCALE).data[0]) == CIVIDIS_COLORSCALE
    mem = np.eye(3)
    fig = write_figure(mem, mem, w, colorscale=CIVIDIS_COLORSCALE)
    assert scale_of(fig.data[0]) == CIVIDIS_COLORSCALE  # w
    assert all(scale_of(t) != CIVIDIS_COLORSCALE for t in fig.data[1:])  # memory: diverging
    rows = [{"length": 1, "repeats": 1, "bits_wrong_pct": 3.0}]
    assert scale_of(evaluation_heatmap(rows).data[0]) == ERRORS_COLORSCALE
    assert scale_of(evaluation_heatmap(rows, colorscale=CIVIDIS_COLORSCALE).data[0]) == CIVIDIS_COLORSCALE


def test_the_playground_figure_set_in_cividis():
    figs = build_figures(pg.compute(pg.Settings()), colorscale=CIVIDIS_COLORSCALE)
    for name in ("previous", "content", "gated", "shifted", "sharpened"):
        assert scale_of(figs[name].data[0]) == CIVIDIS_COLORSCALE
    assert scale_of(figs["write"].data[0]) == CIVIDIS_COLORSCALE
    assert scale_of(build_figures(pg.compute(pg.Settings()))["sharpened"].data[0]) == WEIGHTING_COLORSCALE


def test_the_panel_receives_the_scale_and_its_words():
    memory, key = np.eye(4), np.array([1.0, 0, 0, 0])
    data = panel_data(memory, key, StageControls(), colors="cividis")
    assert data["colorscale"] == CIVIDIS_COLORSCALE
    assert WEIGHTING_SCALE_WORDS["cividis"] in data["legend"]
    assert panel_data(memory, key, StageControls())["colorscale"] == WEIGHTING_COLORSCALE


def test_the_legend_says_what_the_colours_mean():
    html = colours.legend_html("cividis")
    assert WEIGHTING_SCALE_WORDS["cividis"] in html and "purple = negative" in html
    assert "#00224e 0.0%" in html and "#fee838 100.0%" in html  # the cividis swatch


# ------------------------------------------------------------------ the app, under AppTest


def app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def selector(at: AppTest):
    return next(w for w in at.get("button_group") if w.key == "colors")


def panel_scale(at: AppTest, key: str = "pg_panel") -> list:
    """The colour scale the in-browser addressing panel ``key`` was sent."""
    (mounted,) = [c for c in at.get("bidi_component") if c.proto.id.endswith(key)]
    return json.loads(mounted.proto.json)["colorscale"]


def chart_scale(at: AppTest, key: str) -> list:
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key))
    return [list(x) for x in json.loads(chart.proto.spec)["data"][0]["colorscale"]]


def test_the_link_sets_the_selector_and_a_garbage_value_gets_a_notice():
    at = app({"colors": "cividis"})
    assert selector(at).value == "cividis" and not at.warning
    assert at.query_params["colors"] == "cividis"
    bad = app({"colors": "neon"})
    assert selector(bad).value == "default"
    assert "`colors=neon` is not one of default, cividis" in bad.warning[0].value
    assert "colors" not in bad.query_params  # the link now says what the page shows


def test_switching_the_selector_recolours_the_page_and_survives_navigation():
    at = app()
    at.query_params.update({"step": "5"})
    at.switch_page("pages/lessons.py").run()
    lesson_panel = next(c.proto.id.rsplit("-", 1)[-1] for c in at.get("bidi_component")
                        if "colorscale" in json.loads(c.proto.json or "{}"))
    assert panel_scale(at, lesson_panel) == WEIGHTING_COLORSCALE  # the lesson's live stages
    selector(at).set_value("cividis").run()
    assert not at.exception, at.exception
    assert panel_scale(at, lesson_panel) == CIVIDIS_COLORSCALE
    assert at.query_params["colors"] == "cividis"
    at.query_params.clear()  # a click in the navigation opens the page with a bare URL
    at.switch_page("pages/playground.py").run()
    assert not at.exception, at.exception
    assert selector(at).value == "cividis" and not at.warning
    assert panel_scale(at) == CIVIDIS_COLORSCALE
    assert at.query_params["colors"] == "cividis"
    selector(at).set_value("default").run()
    assert panel_scale(at) == WEIGHTING_COLORSCALE
    assert "colors" not in at.query_params


def test_the_stepper_accepts_the_parameter(models_dir):
    at = AppTest.from_file(str(ROOT / "pages" / "stepper.py"), default_timeout=60)
    at.query_params.update({"colors": "cividis", "seed": "3"})
    at.run()
    assert not at.exception and not at.warning
