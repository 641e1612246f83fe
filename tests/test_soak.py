"""Soak test: 500 reruns of the Addressing playground under AppTest, each after setting every
control on the page to a random value (seeded, so a failure replays exactly): the widgets, and
the stage controls of the in-browser addressing panel as a release would (the session's
``pg_stage``). No run may raise, and every stage a student sees (computed from the data the page
sends the panel, as the panel computes it) must be finite and sum to 1.

About 0.12 s per rerun on the 2-core development machine (the whole page script, not only the
fragment, as AppTest runs it): about 60 s in all at load average 2-3, more on a busier machine;
marked ``slow``.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_playground_app import PAGE, STAGES, stages

from ntm import playground as pg
from ntm.app.addressing_panel import StageControls

pytestmark = pytest.mark.slow

RERUNS = 500
SEED = 20140101

#: How each kind of control picks a random value: sliders and grids over their whole range
#: (ends included), choices among their options.
_KINDS = ("slider", "select_slider", "number_input", "radio", "selectbox", "toggle")


def controls(at: AppTest) -> dict:
    """The playground's URL-bound controls now on the page, by key."""
    return {w.key: w for kind in _KINDS for w in getattr(at, kind) if w.key in pg.PARAMS}


def random_value(rng: random.Random, name: str, rows: int):
    p = pg.PARAMS[name]
    if p.kind == "choice":
        return rng.choice(p.choices)
    if p.kind == "bool":
        return rng.random() < 0.1
    if p.kind == "grid":
        return rng.choice(p.choices)
    hi = rows - 1 if p.rows else p.hi
    if p.kind == "int":
        if name == "steps":  # mostly small, sometimes the maximum
            return rng.choice([0, 0, 1, 2, 5, pg.MAX_STEPS])
        return rng.randint(int(p.lo), int(hi))
    edge = rng.random()
    if edge < 0.15:
        return float(p.lo)
    if edge < 0.3:
        return float(hi)
    return round(round(rng.uniform(p.lo, hi) / 0.05) * 0.05, 2)  # on the sliders' step


def test_500_random_reruns_stay_finite_and_normalised():
    rng = random.Random(SEED)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    buttons = [f"pg_scenario_{name}" for name in pg.SCENARIOS] + ["pg_reset", "pg_reseed"]
    sizes = set()
    for i in range(RERUNS):
        here = controls(at)
        rows_now = int(here["N"].value)
        if rng.random() < 0.05:  # now and then a button instead of the sliders
            at.button(key=rng.choice(buttons)).click()
        else:
            new_rows = random_value(rng, "N", rows_now) if rng.random() < 0.2 else rows_now
            chosen = {"N": new_rows}
            for name in here:
                if name != "N":
                    # a row index must fit both the old and the new N in this one run
                    chosen[name] = random_value(rng, name, min(rows_now, new_rows))
            for name, value in chosen.items():
                here[name].set_value(value)
            # the stage controls, as the panel reports them on release
            stage = {name: random_value(rng, name, min(rows_now, new_rows))
                     for name in pg.STAGE_PARAMS}
            at.session_state["pg_stage"] = StageControls.from_values(stage)
        at.run()
        assert not at.exception, (i, at.exception)
        shown = stages(at)
        assert set(shown) == set(STAGES), i
        rows = int(controls(at)["N"].value)
        sizes.add(rows)
        for name, w in shown.items():
            assert w.shape == (rows,), (i, name)
            assert np.isfinite(w).all(), (i, name, w)
            assert w.min() >= 0.0, (i, name)
            assert w.sum() == pytest.approx(1.0, abs=1e-5), (i, name, w.sum())
    assert len(sizes) > 5  # the memory size really varied
