"""Strange links: every URL parameter of every page with garbage, out-of-range, NaN, ±inf, huge
and repeated values. The page must render with no exception, show a notice naming the value it
could not use, and show (and put back in the address bar) values it can use.

Pages with URL state: the playground (every parameter ``ntm.playground`` parses, by hand), the
stepper (``model, device, input, seed, length, repeats, items, t``, bound widgets) and the
generalisation page (``gseed``, a bound widget). The bound widgets' URL values are checked by
``urlcheck.check_query`` before Streamlit's own binding reads them (``seed=inf`` used to
raise inside Streamlit's ``int(inf)``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_playground_app import STAGES, stage_controls, stages, widget

from ntm import playground as pg
from ntm import urlcheck
from ntm.app.trace_player import COMPONENT_NAME
from ntm.stepper.player import unpack

PAGES = Path(__file__).resolve().parents[1] / "pages"

#: One bad value per kind; "repeated" is handled separately (a list in the query).
BAD = {
    "garbage": "abc",
    "markup": "<script>alert(1)</script>",
    "empty": "",
    "negative": "-50000",
    "out of range": "10000000",
    "nan": "nan",
    "inf": "inf",
    "-inf": "-inf",
    "huge float": "1e308",
    "overflow float": "1e400",
    "huge int": str(10**30),
    "long": "9" * 2000,
}
REPEATED = {"both bad": ["abc", "inf"], "bad then good": ["inf", "3"], "good twice": ["2", "3"]}


def names_in(notices: list[str], name: str) -> bool:
    """Whether some notice quotes parameter ``name`` (``name=…`` or ``name`` in backticks)."""
    pattern = re.compile(rf"`{re.escape(name)}[=`]")
    return any(pattern.search(n) for n in notices)


def run_page(page: str, query: dict, timeout: float = 60, **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=timeout)
    for key, value in state.items():
        at.session_state[key] = value
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def warnings(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning)


# ------------------------------------------------------------------ playground: the parser

PLAYGROUND_PARAMS = [*pg.PARAMS, "cell_0_0"]


@pytest.mark.parametrize("name", PLAYGROUND_PARAMS)
@pytest.mark.parametrize("kind", [*BAD, *REPEATED])
def test_playground_parser_notices_every_bad_value(name, kind):
    value = REPEATED.get(kind, BAD.get(kind))
    settings, notices, _ = pg.parse_query({name: value})
    assert names_in(notices, name), (name, value, notices)
    if kind in REPEATED:  # even when the last value is usable, the link is ambiguous
        assert f"`{name}` is given 2 times in the link; using the last value." in notices
    assert settings == pg.clamp(settings)  # every value in its range
    for v in settings.values.values():
        if isinstance(v, float):
            assert math.isfinite(v)
    for _, v in settings.cells:
        assert math.isfinite(v) and abs(v) <= pg.CELL_LIMIT
    result = pg.compute(settings)
    for w in result.stages.values():
        assert np.isfinite(w).all() and w.sum() == pytest.approx(1.0, abs=1e-5)


def test_playground_parser_unknown_and_foreign_cells():
    _, notices, _ = pg.parse_query({"cell_999_0": "1", "cell_0_999": "1", "bogus": "1",
                                    "cell_-1_0": "1", "embed": "true"})
    assert names_in(notices, "cell_999_0") and names_in(notices, "cell_0_999")
    assert any("bogus" in n for n in notices) and any("cell_-1_0" in n for n in notices)
    assert not any("embed" in n for n in notices)  # Streamlit's own parameter


# ------------------------------------------------------------------ playground: the page


def _playground_query(value) -> dict:
    return {name: value for name in PLAYGROUND_PARAMS} | {"cell_999_999": value}


def _check_playground(at: AppTest, expect_notices_for: list[str]) -> None:
    text = warnings(at)
    assert text.startswith("Some values in the link could not be used")
    for name in expect_notices_for:
        assert names_in([text], name), (name, text)
    shown = stages(at)
    assert set(shown) == set(STAGES)
    for name, w in shown.items():
        assert np.isfinite(w).all(), name
        assert w.sum() == pytest.approx(1.0, abs=1e-5), name
    # the address bar now holds only usable values: it reopens what is shown, with no notice
    again = run_page("playground.py", dict(at.query_params))
    assert not again.warning
    for name, w in stages(again).items():
        np.testing.assert_allclose(w, shown[name], rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("kind", list(BAD))
def test_playground_page_with_every_parameter_bad(kind):
    query = _playground_query(BAD[kind])
    at = run_page("playground.py", query)
    settings, notices, _ = pg.parse_query(query)
    _check_playground(at, PLAYGROUND_PARAMS)
    assert stage_controls(at).beta == settings["beta"]  # the panel's control, as parsed
    assert widget(at, "N").value == settings.rows


@pytest.mark.parametrize("mode", ["custom", "blend"])
def test_playground_page_bad_values_in_every_key_mode(mode):
    """The custom key's components and the blend's second row only have widgets in their mode."""
    query = _playground_query("inf") | {"kmode": mode, "M": "12"}
    at = run_page("playground.py", query)
    _check_playground(at, [n for n in PLAYGROUND_PARAMS if n not in ("kmode", "M")])
    if mode == "custom":
        assert [widget(at, pg.key_param(c)).value for c in range(12)] == [0.0] * 12
    else:
        assert widget(at, "krow2").value == pg.DEFAULTS["krow2"]


@pytest.mark.parametrize("kind", list(REPEATED))
def test_playground_page_with_every_parameter_repeated(kind):
    at = run_page("playground.py", _playground_query(REPEATED[kind]))
    _check_playground(at, PLAYGROUND_PARAMS)
    assert "times in the link" in warnings(at)


def test_playground_repeated_good_value_uses_the_last():
    at = run_page("playground.py", {"beta": ["5", "50"], "g": ["0.1", "0.3"]})
    assert stage_controls(at).beta == 50.0 and stage_controls(at).g == 0.3
    assert "`beta` is given 2 times" in warnings(at)


# ------------------------------------------------------------------ stepper

STEPPER_PARAMS = ["model", "device", "input", "seed", "length", "repeats", "items", "t"]
STEPPER_DEFAULTS = {"seed": 1, "length": 20}  # with the tiny copy model of tests/conftest.py


def player_header(at: AppTest) -> dict:
    """The header of the trace player's payload: what the browser opens with."""
    (mounted,) = [e for e in at.get("bidi_component") if e.proto.component_name == COMPONENT_NAME]
    return unpack(mounted.proto.bytes)[0]


