"""The addressing panel's JavaScript against ``ntm.addressing`` in float64, in real Chromium.

The component's file is loaded into a bare page (no server, every non-loopback request
aborted) and ``window.ntmAddressing`` is called on 2,000+ cases in a few batched
``page.evaluate`` calls. Every stage must match PyTorch to 1e-9 absolute, be finite, be
non-negative and sum to 1.
"""

from __future__ import annotations

import http.server
import json
import math
import threading

import numpy as np
import pytest
import torch

from ntm import addressing
from ntm.app.plotly_js import asset

from .offline import block_internet

pytestmark = pytest.mark.browser

TOL = 1e-9
STAGES = ("content", "gated", "shifted", "sharpened")

#: Runs every case through window.ntmAddressing.address. The cases travel as float64 bytes over
#: loopback HTTP (exact, and seconds faster than Playwright's protocol): ``/shapes.bin`` holds
#: N, M, 2R+1 per case (int32), ``/values.bin`` the memory, key, beta, g, kernel, gamma and
#: previous weighting of each case in turn; the four stages of every case, concatenated, are
#: POSTed back to ``/stages.bin``.
ADDRESS_JS = """async () => {
    const get = async name => (await fetch(name)).arrayBuffer();
    const shapes = new Int32Array(await get("/shapes.bin"));
    const v = new Float64Array(await get("/values.bin"));
    const A = window.ntmAddressing;
    const out = [];
    let at = 0;
    const take = k => v.subarray(at, (at += k));
    for (let c = 0; c < shapes.length; c += 3) {
        const [n, m, width] = [shapes[c], shapes[c + 1], shapes[c + 2]];
        const memory = [];
        for (let i = 0; i < n; i++) memory.push(take(m));
        const key = take(m), beta = take(1)[0], gate = take(1)[0], kernel = take(width);
        const gamma = take(1)[0], previous = take(n);
        const r = A.address(memory, key, beta, gate, kernel, gamma, previous);
        out.push(r.content, r.gated, r.shifted, r.sharpened);
    }
    const flat = new Float64Array(out.reduce((s, w) => s + w.length, 0));
    let k = 0;
    for (const w of out) { flat.set(w, k); k += w.length; }
    const response = await fetch("/stages.bin", {method: "POST", body: flat});
    return response.status;
}"""


class _Files(http.server.BaseHTTPRequestHandler):
    """A loopback server for the bare test page and the case bytes (``files``), and a sink for
    the stages the page POSTs back."""

    files: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html" if self.path == "/" else "application/octet-stream")
        self.end_headers()
        self.wfile.write(body or b"")

    def do_POST(self):  # noqa: N802
        self.files[self.path] = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    _Files.files = {"/": b"<!doctype html><html><head><title>addressing</title></head></html>"}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Files.files
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def js_page(browser, server):
    url, _files = server
    context = browser.new_context()
    page = context.new_page()
    aborted = block_internet(page)
    page.goto(url + "/")
    page.add_script_tag(content=asset("addressing.js"), type="module")
    page.wait_for_function("() => window.ntmAddressing !== undefined", timeout=30_000)
    yield page
    assert aborted == []
    context.close()


# ---- the cases ------------------------------------------------------------------------------


