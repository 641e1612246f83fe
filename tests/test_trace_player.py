"""The trace player's payload (``ntm.stepper.player``) and its Streamlit wrapper
(``ntm.app.trace_player``). The browser side is in ``tests/browser/test_browser_trace_player.py``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ntm import catalogue
from ntm.app import plotly_js
from ntm.app import trace_player as tp
from ntm.evaluate import task_of
from ntm.figures import episode as episode_figures
from ntm.figures.style import CIVIDIS_COLORSCALE, MEMORY_COLORSCALE
from ntm.stepper import episode, player
from ntm.stepper.playback import DEFAULT_SPEED, SPEEDS

MB = 1_000_000


@pytest.fixture(scope="module")
def copy_model():
    return catalogue.load_ntm(catalogue.MODELS_DIR / "copy.pt")


@pytest.fixture(scope="module")
def ep20(copy_model):
    task = task_of(copy_model)
    return episode.run_episode(copy_model, task, episode.random_batch(task, 3, length=20))


def refs(node) -> list[str]:
    """Every array a figure refers to."""
    if isinstance(node, dict):
        if "$array" in node:
            return [node["$array"]]
        return [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_pack_round_trips_and_aligns_every_array():
    arrays = {"a": np.arange(5, dtype=np.float32), "b": np.array([[1, -2], [3, 4]], np.int16),
              "c": np.array([1, 0, 1], np.uint8), "d": np.linspace(0, 1, 7, dtype=np.float32)}
    payload = player.pack({"format": player.FORMAT, "x": "ü"}, arrays, b"0123456789abcdef")
    header, back = player.unpack(payload)
    assert header["x"] == "ü" and header["id"] == b"0123456789abcdef".hex()
    for name, value in arrays.items():
        np.testing.assert_array_equal(back[name], value)
        assert back[name].dtype == value.dtype
    start = len(payload) - sum(-(-v.nbytes // 8) * 8 for v in arrays.values())
    assert start % 8 == 0 and all(s["offset"] % 8 == 0 for s in header["arrays"].values())
    with pytest.raises(ValueError):
        player.unpack(b"NOTATRACE" + payload[9:])


@pytest.mark.parametrize(("length", "limit"), [(20, 0.5 * MB), (120, 3 * MB)])
def test_the_payload_of_a_copy_episode_is_small(copy_model, length, limit):
    """The issue's budget: an L = 120 copy episode sends at most 3 MB. The rows are cut to the
    heads' window at L = 20; at 120 the write head walks over all 128 rows (it moves on,
    writing nothing, while the answer is read out), so the window is the whole memory."""
    task = task_of(copy_model)
    ep = episode.run_episode(copy_model, task, episode.random_batch(task, 1, length=length))
    payload = player.episode_payload(ep, 0)
    assert len(payload) <= limit, f"{len(payload) / MB:.2f} MB"
    header, arrays = player.unpack(payload)
    rows = header["rows"]
    assert rows == ep.head_rows()
    if length == 20:
        assert len(rows) < ep.trace.memory.shape[2]  # cut to the rows the heads use, plus a margin
    assert arrays["write.weights"].shape == (ep.steps, 1, len(rows))
    assert "memory" not in arrays and arrays["memory0"].shape == (len(rows), 20)


def test_the_arrays_are_the_traces_on_the_heads_window(ep20):
    header, a = player.unpack(player.episode_payload(ep20, 7, title="copy"))
    tr, rows = ep20.trace, ep20.head_rows()
    assert header["rows"] == rows and header["gridRows"] == ep20.grid_rows()
    assert (header["steps"], header["start"], header["title"]) == (ep20.steps, 7, "copy")
    assert header["heads"] == {"write": 1, "read": 1} and header["offsets"] == ["−1", "0", "+1"]
    for kind in ("write", "read"):
        head = getattr(tr, kind)
        for name in ("content", "gated", "shifted", "weights"):
            np.testing.assert_array_equal(a[f"{kind}.{name}"], getattr(head, name)[:, 0][..., rows])
        for name in ("key", "beta", "gate", "gamma", "shift"):
            np.testing.assert_array_equal(a[f"{kind}.{name}"], getattr(head, name)[:, 0])
        np.testing.assert_array_equal(a[f"{kind}.previous0"], head.previous[0, 0][..., rows])
        # previous[t] is weights[t - 1]: only previous[0] is sent
        np.testing.assert_array_equal(head.previous[1:], head.weights[:-1])
        peaks = a[f"{kind}.argmax"]  # (T, H, 5): window index of each stage's argmax, or -1
        for t in (0, 5, ep20.steps - 1):
            stages = [head.previous, head.content, head.gated, head.shifted, head.weights]
            for s, stage in enumerate(stages):
                r = int(stage[t, 0, 0].argmax())
                assert peaks[t, 0, s] == (rows.index(r) if r in rows else -1)
    np.testing.assert_array_equal(a["write.erase"], tr.write.erase[:, 0])
    np.testing.assert_array_equal(a["reads"], tr.reads[:, 0])
    np.testing.assert_array_equal(a["memory0"], tr.initial_memory[0][rows])
    np.testing.assert_array_equal(a["wrong"].astype(bool), ep20.wrong)
    assert header["scoredSteps"] == np.flatnonzero(ep20.scored).tolist()
    assert header["phases"][3] == ep20.phase(3)
    assert header["narration"][-1][1] is None and "bit error" in header["narration"][-1][0]
    assert tuple(header["speeds"]) == SPEEDS and header["defaultSpeed"] == DEFAULT_SPEED


def test_the_memory_the_browser_rebuilds_is_the_traces(ep20):
    """The player rebuilds M_t from M_0 and the writes (eqs. 3-4) instead of receiving it; the
    same recurrence in numpy, on the window's rows only, stays within 1e-4 of the trace."""
    _, a = player.unpack(player.episode_payload(ep20))
    tr, rows = ep20.trace, ep20.head_rows()
    memory = a["memory0"].astype(np.float64)
    w, e, add = (a[k].astype(np.float64) for k in ("write.weights", "write.erase", "write.add"))
    for t in range(ep20.steps):
        keep = np.prod(1 - w[t][:, :, None] * e[t][:, None, :], axis=0)  # heads erase, then add
        memory = memory * keep + w[t].T @ add[t]
        np.testing.assert_allclose(memory, tr.memory[t, 0][rows], atol=1e-4)


