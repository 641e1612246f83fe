"""The playground's pure state module (ntm.playground): URL parsing, presets, scenarios, compute."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntm import playground as pg

# -- URL query parameters -------------------------------------------------------------------


def test_empty_query_gives_defaults_and_no_notice():
    s, notices, given_ = pg.parse_query({})
    assert s == pg.Settings()
    assert notices == [] and given_ == set()
    assert pg.to_query(s) == {}


def test_valid_query_values_are_used():
    s, notices, given_ = pg.parse_query(
        {
            "beta": "50",
            "g": "0",
            "R": "2",
            "s_p2": "1",
            "gamma": "1.5",
            "mem": "boba",
            "classroom": "true",
            "prev": "uniform",
            "N": "32",
            "krow": "31",
        }
    )
    assert notices == []
    assert (s["beta"], s["g"], s["R"], s["s_p2"], s["gamma"]) == (50.0, 0.0, 2, 1.0, 1.5)
    assert (s["mem"], s["classroom"], s["prev"], s["N"], s["krow"]) == (
        "boba",
        True,
        "uniform",
        32,
        31,
    )
    assert given_ == {"beta", "g", "R", "s_p2", "gamma", "mem", "classroom", "prev", "N", "krow"}


@pytest.mark.parametrize(
    ("query", "name", "value", "words"),
    [
        ({"beta": "abc"}, "beta", 10.0, "not a number"),
        ({"gamma": "-5"}, "gamma", 1.0, "below the minimum"),
        ({"N": "100000"}, "N", 128, "above the maximum"),
        ({"N": "3"}, "N", 8, "below the minimum"),
        ({"beta": "-1"}, "beta", 0.0, "below the minimum"),
        ({"beta": "1e9"}, "beta", 100.0, "above the maximum"),
        ({"g": "nan"}, "g", 0.8, "not a number"),
        ({"g": "inf"}, "g", 0.8, "not a number"),
        ({"seed": "2.5"}, "seed", 2, "whole number"),
        ({"mem": "lava"}, "mem", "random", "not one of"),
        ({"classroom": "maybe"}, "classroom", False, "true or false"),
        ({"krow": "40"}, "krow", 15, "the last row"),
        ({"N": "8", "prow": "9"}, "prow", 7, "the last row"),
    ],
)
def test_bad_query_values_are_clamped_or_ignored_with_a_notice(query, name, value, words):
    s, notices, _ = pg.parse_query(query)
    assert s[name] == value
    assert len(notices) == 1 and words in notices[0]
    assert f"`{name}=" in notices[0]


def test_beta_and_gamma_are_continuous():
    """The panel's β and γ sliders are continuous: any value in range is used as given."""
    s, notices, _ = pg.parse_query({"beta": "8", "gamma": "3.3"})
    assert notices == [] and (s["beta"], s["gamma"]) == (8.0, 3.3)
    assert pg.to_query(s) == {"beta": "8", "gamma": "3.3"}


def test_garbage_from_the_issue_gives_three_notices_and_valid_settings():
    s, notices, _ = pg.parse_query({"beta": "abc", "gamma": "-5", "N": "100000"})
    assert len(notices) == 3
    assert (s["beta"], s["gamma"], s["N"]) == (10.0, 1.0, 128)
    pg.compute(s)  # and it runs


def test_unknown_and_repeated_parameters():
    s, notices, _ = pg.parse_query({"betta": "5", "embed": "true", "g": ["0.1", "0.3"]})
    assert notices == [
        "`g` is given 2 times in the link; using the last value.",
        "unknown parameter `betta` ignored.",
    ]
    assert s["g"] == 0.3  # the last of a repeated parameter


def test_cell_parameters_edit_the_memory():
    s, notices, _ = pg.parse_query(
        {"cell_2_1": "0.5", "cell_99_0": "1", "cell_0_0": "x", "cell_1_1": "50"}
    )
    assert dict(s.cells) == {(2, 1): 0.5, (1, 1): pg.CELL_LIMIT}
    assert len(notices) == 3
    mem = pg.build_memory(s)
    assert mem[2, 1] == 0.5 and mem[1, 1] == pg.CELL_LIMIT
    assert pg.cell_query(s) == {"cell_1_1": "10", "cell_2_1": "0.5"}


def test_a_cell_index_too_long_for_int_gives_a_notice_not_a_crash():
    # Python's int() refuses more than 4300 digits; such a row is outside the memory anyway.
    s, notices, _ = pg.parse_query({f"cell_{'9' * 5000}_0": "1", f"cell_0_{'1' * 5000}": "1"})
    assert s.cells == ()
    assert len(notices) == 2
    assert all("outside the 16 × 6 memory" in n and len(n) < 200 for n in notices)


