"""The live read and write figures' JavaScript against the Python figure builders, in Chromium.

``components/live_figures.js`` recomputes the read figure (``read_figure``: the three heaviest
rows, their labels and values, the read vector's bars, colours and range, the caption) and the
write figure (``write_figure``: ``w``, the memory after the write and the change, their colour
ranges and cell values) for a new weighting, so that a dragged control never waits for the
server. Here it is loaded into a bare page (every non-loopback request aborted) and called on
random states, ties (``w`` exactly 1/8), drink labels and exact zeros; every number must match
the builder fed the same state (to 1e-12) and every string exactly.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ntm.app.live_figures import READ_ROWS, expected_write, read_data, write_data
from ntm.app.plotly_js import asset
from ntm.figures.style import MEMORY_COLORSCALE

from .offline import block_internet

pytestmark = pytest.mark.browser

CASES = 120
TOL = 1e-12


@pytest.fixture(scope="module")
def js_page(browser):
    context = browser.new_context()
    page = context.new_page()
    aborted = block_internet(page)
    page.set_content("<!doctype html><html><head><title>live figures</title></head></html>")
    page.add_script_tag(content="function loadPlotly() { return new Promise(() => {}); }\n"
                        + asset("common.js") + asset("live_figures.js"), type="module")
    page.wait_for_function("() => window.ntmLiveFigures !== undefined", timeout=30_000)
    yield page
    assert aborted == []
    context.close()


def _read_vector(mem: np.ndarray, w: np.ndarray) -> np.ndarray:
    """r = Σ_i w(i) M(i), summed row by row as the JavaScript does (same float64 order)."""
    r = np.zeros(mem.shape[1])
    for i in range(mem.shape[0]):
        r = r + w[i] * mem[i]
    return r


def _cases(seed: int = 13):
    rng = np.random.default_rng(seed)
    for c in range(CASES):
        n = int(rng.integers(3, 41)) if c % 4 else 8
        m = int(rng.integers(1, 13))
        mem = rng.uniform(-1.5, 1.5, (n, m))
        if c % 5 == 0:
            mem[rng.integers(n)] = 0.0  # a zero row
        if c % 4 == 0:
            w = np.full(n, 1.0 / n)  # ties everywhere: 1/8 = 0.125 rounds to even in Python
        elif c % 4 == 1:
            w = np.zeros(n)
            w[rng.integers(n)] = 1.0
        else:
            w = rng.dirichlet(np.full(n, rng.uniform(0.1, 2.0)))
        erase = np.full(m, float(rng.choice([0.0, 0.5, 1.0, rng.random()])))
        add = rng.uniform(-1, 1, m)
        labels = [f"drink {i}" for i in range(n)] if c % 3 == 0 else None
        yield mem, w, erase, add, labels


def _decode(x):
    if isinstance(x, dict) and "bdata" in x:
        import base64

        data = np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"]))
        shape = [int(v) for v in str(x.get("shape", len(data))).split(",")]
        return data.reshape(shape).astype(np.float64)
    return x


def _close(a, b, what: str) -> None:
    np.testing.assert_allclose(np.asarray(_decode(a), dtype=np.float64),
                               np.asarray(_decode(b), dtype=np.float64), rtol=0, atol=TOL,
                               err_msg=what)


def test_read_update_equals_the_read_builder(js_page):
    specs, expected = [], []
    for mem, w, _, _, labels in _cases():
        spec = read_data(mem, w, _read_vector(mem, w), row_labels=labels)
        specs.append({**spec, "figure": None, "w": w.tolist()})
        expected.append(spec["figure"])
    got = js_page.evaluate(
        """specs => specs.map(s => window.ntmLiveFigures.readUpdate(s, s.w))""", specs)
    ties = 0
    for (data, layout, traces), fig, spec in zip(got, expected, specs, strict=True):
        heat, bars = fig["data"]
        assert traces == [0, 1]
        assert data["y"][0] == heat["y"]  # "row 5 tea · w=0.12": the rows, in weight order
        assert len(heat["y"]) == min(READ_ROWS, len(spec["memory"]))
        _close(data["z"][0], heat["z"], "rows mixed")
        assert data["text"][0] == heat["text"]
        assert [data["zmin"][0], data["zmax"][0]] == [heat["zmin"], heat["zmax"]]
        _close(data["y"][1], bars["y"], "read vector")
        assert data["text"][1] == bars["text"]
        assert data["marker.color"][1] == bars["marker"]["color"]
        _close(layout["yaxis2.range"], fig["layout"]["yaxis2"]["range"], "bar range")
        assert layout["annotations[0].text"] == fig["layout"]["annotations"][0]["text"]
        ties += any("0.12" in label for label in heat["y"]) and len(spec["memory"]) == 8
    assert ties > 0  # the round-half-even cases were there
    assert specs[0]["memoryColorscale"] == [[float(t), c] for t, c in MEMORY_COLORSCALE]


def test_write_update_equals_the_write_builder(js_page):
    specs, expected = [], []
    for mem, w, erase, add, labels in _cases(seed=14):
        spec = write_data(mem, expected_write(mem, w, erase, add), w, erase, add,
                          row_labels=labels)
        specs.append({**spec, "figure": None, "w": w.tolist()})
        expected.append(spec["figure"])
    got = js_page.evaluate(
        """specs => specs.map(s => window.ntmLiveFigures.writeUpdate(s, s.w))""", specs)
    for (data, _layout, traces), fig, spec in zip(got, expected, specs, strict=True):
        weights, before, after, change = fig["data"]
        assert traces == [0, 1, 2, 3]
        _close(data["z"][0], weights["z"], "w")
        _close(data["z"][2], after["z"], "memory after the write")
        _close(data["z"][3], change["z"], "change")
        for k, trace in ((1, before), (2, after), (3, change)):
            assert data["zmin"][k] == pytest.approx(trace["zmin"], abs=TOL)
            assert data["zmax"][k] == pytest.approx(trace["zmax"], abs=TOL)
        if spec["values"]:
            for k, trace in ((0, weights), (2, after), (3, change)):
                assert data["text"][k] == trace["text"], k
        else:
            assert "text" not in data
    assert any(s["values"] for s in specs) and not all(s["values"] for s in specs)


def test_spec_is_plain_json():
    mem, w, erase, add, labels = next(_cases())
    json.dumps(read_data(mem, w, _read_vector(mem, w), row_labels=labels))
    json.dumps(write_data(mem, expected_write(mem, w, erase, add), w, erase, add))