def test_figures_are_the_builders_with_their_arrays_sent_once(ep20):
    header, a = player.unpack(player.episode_payload(ep20, 4))
    figures = {f["id"]: f for f in header["figures"]}
    assert list(figures) == ["grid", "stages", "write0.key", "write0.shift", "write0.erase",
                             "write0.add", "read0.key", "read0.shift", "memory", "read0.vector",
                             "targets"]
    # every head's stage panel in one figure, head k on axes x{k+1} / y{k+1}
    stages = figures["stages"]
    assert [(p["head"], p["index"], p["xref"], p["yref"]) for p in stages["panels"]] == \
        [("write", 0, "x", "y"), ("read", 0, "x2", "y2")]
    assert [(d["xaxis"], d["yaxis"]) for d in stages["figure"]["data"]] == [("x", "y"), ("x2", "y2")]
    built = episode_figures.stage_panel(
        *(getattr(ep20.trace.read, name)[4, 0, 0]
          for name in player.STAGES), rows=ep20.head_rows())
    np.testing.assert_allclose(a[stages["figure"]["data"][1]["z"]["$array"]], np.asarray(built.data[0].z),
                               atol=1e-6)
    for spec in figures.values():
        assert set(refs(spec["figure"])) <= set(a), spec["id"]
        assert "template" not in spec["figure"]["layout"]
    assert len(figures["grid"]["cursorShapes"]) == 6
    assert len(figures["targets"]["cursorShapes"]) == 2
    # the grid's heatmaps are the builder's, as float32
    grid = episode_figures.episode_grid(
        ep20.inputs, ep20.outputs, ep20.trace.write.add[:, 0, 0], ep20.trace.reads[:, 0, 0],
        ep20.trace.write.weights[:, 0, 0], ep20.trace.read.weights[:, 0, 0], rows=ep20.grid_rows())
    for sent, built in zip(figures["grid"]["figure"]["data"], grid.data, strict=True):
        np.testing.assert_allclose(a[sent["z"]["$array"]], np.asarray(built.z), atol=1e-6)
        assert sent["colorscale"] == [list(c) for c in built.colorscale]
    # the memory figure is built at the opening step with the written row outlined
    memory = figures["memory"]["figure"]
    assert [d["name"] for d in memory["data"]] == ["after", "change"]
    assert len(memory["layout"]["shapes"]) == 2
    # the numbers travel as binary: the JSON header (figures, words) stays small
    payload = player.episode_payload(ep20)
    (length,) = np.frombuffer(payload[24:28], "<u4")
    assert length < 60_000, length


def test_signed_bar_colours_are_the_builders():
    fig = episode_figures.vector_bars(np.array([0.5, -0.5]), title="k")
    assert list(fig.data[0].marker.color) == [player.POSITIVE_COLOR, player.NEGATIVE_COLOR]