def test_data_editor_edits_are_merged_and_clamped():
    cells = pg.merge_cell_edits(
        {(0, 0): 1.0},
        {2: {"b": 0.5, "c": None}, "3": {"a": "nan", "b": 99}, 0: {"zz": 1}},
        ["a", "b", "c"],
    )
    assert cells == {(0, 0): 1.0, (2, 1): 0.5, (3, 1): pg.CELL_LIMIT}


@pytest.mark.parametrize("name", sorted(pg.SCENARIOS))
def test_query_round_trip_reproduces_each_scenario(name):
    s = pg.SCENARIOS[name].settings().with_cells({(0, 0): -0.25})
    parsed, notices, _ = pg.parse_query(pg.to_query(s))
    assert notices == []
    assert pg.widget_values(parsed) == pg.widget_values(s)
    assert parsed.cells == s.cells


def test_active_widgets_follow_the_mode_and_sizes():
    s = pg.Settings()
    assert "k0" not in pg.widget_values(s) and "s_p2" not in pg.widget_values(s)
    s = s.updated(kmode="custom", M=3, R=2)
    values = pg.widget_values(s)
    assert {"k0", "k1", "k2", "s_m2", "s_p2"} <= values.keys() and "k3" not in values


# -- inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(pg.MEMORY_PRESETS))
@pytest.mark.parametrize(("rows", "width"), [(8, 2), (16, 6), (128, 12)])
def test_memory_presets_have_the_asked_shape_and_are_seeded(preset, rows, width):
    a = pg.preset_memory(preset, rows, width, seed=3)
    assert a.shape == (rows, width) and torch.isfinite(a).all()
    assert torch.equal(a, pg.preset_memory(preset, rows, width, seed=3))


def test_preset_details():
    onehot = pg.preset_memory("onehot", 8, 3, 0)
    assert torch.equal(onehot[4], torch.tensor([0.0, 1.0, 0.0]))
    near = pg.preset_memory("near", 16, 6, 0)
    sim = torch.nn.functional.cosine_similarity(near[3:4], near, dim=-1)
    assert sorted(sim.argsort(descending=True)[:3].tolist()) == [3, 4, 5]
    grad = pg.preset_memory("gradient", 16, 6, 0)
    sims = torch.nn.functional.cosine_similarity(grad[0:1], grad, dim=-1)
    assert sims[1] > sims[2] > sims[3]  # similarity falls smoothly with distance
    random = pg.preset_memory("random", 16, 6, 0)
    assert not torch.equal(random, pg.preset_memory("random", 16, 6, 1))


def test_key_modes():
    s = pg.Settings().updated(noise=0.0, krow=4)
    mem = pg.build_memory(s)
    assert torch.equal(pg.build_key(s, mem), mem[4])
    s = s.updated(kmode="blend", krow2=6, kmix=0.25)
    torch.testing.assert_close(pg.build_key(s, mem), 0.75 * mem[4] + 0.25 * mem[6])
    s = s.updated(kmode="custom", k0=0.5, k5=-1.0)
    assert pg.build_key(s, mem).tolist() == [0.5, 0.0, 0.0, 0.0, 0.0, -1.0]


def test_kernel_is_normalised_and_all_zero_means_identity():
    s = pg.Settings().updated(R=1, s_m1=0.3, s_0=0.5, s_p1=0.2)
    torch.testing.assert_close(pg.build_kernel(s), torch.tensor([0.3, 0.5, 0.2]))
    s = s.updated(s_m1=0.0, s_0=0.0, s_p1=0.0)
    assert pg.build_kernel(s).tolist() == [0.0, 1.0, 0.0]


def test_previous_weighting_and_steps():
    s = pg.Settings().updated(prev="onehot", prow=3, steps=0)
    assert pg.compute(s).previous.tolist() == [1.0 if i == 3 else 0.0 for i in range(16)]
    assert np.allclose(pg.compute(s.updated(prev="uniform")).previous, 1 / 16)
    # "apply again": w_{t-1} at step t is the w of step t - 1
    np.testing.assert_allclose(
        pg.compute(s.updated(steps=1)).previous, pg.compute(s).sharpened, rtol=1e-6
    )
    np.testing.assert_allclose(
        pg.compute(s.updated(steps=3)).previous, pg.compute(s.updated(steps=2)).sharpened, rtol=1e-6
    )


# -- scenarios ------------------------------------------------------------------------------


