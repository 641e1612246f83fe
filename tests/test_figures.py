"""Figure builders (ntm.figures): data in, go.Figure out, the values drawn are the values given.

No Streamlit here: the builders are pure functions. The stage panels are checked against
ntm.addressing called directly with the same inputs.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from ntm import addressing
from ntm import memory as memory_ops
from ntm import playground as pg
from ntm.figures import addressing as figures
from ntm.figures import episode as episode_figures
from ntm.figures import evaluation as evaluation_figures
from ntm.figures.playground import build_figures
from ntm.figures.style import offset_labels


def z_of(trace) -> np.ndarray:
    return np.asarray(trace.z, dtype=np.float64)


def test_figures_and_playground_never_import_streamlit():
    code = "import sys, ntm.figures, ntm.playground; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- weighting_heatmap ----------------------------------------------------------------------


def test_weighting_vector_is_one_column_with_fixed_scale_and_rows_down():
    w = np.array([0.1, 0.6, 0.3, 0.0])
    fig = figures.weighting_heatmap(w, name="w")
    assert isinstance(fig, go.Figure)
    (heat,) = fig.data
    np.testing.assert_array_equal(z_of(heat), w[:, None])
    assert (heat.zmin, heat.zmax) == (0.0, 1.0)
    assert list(heat.y) == [0, 1, 2, 3]
    assert fig.layout.yaxis.title.text == "memory location"
    assert fig.layout.yaxis.autorange == "reversed"  # row 0 on top: +1 shifts move down
    assert "%{z:.4g}" in heat.hovertemplate  # exact value on hover


def test_weighting_argmax_is_outlined():
    fig = figures.weighting_heatmap(torch.tensor([0.1, 0.2, 0.7]))
    (shape,) = fig.layout.shapes
    assert (shape.y0, shape.y1) == (1.5, 2.5)
    assert not figures.weighting_heatmap([0.5, 0.5], mark_argmax=False).layout.shapes


def test_weighting_matrix_puts_time_on_x_and_marks_every_step():
    w = np.eye(5)[[0, 1, 2]]  # (T=3, N=5): focus moves one row down per step
    fig = figures.weighting_heatmap(w, x_title="time step")
    (heat,) = fig.data
    np.testing.assert_array_equal(z_of(heat), w.T)
    assert list(heat.x) == [0, 1, 2]
    assert [s.y0 + 0.5 for s in fig.layout.shapes] == [0, 1, 2]
    assert fig.layout.xaxis.title.text == "time step"


def test_weighting_values_are_written_only_while_readable():
    small = figures.weighting_heatmap(np.full(16, 1 / 16))
    assert small.data[0].texttemplate == "%{text}"
    large = figures.weighting_heatmap(np.full(128, 1 / 128))
    assert large.data[0].texttemplate is None


def test_weighting_colour_bar_positions():
    bottom = figures.weighting_heatmap([1.0, 0.0], showscale=True, colorbar_position="bottom")
    assert bottom.data[0].colorbar.orientation == "h"
    right = figures.weighting_heatmap([1.0, 0.0], showscale=True)
    assert right.data[0].colorbar.orientation in (None, "v")


def test_weighting_rejects_other_shapes():
    with pytest.raises(ValueError, match="weighting must be"):
        figures.weighting_heatmap(np.zeros((2, 3, 4)))


# -- memory, kernel, read, write ------------------------------------------------------------


def test_memory_heatmap_shows_memory_key_and_similarity():
    gen = torch.Generator().manual_seed(0)
    mem, key = torch.rand(8, 4, generator=gen), torch.rand(4, generator=gen)
    sim = addressing.similarity(mem[None], key[None])[0]
    fig = figures.memory_heatmap(mem, key=key, similarity=sim, mark_rows=[3])
    heat, strip, bars = fig.data
    np.testing.assert_allclose(z_of(heat), mem.numpy())
    np.testing.assert_allclose(z_of(strip)[0], key.numpy())
    np.testing.assert_allclose(np.asarray(bars.x), sim.numpy())
    assert heat.zmin == -heat.zmax  # diverging scale centred on 0
    assert any(s.y0 == 2.5 and s.y1 == 3.5 for s in fig.layout.shapes)


def test_memory_heatmap_row_and_column_labels():
    fig = figures.memory_heatmap(
        np.zeros((3, 2)), row_labels=["a", "b", "c"], column_labels=["x", "y"]
    )
    assert list(fig.layout.yaxis.ticktext) == ["0 a", "1 b", "2 c"]
    assert list(fig.data[0].x) == ["x", "y"]


def test_kernel_bar_labels_offsets_minus_r_to_plus_r():
    s = np.array([0.3, 0.5, 0.2])
    fig = figures.kernel_bar(s)
    np.testing.assert_allclose(np.asarray(fig.data[0].y), s)
    assert list(fig.data[0].x) == ["−1", "0", "+1"]
    assert offset_labels(3) == ["−3", "−2", "−1", "0", "+1", "+2", "+3"]


def test_read_figure_shows_the_top_rows_and_the_read_vector():
    mem = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5]])
    w = torch.tensor([0.1, 0.6, 0.3, 0.0])
    r = memory_ops.read(mem[None], w[None])[0]
    fig = figures.read_figure(mem, w, r, top=2)
    heat, bars = fig.data
    np.testing.assert_allclose(z_of(heat), mem.numpy()[[1, 2]])
    assert list(heat.y) == ["row 1 · w=0.60", "row 2 · w=0.30"]
    np.testing.assert_allclose(np.asarray(bars.y), r.numpy(), rtol=1e-6)


def test_write_figure_before_after_and_change():
    gen = torch.Generator().manual_seed(1)
    mem = torch.rand(6, 3, generator=gen)
    w = torch.softmax(torch.rand(6, generator=gen), 0)
    after = memory_ops.write(mem[None], w[None], torch.ones(1, 3), torch.full((1, 3), 0.5))[0]
    fig = figures.write_figure(mem, after, w)
    wt, before, aft, delta = fig.data
    np.testing.assert_allclose(z_of(wt)[:, 0], w.numpy(), rtol=1e-6)
    np.testing.assert_allclose(z_of(before), mem.numpy(), rtol=1e-6)
    np.testing.assert_allclose(z_of(aft), after.numpy(), rtol=1e-6)
    np.testing.assert_allclose(z_of(delta), (after - mem).numpy(), rtol=1e-5, atol=1e-7)
    assert (wt.zmin, wt.zmax) == (0, 1)


# -- the playground's figures equal the addressing functions' output ------------------------


@pytest.mark.parametrize("scenario", sorted(pg.SCENARIOS))
def test_playground_stage_figures_equal_addressing_output(scenario):
    settings = pg.SCENARIOS[scenario].settings().updated(steps=2 if scenario == "keep_shift" else 0)
    figs = build_figures(pg.compute(settings))

    mem = pg.build_memory(settings)[None]
    key = pg.build_key(settings, mem[0])[None]
    head = pg.head_tensors(settings)
    prev = pg.start_weighting(settings)[None]
    for _ in range(settings["steps"]):
        prev = addressing.address(
            mem, key, head["beta"], head["gate"], head["kernel"], head["gamma"], prev
        ).sharpened
    stages = addressing.address(
        mem, key, head["beta"], head["gate"], head["kernel"], head["gamma"], prev
    )
    expected = {
        "previous": prev,
        "content": stages.content,
        "gated": stages.gated,
        "shifted": stages.shifted,
        "sharpened": stages.sharpened,
    }
    for name, w in expected.items():
        drawn = z_of(figs[name].data[0])[:, 0]
        np.testing.assert_allclose(drawn, w[0].numpy(), rtol=1e-6, atol=1e-12, err_msg=name)
        assert figs[name].data[0].zmin == 0 and figs[name].data[0].zmax == 1

    np.testing.assert_allclose(z_of(figs["memory"].data[0]), mem[0].numpy())
    np.testing.assert_allclose(
        np.asarray(figs["memory"].data[2].x), addressing.similarity(mem, key)[0].numpy(), rtol=1e-6
    )
    np.testing.assert_allclose(np.asarray(figs["kernel"].data[0].y), head["kernel"][0].numpy())
    read = memory_ops.read(mem, stages.sharpened)[0]
    np.testing.assert_allclose(
        np.asarray(figs["read"].data[1].y), read.numpy(), rtol=1e-5, atol=1e-7
    )


def test_playground_figures_at_128_rows():
    figs = build_figures(pg.compute(pg.Settings().updated(N=128, R=3)))
    assert z_of(figs["sharpened"].data[0]).shape == (128, 1)
    assert z_of(figs["memory"].data[0]).shape == (128, 6)
    assert len(figs["kernel"].data[0].y) == 7


# -- colours are colours ---------------------------------------------------------------------


def numeric_colours(spec, path=""):
    """Paths of every ``...color`` attribute holding numbers: Plotly.js reads those as CSS
    colours in places (a bar's text contrast) and logs "Invalid color specifier" for each."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            here = f"{path}.{key}"
            if key.endswith("color") and np.asarray(value, dtype=object).size and not all(
                isinstance(v, str) for v in np.asarray(value, dtype=object).ravel()
            ):
                yield here
            else:
                yield from numeric_colours(value, here)
    elif isinstance(spec, list | tuple):
        for i, value in enumerate(spec):
            yield from numeric_colours(value, f"{path}[{i}]")


def every_figure():
    for name in sorted(pg.SCENARIOS):
        yield from build_figures(pg.compute(pg.SCENARIOS[name].settings())).items()
    g = np.random.default_rng(0)
    w = g.dirichlet(np.ones(12), size=6)
    yield "episode_grid", episode_figures.episode_grid(g.random((6, 9)), g.random((6, 9)),
                                                       g.normal(size=(6, 4)), g.normal(size=(6, 4)),
                                                       w, w, cursor=2)
    yield "target_output", episode_figures.target_output(g.random((6, 8)), g.random((6, 8)),
                                                         g.random((6, 8)) > 0.8)
    yield "stage_panel", episode_figures.stage_panel(*w[:5], rows=[0, 1, 2])
    yield "vector_bars", episode_figures.vector_bars(g.normal(size=4), title="k")
    yield "memory_change", episode_figures.memory_change(g.normal(size=(12, 4)),
                                                         g.normal(size=(12, 4)), mark_rows=[1])
    yield "error_curve", evaluation_figures.error_curve({"NTM": [{"length": 5, "bit_errors": 1}]})
    yield "evaluation_heatmap", evaluation_figures.evaluation_heatmap(
        [{"length": 2, "repeats": 3, "bits_wrong_pct": 4.0}], train_max=(2, 3))


def test_no_figure_hands_plotly_numbers_for_colours():
    for name, fig in every_figure():
        assert not list(numeric_colours(fig.to_plotly_json())), name