def heading(at: AppTest) -> str:
    """The player's heading at the step it opens at."""
    header = player_header(at)
    return f"#### t = {header['start']} of {header['steps'] - 1}"


def _check_stepper(at: AppTest, names: list[str]) -> None:
    text = warnings(at)
    for name in names:
        assert names_in([text], name), (name, text)
    assert heading(at).startswith("#### t = 0 of 40")  # defaults: length 20, cursor at 0
    assert at.number_input(key="seed").value == STEPPER_DEFAULTS["seed"]
    assert at.number_input(key="length").value == STEPPER_DEFAULTS["length"]
    assert at.selectbox(key="model").value == "copy"
    assert len(player_header(at)["figures"]) >= 8
    # the unusable values are gone from the link, so it reopens what is shown
    assert not set(at.query_params) & set(STEPPER_PARAMS), at.query_params


@pytest.mark.parametrize("kind", list(BAD))
def test_stepper_with_every_parameter_bad(models_dir, kind):
    at = run_page("stepper.py", dict.fromkeys(STEPPER_PARAMS, BAD[kind]))
    _check_stepper(at, STEPPER_PARAMS)


@pytest.mark.parametrize("name", ["seed", "length", "t", "repeats", "items"])
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e308", str(10**30), "2.5"])
def test_stepper_each_number_alone(models_dir, name, value):
    """``seed=inf`` alone used to raise inside Streamlit's number input."""
    at = run_page("stepper.py", {name: value})
    _check_stepper(at, [name])
    assert len(at.warning) == 1


@pytest.mark.parametrize("kind", ["both bad", "bad then good"])
def test_stepper_with_every_parameter_repeated(models_dir, kind):
    at = run_page("stepper.py", dict.fromkeys(STEPPER_PARAMS, REPEATED[kind]))
    text = warnings(at)
    for name in STEPPER_PARAMS:
        assert names_in([text], name), (name, text)
    assert heading(at).startswith("#### t = ")


def test_stepper_repeated_good_values_use_the_last(models_dir):
    at = run_page("stepper.py", {"seed": ["4", "7"], "length": ["3", "5"], "t": ["1", "2"]})
    assert at.number_input(key="seed").value == 7
    assert at.number_input(key="length").value == 5
    assert heading(at).startswith("#### t = 2 of 10")
    text = warnings(at)
    assert "`seed` is given 2 times" in text and "`length` is given 2 times" in text
    assert at.query_params == {"seed": "7", "length": "5", "t": "2"}


def test_stepper_usable_values_give_no_notice(models_dir):
    at = run_page("stepper.py", {"seed": "7", "length": "5", "t": "3", "model": "copy"})
    assert not at.warning
    assert heading(at).startswith("#### t = 3 of 10")


@pytest.mark.parametrize(
    ("query", "fixes"),
    [
        ({"seed": "inf"}, {"seed": None}),
        ({"seed": ["1", "2"]}, {"seed": "2"}),
        ({"seed": ["1", "x"]}, {"seed": None}),
        ({"model": ["x", "copy"]}, {"model": "copy"}),
        ({"seed": "12", "model": "copy"}, {}),
        ({"other": "inf"}, {}),
    ],
)
def test_check_query_fixes(query, fixes):
    notices, got = urlcheck.check_query(query, {"seed": (0, 10**6)}, {"model": ["copy"]})
    assert got == fixes
    assert len(notices) == len(fixes)


def test_check_query_quotes_long_values_briefly():
    (notice,) = urlcheck.query_notices({"seed": "9" * 5000}, {"seed": (0, 10)}, {})
    assert len(notice) < 200


# ------------------------------------------------------------------ generalisation

FAST = {"glengths": [10]}  # one length keeps each run short; the URL check runs first anyway


@pytest.mark.parametrize("kind", [*BAD, *REPEATED])
def test_generalisation_seed(models_dir, kind):
    value = REPEATED.get(kind, BAD.get(kind))
    at = run_page("generalisation.py", {"gseed": value}, timeout=120, **FAST)
    text = warnings(at)
    if kind == "good twice":
        assert "`gseed` is given 2 times" in text
        assert at.number_input(key="gseed").value == 3
        assert at.query_params == {"gseed": "3"}
    else:
        assert names_in([text], "gseed"), text
        assert at.number_input(key="gseed").value == (3 if kind == "bad then good" else 1)
    assert at.title[0].value == "Generalisation"
    assert len(at.get("plotly_chart")) >= 1


def test_generalisation_usable_seed_gives_no_notice(models_dir):
    at = run_page("generalisation.py", {"gseed": "42"}, timeout=120, **FAST)
    assert not at.warning
    assert at.number_input(key="gseed").value == 42