def _shape(rng: np.random.Generator) -> tuple[int, int, int]:
    n = int(rng.integers(3, 129))
    m = int(rng.integers(1, 21))
    r = int(rng.integers(1, min(3, (n - 1) // 2) + 1))
    return n, m, r


def _distribution(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.dirichlet(np.full(n, rng.uniform(0.1, 2.0)))


def _with_zeros(rng: np.random.Generator, w: np.ndarray) -> np.ndarray:
    """Exact zeros in a distribution: a one-hot, or a random half of the rows zeroed."""
    n = w.size
    if rng.random() < 0.4:
        out = np.zeros(n)
        out[rng.integers(n)] = 1.0
        return out
    keep = rng.random(n) < 0.5
    keep[rng.integers(n)] = True
    out = np.where(keep, w, 0.0)
    return out / out.sum()


def _beta(rng: np.random.Generator) -> float:
    u = rng.random()
    if u < 0.05:
        return 0.0
    if u < 0.15:
        return 1e3
    return float(10 ** rng.uniform(-2, 3))


def _gamma(rng: np.random.Generator) -> float:
    u = rng.random()
    if u < 0.05:
        return 1.0
    if u < 0.15:
        return 100.0
    return float(10 ** rng.uniform(0, 2))


def _case(kind, memory, key, beta, gate, kernel, gamma, previous) -> dict:
    return {
        "kind": kind,
        "memory": np.array(memory, dtype=np.float64),
        "key": np.array(key, dtype=np.float64),
        "beta": float(beta),
        "gate": float(gate),
        "kernel": np.array(kernel, dtype=np.float64),
        "gamma": float(gamma),
        "previous": np.array(previous, dtype=np.float64),
    }


def make_cases(seed: int = 13) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []

    def random_parts():
        n, m, r = _shape(rng)
        scale = 10 ** rng.uniform(-3, 1)
        memory = rng.normal(size=(n, m)) * scale
        key = rng.normal(size=m) * scale
        kernel = rng.dirichlet(np.ones(2 * r + 1))
        return n, m, r, memory, key, kernel

    for _ in range(1000):  # random memories N 3-128, M 1-20, R 1-3, beta to 1e3, gamma to 100
        n, m, r, memory, key, kernel = random_parts()
        cases.append(_case("random", memory, key, _beta(rng), rng.random(), kernel,
                           _gamma(rng), _distribution(rng, n)))
    for _ in range(150):  # a zero key
        n, m, r, memory, key, kernel = random_parts()
        cases.append(_case("zero key", memory, np.zeros(m), _beta(rng), rng.random(), kernel,
                           _gamma(rng), _distribution(rng, n)))
    for i in range(150):  # zero rows (every row zero in some), the key sometimes a zero row too
        n, m, r, memory, key, kernel = random_parts()
        zero = rng.random(n) < (1.0 if i % 10 == 0 else 0.4)
        memory[zero] = 0.0
        if i % 3 == 0:
            key = np.zeros(m)
        cases.append(_case("zero rows", memory, key, _beta(rng), rng.random(), kernel,
                           _gamma(rng), _distribution(rng, n)))
    for _ in range(200):  # a previous weighting with exact zeros; g = 0 keeps them to w~
        n, m, r, memory, key, kernel = random_parts()
        gate = 0.0 if rng.random() < 0.3 else rng.random()
        cases.append(_case("previous zeros", memory, key, _beta(rng), gate, kernel,
                           _gamma(rng), _with_zeros(rng, _distribution(rng, n))))
    for radius in (1, 2, 3):  # one-hot kernels at every offset
        for index in range(2 * radius + 1):
            for _ in range(10):
                n, m, _r, memory, key, _k = random_parts()
                n = max(n, 2 * radius + 1)
                memory = rng.normal(size=(n, m))
                kernel = np.zeros(2 * radius + 1)
                kernel[index] = 1.0
                previous = _with_zeros(rng, _distribution(rng, n))
                cases.append(_case("one-hot kernel", memory, key, _beta(rng), rng.random(),
                                   kernel, _gamma(rng), previous))
    for _ in range(200):  # near-ties broken by a large beta
        n, m, r, memory, key, kernel = random_parts()
        a, b = rng.choice(n, size=2, replace=False)
        memory[b] = memory[a] + 10 ** rng.uniform(-12, -4) * rng.normal(size=m)
        key = memory[a] + 10 ** rng.uniform(-12, -6) * rng.normal(size=m)
        cases.append(_case("near tie", memory, key, float(rng.uniform(300, 1e3)), rng.random(),
                           kernel, _gamma(rng), _distribution(rng, n)))
    for _ in range(200):  # the extremes together: beta 1e3, gamma 100, g at its ends
        n, m, r, memory, key, kernel = random_parts()
        gate = float(rng.choice([0.0, 1.0, rng.random()]))
        cases.append(_case("extremes", memory, key, 1e3, gate, kernel, 100.0,
                           _with_zeros(rng, _distribution(rng, n))))
    return cases


def torch_stages(case: dict) -> list[np.ndarray]:
    t = lambda x: torch.as_tensor(np.asarray(x, dtype=np.float64))  # noqa: E731
    s = addressing.address(
        t(case["memory"]).unsqueeze(0),
        t(case["key"]).unsqueeze(0),
        t([[case["beta"]]]),
        t([[case["gate"]]]),
        t(case["kernel"]).unsqueeze(0),
        t([[case["gamma"]]]),
        t(case["previous"]).unsqueeze(0),
    )
    return [getattr(s, name).squeeze(0).numpy() for name in STAGES]


def js_stages(page, files: dict[str, bytes], cases: list[dict]) -> list[list[np.ndarray]]:
    """Every case through the browser in one ``page.evaluate``, as float64 bytes both ways."""
    files["/shapes.bin"] = np.array(
        [[len(c["memory"]), len(c["key"]), len(c["kernel"])] for c in cases], dtype="<i4"
    ).tobytes()
    files["/values.bin"] = np.concatenate([
        np.concatenate([
            np.ravel(c["memory"]), c["key"], [c["beta"], c["gate"]], c["kernel"],
            [c["gamma"]], c["previous"],
        ])
        for c in cases
    ]).astype("<f8").tobytes()
    assert page.evaluate(ADDRESS_JS) == 204
    flat = np.frombuffer(files.pop("/stages.bin"), dtype="<f8")
    out, at = [], 0
    for c in cases:
        n = len(c["memory"])
        out.append([flat[at + i * n : at + (i + 1) * n] for i in range(4)])
        at += 4 * n
    assert at == flat.size
    return out


# ---- the tests ------------------------------------------------------------------------------


def test_js_addressing_matches_torch_float64(js_page, server):
    cases = make_cases()
    assert len(cases) >= 2000
    got = js_stages(js_page, server[1], cases)
    worst, worst_case = 0.0, None
    for case, js in zip(cases, got, strict=True):
        ref = torch_stages(case)
        for name, w_js, w_ref in zip(STAGES, js, ref, strict=True):
            where = f"{case['kind']} case, stage {name}, N={len(case['memory'])}"
            assert w_js.shape == w_ref.shape, where
            assert np.isfinite(w_js).all(), where
            assert (w_js >= 0).all(), where
            assert math.isclose(w_js.sum(), 1.0, abs_tol=TOL), where
            diff = float(np.abs(w_js - w_ref).max())
            if diff > worst:
                worst, worst_case = diff, where
    print(f"\n{len(cases)} cases; max |JS - torch| = {worst:.3g} ({worst_case})")
    assert worst <= TOL, worst_case


def test_one_hot_kernel_moves_focus_down_by_the_offset(js_page):
    """The design contract's direction: s(+d) = 1 moves the weight of row i to row i + d
    (mod N), i.e. torch.roll(w, d)."""
    rolled = js_page.evaluate(
        """() => {
            const A = window.ntmAddressing, n = 9, out = [];
            for (let r = 1; r <= 3; r++) for (let d = -r; d <= r; d++) {
                const kernel = new Array(2 * r + 1).fill(0);
                kernel[d + r] = 1;
                const w = new Array(n).fill(0);
                w[7] = 1;
                out.push([d, Array.from(A.shift(w, kernel)).indexOf(1)]);
            }
            return out;
        }"""
    )
    assert rolled and all(row == (7 + d) % 9 for d, row in rolled)


def test_run_with_steps_matches_the_server_loop(js_page):
    """``run`` (what the panel draws): the start focus fed through the pipeline ``steps`` times,
    the raw kernel normalised (all zero: identity) -- as the playground computes it."""
    rng = np.random.default_rng(5)
    cases = []
    for i in range(120):
        n, m = int(rng.integers(7, 40)), int(rng.integers(1, 12))
        raw = rng.choice([0.0, 0.2, 0.5, 1.0], size=7)
        if i % 10 == 0:
            raw[:] = 0.0
        controls = {
            "prev": "uniform" if i % 3 == 0 else "onehot",
            "prow": int(rng.integers(n)),
            "steps": int(rng.integers(0, 9)),
            "beta": float(10 ** rng.uniform(-1, 3)),
            "g": float(rng.random()),
            "R": int(rng.integers(1, 4)),
            "kernel": raw.tolist(),
            "gamma": float(10 ** rng.uniform(0, 2)),
        }
        memory = rng.uniform(-1, 1, (n, m))
        cases.append({"memory": memory.tolist(), "key": memory[0].tolist(), "controls": controls})
    got = json.loads(js_page.evaluate(
        """text => JSON.stringify(JSON.parse(text).map(c => {
            const r = window.ntmAddressing.run(c.memory, c.key, c.controls);
            return ["previous", "content", "gated", "shifted", "sharpened", "kernel"]
                .map(k => Array.from(r[k]));
        }))""",
        json.dumps(cases),
    ))
    t = lambda x: torch.tensor(x, dtype=torch.float64)  # noqa: E731
    for case, js in zip(cases, got, strict=True):
        c = case["controls"]
        n = len(case["memory"])
        raw = t(c["kernel"][3 - c["R"] : 4 + c["R"]])
        if raw.sum() <= 0:
            raw = torch.zeros_like(raw)
            raw[c["R"]] = 1.0
        kernel = (raw / raw.sum()).unsqueeze(0)
        previous = torch.full((1, n), 1.0 / n, dtype=torch.float64)
        if c["prev"] == "onehot":
            previous = torch.zeros(1, n, dtype=torch.float64)
            previous[0, c["prow"]] = 1.0
        m, k = t(case["memory"]).unsqueeze(0), t(case["key"]).unsqueeze(0)
        head = (t([[c["beta"]]]), t([[c["g"]]]), kernel, t([[c["gamma"]]]))
        for _ in range(c["steps"]):
            previous = addressing.address(m, k, head[0], head[1], head[2], head[3], previous).sharpened
        s = addressing.address(m, k, head[0], head[1], head[2], head[3], previous)
        ref = [previous, s.content, s.gated, s.shifted, s.sharpened, kernel]
        for w_js, w_ref in zip(js, ref, strict=True):
            assert np.abs(np.asarray(w_js) - w_ref.squeeze(0).numpy()).max() <= TOL