def test_scenarios_set_documented_values_and_keep_the_rest_at_defaults():
    for scenario in pg.SCENARIOS.values():
        s = scenario.settings(classroom=True)
        assert s["classroom"] is True
        for name, value in scenario.changes.items():
            assert s[name] == value, (scenario.title, name)
        untouched = set(pg.DEFAULTS) - set(scenario.changes) - {"classroom"}
        for name in untouched:
            if not name.startswith("s_"):
                assert s[name] == pg.DEFAULTS[name], (scenario.title, name)


def argmax(w) -> int:
    return int(np.argmax(w))


def test_scenario_outcomes():
    r = pg.compute(pg.SCENARIOS["lookup"].settings())
    assert argmax(r.sharpened) == 5 and np.allclose(r.sharpened, r.content)

    r = pg.compute(pg.SCENARIOS["next_row"].settings())
    assert argmax(r.content) == 5 and argmax(r.sharpened) == 6  # +1 moves one row down

    s = pg.SCENARIOS["keep_shift"].settings()
    r = pg.compute(s)
    assert argmax(r.gated) == 2 and argmax(r.sharpened) == 3
    assert argmax(pg.compute(s.updated(steps=4)).sharpened) == 7  # walks one row per step

    r = pg.compute(pg.SCENARIOS["blur_sharpen"].settings())
    assert r.shifted.max() < 0.3 < 0.8 < r.sharpened.max()
    assert argmax(r.shifted) == argmax(r.sharpened) == 5

    r = pg.compute(pg.SCENARIOS["blog_kernel"].settings())
    np.testing.assert_allclose(r.kernel, [0.3, 0.5, 0.2], rtol=1e-6)
    np.testing.assert_allclose(
        r.shifted[4:7],
        0.3 * r.content[5] * np.array([1, 0, 0])
        + 0.5 * r.content[5] * np.array([0, 1, 0])
        + 0.2 * r.content[5] * np.array([0, 0, 1]),
        atol=0.02,
    )

    s = pg.SCENARIOS["tie"].settings()
    sharp, flat = pg.compute(s).content, pg.compute(s.updated(beta=5.0)).content
    assert argmax(sharp) == 3 and sharp[3] > 0.9
    assert flat[[3, 4, 5]].max() / flat[[3, 4, 5]].min() < 1.5  # nearly tied at small beta

    r = pg.compute(pg.SCENARIOS["boba"].settings())
    top2 = set(np.argsort(-r.sharpened)[:2].tolist())
    assert top2 == {pg.TEA_ROW, pg.MILK_ROW} and r.sharpened[[1, 2]].sum() > 0.9
    assert pg.row_labels(pg.SCENARIOS["boba"].settings())[1:3] == ["tea", "milk"]


def test_readouts_describe_the_shift():
    lookup = pg.readouts(pg.compute(pg.SCENARIOS["lookup"].settings()))
    assert "leaves the focus" in lookup["shifted"]
    nxt = pg.readouts(pg.compute(pg.SCENARIOS["next_row"].settings()))
    assert "1 row down" in nxt["shifted"]
    blur = pg.readouts(pg.compute(pg.SCENARIOS["blur_sharpen"].settings()))
    assert "7 offsets" in blur["shifted"]


# -- every state computes, finite, each stage a distribution -------------------------------

_settings = st.fixed_dictionaries(
    {
        "N": st.integers(pg.MIN_ROWS, pg.MAX_ROWS),
        "M": st.integers(pg.MIN_WIDTH, pg.MAX_WIDTH),
        "mem": st.sampled_from(sorted(pg.MEMORY_PRESETS)),
        "seed": st.integers(0, 9999),
        "kmode": st.sampled_from(sorted(pg.KEY_MODES)),
        "krow": st.integers(0, 127),
        "noise": st.floats(0, 1),
        "beta": st.sampled_from(pg.BETA_VALUES),
        "g": st.floats(0, 1),
        "R": st.integers(1, 3),
        "s_m3": st.floats(0, 1),
        "s_0": st.floats(0, 1),
        "s_p2": st.floats(0, 1),
        "gamma": st.sampled_from(pg.GAMMA_VALUES),
        "prev": st.sampled_from(sorted(pg.PREVIOUS_MODES)),
        "steps": st.integers(0, 5),
        "k0": st.floats(-1, 1),
        "add": st.sampled_from(sorted(pg.ADD_PRESETS)),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_settings)
def test_every_state_computes_finite_distributions(values):
    r = pg.compute(pg.Settings().updated(**values))
    for name, w in r.stages.items():
        assert np.isfinite(w).all(), name
        assert (w >= 0).all(), name
        assert abs(w.sum() - 1) < 1e-5, name
    assert np.isfinite(r.read).all() and np.isfinite(r.written).all()
    assert r.memory.shape == (values["N"], values["M"])