def test_the_id_names_the_episode_not_the_opening_step(copy_model, ep20):
    p1, p2 = player.episode_payload(ep20, 0), player.episode_payload(ep20, 9)
    assert p1[8:24] == p2[8:24] and p1 != p2
    task = task_of(copy_model)
    other = episode.run_episode(copy_model, task, episode.random_batch(task, 4, length=20))
    assert player.episode_payload(other, 0)[8:24] != p1[8:24]


def test_the_opening_step_is_kept_in_range(ep20):
    assert player.unpack(player.episode_payload(ep20, 10**6))[0]["start"] == ep20.steps - 1
    assert player.unpack(player.episode_payload(ep20, -3))[0]["start"] == 0


@pytest.mark.parametrize(("value", "want"), [(None, None), (3, 3), (3.0, 3), (40, None),
                                             (-1, None), ("3", None), (True, None),
                                             (float("nan"), None)])
def test_only_usable_stop_messages_reach_the_page(value, want):
    assert tp.stopped_step(SimpleNamespace(stop=value), 40) == want


def test_wrapper_mounts_the_payload_and_returns_the_stop(monkeypatch):
    calls = []

    def fake_mount(**kwargs):
        calls.append(kwargs)
        return SimpleNamespace(stop=stop)

    monkeypatch.setattr(tp, "_component", lambda: fake_mount)
    stop = None
    assert tp.trace_player(b"NTMTRACE...", 10, key="p") is None
    stop = 7
    assert tp.trace_player(b"NTMTRACE...", 10, key="p") == 7
    assert calls[0]["key"] == "p" and calls[0]["data"] == b"NTMTRACE..."
    assert callable(calls[0]["on_stop_change"])


def test_assets_ship_and_load_nothing_from_the_internet():
    js, css = plotly_js.asset("trace_player.js"), plotly_js.asset("trace_player.css")
    assert "export default function" in js and "Plotly.update" in js and "Plotly.newPlot" in js
    bars = plotly_js.asset("svg_bars.js")  # the bar charts, prepended to the player's module
    assert "class SvgBars" in bars and "new SvgBars(" in js
    for source in (js, bars):
        assert "http://" not in source.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in source
    assert "@import" not in css and "url(" not in css


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="no CUDA GPU on this machine: run this test where there is one")
@pytest.mark.parametrize("length", [20, 120])
def test_a_cuda_model_gives_the_cpu_trace_and_payload(copy_model, length):
    """The stepper's device choice: the same episode traced on the GPU matches the CPU's to
    within 1e-4, and so does what the player receives."""
    cuda = catalogue.load_ntm(catalogue.MODELS_DIR / "copy.pt", device="cuda")
    task = task_of(copy_model)
    batch = episode.random_batch(task, 11, length=length)
    on_cpu, on_gpu = (episode.run_episode(m, task, batch) for m in (copy_model, cuda))
    for name in ("logits", "reads", "memory", "initial_memory"):
        np.testing.assert_allclose(getattr(on_gpu.trace, name), getattr(on_cpu.trace, name),
                                   atol=1e-4, err_msg=name)
    for kind in ("read", "write"):
        for name, value in vars(getattr(on_cpu.trace, kind)).items():
            if value is not None:
                np.testing.assert_allclose(getattr(getattr(on_gpu.trace, kind), name), value,
                                           atol=1e-4, err_msg=f"{kind}.{name}")
    (h_cpu, a_cpu), (h_gpu, a_gpu) = (player.unpack(player.episode_payload(e)) for e in
                                      (on_cpu, on_gpu))
    assert h_gpu["rows"] == h_cpu["rows"] and h_gpu["narration"] == h_cpu["narration"]
    for name, value in a_cpu.items():
        if value.dtype == np.float32:
            np.testing.assert_allclose(a_gpu[name], value, atol=1e-4, err_msg=name)


def test_the_colour_choice_recolours_the_weightings_and_names_a_new_payload(ep20):
    """``colors=cividis`` (the sidebar's choice): the episode grid's weightings and every stage
    panel are drawn in cividis, the memory stays diverging, and the payload gets a new id so the
    browser redraws instead of keeping the old figures."""
    default = player.episode_payload(ep20)
    cividis = player.episode_payload(ep20, colorscale=CIVIDIS_COLORSCALE)
    assert default[8:24] != cividis[8:24]
    assert player.episode_payload(ep20)[8:24] == default[8:24]
    figures = {f["id"]: f["figure"] for f in player.unpack(cividis)[0]["figures"]}
    want = [list(c) for c in CIVIDIS_COLORSCALE]
    grid = {d["name"]: d["colorscale"] for d in figures["grid"]["data"]}
    assert grid["write weighting"] == grid["read weighting"] == want
    assert all(d["colorscale"] == want for d in figures["stages"]["data"])
    assert all(d["colorscale"] == [list(c) for c in MEMORY_COLORSCALE]
               for d in figures["memory"]["data"])
