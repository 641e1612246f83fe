"""A classroom against one server: K students at the same time, each with their own state.

    python benchmarks/bench_classroom.py                      # K = 10 and 30, real browsers
    python benchmarks/bench_classroom.py --clients ws         # the same script, no browsers
    python benchmarks/bench_classroom.py --clients ws --k 30 --servers 2   # two processes
    python benchmarks/bench_classroom.py --k 30 --rounds 6 --stagger 0 --think 0   # worst case

For each K this starts ``streamlit run explorer_app.py`` on a free loopback port (with the
repository's ``.streamlit/config.toml``), warms it up with one visit, then runs K students
concurrently. Each opens the link within ``--stagger`` seconds, waits ``--think`` seconds
(0.5x-1.5x, seeded) before every action, and goes through:

1. open ``/playground?seed=<own seed>`` and wait for the addressing stages;
2. ``--rounds`` times, move a stage control of the in-browser addressing panel one notch (γ and
   β in turn) and wait until the sharpened stage shows the new values and the link holds them
   (the release's one message to the server, and its rerun);
3. open ``/stepper?seed=<own seed>&length=<own length>`` and wait for the trace player at
   step 0;
4. ``--rounds`` times, press the player's "Next" and wait until its heading and the write
   head's β show the new step. The player steps in the browser (the server hears only where the
   cursor stopped, one message once it is quiet, to put ``t`` in the link).

Two kinds of student (``--clients``):

* ``browser`` (default): one browser context each, in one headless Chromium (Debian's, never a
  downloaded one), driven by Playwright; sliders move with the keyboard, "Next" is clicked, and
  the values are read from the drawn figures and the page text. The action time runs to the
  updated figure (and, on the playground, the updated link); the ``: server`` rows are the
  server's work the action caused, from the browser's rerun request to the server's "script
  finished" message as seen on the page's websocket.
* ``ws``: a bare Streamlit websocket client per student that sends the same rerun requests a
  browser sends (only the changed widget's value; on the playground, the addressing panel's one
  release message with its new stage controls) and reads the same values from the deltas,
  after fetching the page's HTML and the scripts and styles it names, as a browser does on its
  first visit (not the chunks a browser loads later, such as Plotly's). Its action time runs
  to the delta that carries the updated figure; on the stepper it opens the page and checks the
  trace player's payload (every step's numbers) and stops there: the steps happen in the
  browser, and their one URL message is measured by ``browser`` mode. It measures the server
  alone: on a small
  machine the K Chromium tabs of ``browser`` mode need many times the server's CPU and become
  the bottleneck.

Every wait checks the student's *own* state: the stage values must equal
``ntm.playground.compute`` for that student's seed and stage values (the panel computes them in
the browser; the ``ws`` client reads the weighting the server sends the read figure, and the
stage controls it sends the panel), and the stepper's heading
and β must equal the shipped copy model traced on that student's seed and length. Any
mismatch, time-out or exception counts as an error, and ends that student's script. The
server's resident memory (``VmRSS`` of the server process and its children, from ``/proc``)
is read after the warm-up, during the run (peak) and after every student has gone; its CPU time
and this process tree's (the clients) are reported too.

All traffic goes to 127.0.0.1 only; every wait has a time-out (``--action-timeout``) and each K
has an overall deadline (``--deadline``), so the run always ends by itself. With
``--servers P`` it starts P server processes and sends student i to process ``i % P``, as a
load balancer with session affinity would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from ntm import catalogue  # noqa: E402
from ntm import playground as pg  # noqa: E402
from ntm.devtools.local_server import CHROMIUM, free_port, start_server, stop_server, wait_healthy  # noqa: E402
from ntm.devtools.local_server import CHROMIUM_ARGS as BASE_CHROMIUM_ARGS  # noqa: E402
from ntm.evaluate import task_of  # noqa: E402
from ntm.stepper import episode, player  # noqa: E402

CHROMIUM_ARGS = [
    *BASE_CHROMIUM_ARGS,
    "--disable-extensions",
    # every student's tab counts as in front: no throttled timers or renderers
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]
VIEWPORT = {"width": 1280, "height": 900}
MIB = 2**20

# ------------------------------------------------------------------ the server


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB (Linux ``/proc``)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
        todo += _children(p)
    return total / MIB


def _tree(pid: int, exclude: frozenset[int] = frozenset()) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p not in out and p not in exclude:
            out.append(p)
            todo += _children(p)
    return out


def cpu_seconds(pid: int, exclude: frozenset[int] = frozenset()) -> float:
    """User + system CPU time of a process and its live descendants, leaving out the subtrees
    of ``exclude`` (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree(pid, exclude):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


# ------------------------------------------------------------------ what each student should see


@dataclass
class Student:
    index: int
    seed: int
    length: int
    gammas: list[float]  #: γ after each slider move
    betas: list[float]  #: β after each slider move
    playground: list[np.ndarray]  #: expected sharpened stage: at open, then after each move
    stepper_beta: list[float]  #: expected write-head β at t = 0 .. rounds
    times: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: list[str] = field(default_factory=list)
    actions: int = 0


def plan_students(k: int, rounds: int, model) -> list[Student]:
    """Each student gets their own seed and length, and the values they must see."""
    task = task_of(model)
    students = []
    for i in range(k):
        seed, length = 101 + 37 * i, max(4 + i % 12, (rounds + 1) // 2)  # 2L + 1 steps
        gamma_i, beta_i = pg.GAMMA_VALUES.index(pg.DEFAULTS["gamma"]), pg.BETA_VALUES.index(
            pg.DEFAULTS["beta"])
        gammas, betas, expected = [], [], []
        settings = pg.Settings().updated(seed=seed)
        expected.append(pg.compute(settings).sharpened)
        for r in range(rounds):  # γ one notch right, then β one notch right, in turn
            if r % 2 == 0:
                gamma_i = min(gamma_i + 1, len(pg.GAMMA_VALUES) - 1)
            else:
                beta_i = min(beta_i + 1, len(pg.BETA_VALUES) - 1)
            gammas.append(pg.GAMMA_VALUES[gamma_i])
            betas.append(pg.BETA_VALUES[beta_i])
            settings = settings.updated(gamma=gammas[-1], beta=betas[-1])
            expected.append(pg.compute(settings).sharpened)
        ep = episode.run_episode(model, task, episode.random_batch(task, seed, length=length))
        beta = [float(ep.trace.write.beta[t, 0, 0]) for t in range(rounds + 1)]
        students.append(Student(i, seed, length, gammas, betas, expected, beta))
    return students


# ------------------------------------------------------------------ the browser side

POLL_MS = 50  #: how often a wait re-checks the page (cheap checks: no layout)
KINDS = ("playground open", "playground slider", "playground slider: server", "stepper open",
         "stepper step")


class Wire:
    """Times of the page's Streamlit websocket messages, as this script sees them arrive from
    the browser's network layer: each rerun request the browser sends and each "script
    finished" the server sends back. Their difference is the server's share of an action,
    without the browser's rendering (or its widget debounce)."""

    def __init__(self) -> None:
        self.sent: list[float] = []
        self.finished: list[float] = []

    def attach(self, ws) -> None:
        if "_stcore/stream" in ws.url:
            ws.on("framesent", self._sent)
            ws.on("framereceived", self._received)

    def _sent(self, payload) -> None:
        if isinstance(payload, bytes):
            with contextlib.suppress(Exception):
                if BackMsg.FromString(payload).WhichOneof("type") == "rerun_script":
                    self.sent.append(time.perf_counter())

    def _received(self, payload) -> None:
        if isinstance(payload, bytes) and len(payload) < 256:  # never parse the big deltas
            with contextlib.suppress(Exception):
                if ForwardMsg.FromString(payload).WhichOneof("type") == "script_finished":
                    self.finished.append(time.perf_counter())

    async def idle(self, timeout: float) -> None:
        """Wait until the server has finished the last run the browser asked for."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.sent and self.finished and self.finished[-1] > self.sent[-1]:
                return
            await asyncio.sleep(0.02)
        raise TimeoutError("the server did not finish the run")

    def round_trip(self, start: float) -> float:
        """From the first rerun request after ``start`` to the first "finished" after the last
        request (NaN when the messages were not seen)."""
        sent = [t for t in self.sent if t >= start]
        done = [t for t in self.finished if sent and t > sent[-1]]
        return done[0] - sent[0] if done else float("nan")

#: The sharpened stage as the addressing panel draws it (the panel is in a shadow root: found
#: once, then kept), or null before it is drawn.
SHARPENED_JS = """() => {
    let alt = window.__ntmSharpened;
    if (!alt || !alt.isConnected) {
        alt = null;
        for (const el of document.querySelectorAll('*')) {
            const found = el.shadowRoot
                && el.shadowRoot.querySelector('div.heatmap[data-stage=sharpened]');
            if (found) { alt = window.__ntmSharpened = found; break; }
        }
    }
    return alt && alt.ntmWeights ? Array.from(alt.ntmWeights) : null;
}"""
#: The browser computes the stages in float64 from the float32 memory; ``pg.compute`` in float32.
STAGE_TOL = 1e-5
STAGE_MATCHES = f"""([want, search]) => {{
    if (search && !location.search.includes(search)) return false;
    const got = ({SHARPENED_JS})();
    return got !== null && got.length === want.length
        && got.every((v, i) => Math.abs(v - want[i]) <= {STAGE_TOL});
}}"""
#: The trace player at step t: its heading, and the first head's β (the write head's).
STEP_MATCHES = """([t, last, beta]) => {
    const player = document.querySelector('.ntm-tp[data-ready=true]');
    if (!player) return false;
    const heading = player.querySelector('h4');
    if (!heading || !heading.textContent.trim().startsWith(`t = ${t} of ${last}`)) return false;
    const metric = [...player.querySelectorAll('.metric')].find(
        m => m.textContent.includes('β key strength'));
    if (!metric) return false;
    const value = parseFloat(metric.querySelector('.metric-value').textContent);
    return Math.abs(value - beta) <= 0.011;
}"""


def _fmt(v: float) -> str:
    return f"{v:g}"


async def _no_exception(page, where: str) -> None:
    if await page.locator('[data-testid="stException"]').count():
        raise AssertionError(f"exception box on {where}")


async def run_student(browser, url: str, s: Student, rounds: int, timeout_ms: float,
                      think: float = 0.0) -> None:
    rng = random.Random(s.seed)

    async def pause():  # a student looks at the figure before the next move
        if think > 0:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    poll = {"polling": POLL_MS, "timeout": timeout_ms}
    wire = Wire()
    page.on("websocket", wire.attach)
    where = "playground"
    try:
        t0 = time.perf_counter()
        await page.goto(f"{url}/playground?seed={s.seed}", timeout=timeout_ms)
        await page.wait_for_function(STAGE_MATCHES, arg=[s.playground[0].tolist(), ""], **poll)
        s.times["playground open"].append(time.perf_counter() - t0)
        await wire.idle(timeout_ms / 1000)
        s.actions += 1
        await _no_exception(page, where)
        settings = pg.Settings().updated(seed=s.seed)
        for r in range(rounds):
            await pause()
            key = "gamma" if r % 2 == 0 else "beta"
            where = f"playground move {r + 1} ({key})"
            await page.locator(f"input[data-control={key}]").focus()
            t0 = time.perf_counter()
            await page.keyboard.press("ArrowRight")  # one notch of the panel's log-like slider
            value = float(await page.locator(f"input[data-control={key}-number]").input_value())
            settings = settings.updated(**{key: value})
            want = pg.compute(settings).sharpened
            where = f"playground move {r + 1} ({key} -> {_fmt(value)})"
            try:
                await page.wait_for_function(
                    STAGE_MATCHES, arg=[want.tolist(), f"{key}={_fmt(value)}"], **poll)
            except Exception:
                shown = await page.evaluate(SHARPENED_JS)
                raise AssertionError(f"did not show its own state; sharpened = {shown}") from None
            s.times["playground slider"].append(time.perf_counter() - t0)
            await wire.idle(timeout_ms / 1000)  # act again only once the run is complete
            s.times["playground slider: server"].append(wire.round_trip(t0))
            s.actions += 1
        await _no_exception(page, where)

        where, last = "stepper", 2 * s.length
        await pause()
        t0 = time.perf_counter()
        await page.goto(f"{url}/stepper?seed={s.seed}&length={s.length}", timeout=timeout_ms)
        await page.wait_for_function(STEP_MATCHES, arg=[0, last, s.stepper_beta[0]], **poll)
        s.times["stepper open"].append(time.perf_counter() - t0)
        await wire.idle(timeout_ms / 1000)
        s.actions += 1
        await _no_exception(page, where)
        nxt = page.locator(".ntm-tp [data-action=next]")
        for r in range(rounds):
            where = f"stepper step {r + 1}"
            await pause()
            t0 = time.perf_counter()
            await nxt.click(timeout=timeout_ms)
            await page.wait_for_function(STEP_MATCHES, arg=[r + 1, last, s.stepper_beta[r + 1]],
                                         **poll)
            s.times["stepper step"].append(time.perf_counter() - t0)
            s.actions += 1
        await _no_exception(page, where)
    except Exception as exc:  # one error ends this student's script
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        s.errors.append(f"student {s.index} (seed {s.seed}), {where}: {first[:200]}")
    finally:
        await context.close()


async def warm_up(browser, url: str, timeout_ms: float) -> None:
    """One visit first: the server switches to app navigation, loads the model and caches."""
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    try:
        for path in ("/playground", "/stepper"):
            await page.goto(url + path, timeout=timeout_ms)
            await page.wait_for_selector(".js-plotly-plot", timeout=timeout_ms)
    finally:
        await context.close()


async def classroom(urls: list[str], pids: list[int], students: list[Student], args) -> dict:
    """Run every student at once, student i against server ``i % len(urls)`` (as a load
    balancer with session affinity would); the servers' memory and CPU, summed."""

    def rss() -> float:
        return sum(rss_mib(pid) for pid in pids)

    def server_cpu() -> float:
        return sum(cpu_seconds(pid) for pid in pids)

    timeout_ms = args.action_timeout * 1000
    async with contextlib.AsyncExitStack() as stack:
        if args.clients == "browser":
            from playwright.async_api import async_playwright

            p = await stack.enter_async_context(async_playwright())
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
            stack.push_async_callback(browser.close)
            for url in urls:
                await warm_up(browser, url, timeout_ms)

            def student(s: Student):
                url = urls[s.index % len(urls)]
                return run_student(browser, url, s, args.rounds, timeout_ms, args.think)
        else:
            for url in urls:
                await ws_warm_up(url, timeout_ms)

            def student(s: Student):
                url = urls[s.index % len(urls)]
                return ws_student(url, s, args.rounds, timeout_ms, args.think)

        await asyncio.sleep(1.0)
        before = rss()
        peak = before
        done = asyncio.Event()

        async def sample():
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss())
                await asyncio.sleep(0.5)

        async def one(s: Student):
            await asyncio.sleep(random.Random(s.index).uniform(0, args.stagger))
            await student(s)

        sampler = asyncio.create_task(sample())
        # the clients (browser processes through Playwright's driver) descend from this process
        cpu = {"server": server_cpu(), "clients": cpu_seconds(os.getpid(), frozenset(pids))}
        start = time.perf_counter()
        tasks = [asyncio.create_task(one(s)) for s in students]
        _, pending = await asyncio.wait(tasks, timeout=args.deadline)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            for s in students:
                if not s.errors and s.actions < 2 * args.rounds + 2:
                    s.errors.append(f"student {s.index}: not finished by the deadline")
        wall = time.perf_counter() - start
        cpu = {"server": server_cpu() - cpu["server"],
               "clients": cpu_seconds(os.getpid(), frozenset(pids)) - cpu["clients"]}
        done.set()
        await sampler
    await asyncio.sleep(2.0)  # the server notices the closed connections
    return {"before": before, "peak": max(peak, rss()), "after": rss(),
            "wall": wall, "cpu": cpu}


# ------------------------------------------------------------------ the websocket clients

FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
            ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
_ASSET = re.compile(r'(?:src|href)="(\./static/[^"]+\.(?:js|css))"')


def _fetch(url: str) -> int:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=60) as r:
        return len(r.read())


async def fetch_page(url: str) -> None:
    """What a browser downloads on a first visit: the HTML, then its scripts and styles."""
    html = await asyncio.to_thread(
        lambda: urllib.request.urlopen(url + "/", timeout=60).read().decode())
    for asset in _ASSET.findall(html):
        await asyncio.to_thread(_fetch, f"{url}/{asset[2:]}")


class Session:
    """One Streamlit session over a bare websocket, as the browser's frontend speaks it."""

    def __init__(self, ws, query: str) -> None:
        self.ws = ws
        self.query = query
        self.page_hash = ""
        self.widgets: dict[str, tuple[str, str]] = {}  #: key or label -> (widget id, fragment)
        self.charts: dict[str, str] = {}  #: chart key -> Plotly spec (JSON)
        self.components: dict[str, dict] = {}  #: component key -> the data it was sent
        self.payloads: dict[str, bytes] = {}  #: component key -> the binary data it was sent
        self.markdown: list[str] = []
        self.metrics: list[tuple[str, str]] = []
        self.exceptions: list[str] = []

    async def run(self, msg: BackMsg, timeout: float, first: str | None = None) -> tuple[float, float]:
        """Send one rerun request and read until the run is finished. Returns the seconds to
        the first element named ``first`` (a chart key) and to "script finished"."""
        self.markdown, self.metrics = [], []
        start = time.perf_counter()
        seen = float("nan")
        await self.ws.send(msg.SerializeToString())
        while True:
            left = start + timeout - time.perf_counter()
            fm = ForwardMsg.FromString(await asyncio.wait_for(self.ws.recv(), max(left, 0)))
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = fm.new_session.page_script_hash
            elif kind == "page_info_changed":
                self.query = fm.page_info_changed.query_string
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                name = self._element(fm.delta.new_element, fm.delta.fragment_id)
                if name and name == first and seen != seen:
                    seen = time.perf_counter() - start
            elif kind == "script_finished" and fm.script_finished in FINISHED:
                return seen, time.perf_counter() - start

    def _element(self, element, fragment: str) -> str | None:
        kind = element.WhichOneof("type")
        body = getattr(element, kind)
        if kind == "exception":
            self.exceptions.append(body.message)
        elif kind == "markdown":
            self.markdown.append(body.body)
        elif kind == "metric":
            self.metrics.append((body.label, body.body))
        elif kind == "plotly_chart":
            key = body.id.rsplit("-", 1)[-1]
            self.charts[key] = body.spec
            return key
        elif kind == "bidi_component":
            key = body.id.rsplit("-", 1)[-1]
            self.widgets[key] = (body.id, fragment)
            self.components[key] = json.loads(body.json) if body.json else {}
            if body.bytes:
                self.payloads[key] = body.bytes
            return key
        elif kind == "button":
            self.widgets[body.label] = (body.id, fragment)
        elif getattr(body, "id", "").startswith("$$ID-"):
            self.widgets[body.id.rsplit("-", 1)[-1]] = (body.id, fragment)
        return None

    def rerun(self, page: str = "", widget: str = "", **value) -> BackMsg:
        """A rerun request: a page's first run, or one widget's new value (in its fragment)."""
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query
        rerun.widget_states.SetInParent()
        rerun.context_info.timezone = "UTC"
        rerun.context_info.locale = "en-US"
        if page:
            rerun.page_name = page
        if widget:
            wid, fragment = self.widgets[widget]
            rerun.page_script_hash = self.page_hash
            if fragment:
                rerun.fragment_id = fragment
            state = rerun.widget_states.widgets.add()
            state.id = wid
            for field_name, v in value.items():
                if field_name == "string_array_value":
                    state.string_array_value.data.append(v)
                else:
                    setattr(state, field_name, v)
        return msg

    def release(self, component: str, event: str, value) -> BackMsg:
        """What a components-v2 component sends when it calls ``setTriggerValue(event, value)``:
        one rerun request with its trigger aggregator's JSON list (the playground's addressing
        panel sends ``release`` with its stage controls when a control is let go)."""
        from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

        wid, fragment = self.widgets[component]
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query
        rerun.page_script_hash = self.page_hash
        rerun.context_info.timezone = "UTC"
        rerun.context_info.locale = "en-US"
        if fragment:
            rerun.fragment_id = fragment
        state = rerun.widget_states.widgets.add()
        state.id = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{wid}__events"
        state.json_trigger_value = json.dumps([{"event": event, "value": value}])
        return msg

    def sharpened(self) -> np.ndarray:
        """The final weighting the page was computed with (the read figure's, from the server;
        the addressing panel computes the same in the browser)."""
        return np.asarray(self.components["pg_read"]["weighting"], dtype=np.float64)

    def episode(self) -> tuple[int, np.ndarray, int]:
        """The trace player's episode: steps, the write head's β at every step, and the step it
        opens at (from the payload the page mounted)."""
        header, arrays = player.unpack(self.payloads["player"])
        return header["steps"], arrays["write.beta"][:, 0], header["start"]


async def ws_connect(url: str):
    return await websockets.connect(url.replace("http://", "ws://") + "/_stcore/stream",
                                    subprotocols=["streamlit"], origin=url, max_size=None,
                                    open_timeout=60)


async def ws_student(url: str, s: Student, rounds: int, timeout_ms: float,
                     think: float = 0.0) -> None:
    rng = random.Random(s.seed)
    timeout = timeout_ms / 1000

    async def pause():
        if think > 0:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    where = "playground"
    try:
        t0 = time.perf_counter()
        await fetch_page(url)
        async with await ws_connect(url) as ws:
            session = Session(ws, f"seed={s.seed}")
            await session.run(session.rerun(page="playground"), timeout)
            _check(session, where)
            if not np.allclose(session.sharpened(), s.playground[0], atol=1e-6):
                raise AssertionError(f"not its own state: {session.sharpened().round(3)}")
            s.times["playground open"].append(time.perf_counter() - t0)
            s.actions += 1
            # the panel's own stage controls, as it holds them: at open, then each release
            controls = dict(session.components["pg_panel"]["controls"])
            for r in range(rounds):
                await pause()
                key, value = ("gamma", s.gammas[r]) if r % 2 == 0 else ("beta", s.betas[r])
                where = f"playground move {r + 1} ({key} -> {_fmt(value)})"
                controls = {**controls, key: value}
                seen, finished = await session.run(
                    session.release("pg_panel", "release", controls), timeout, first="pg_read")
                _check(session, where)
                if not np.allclose(session.sharpened(), s.playground[r + 1], atol=1e-6):
                    raise AssertionError(f"not its own state: {session.sharpened().round(3)}")
                if f"{key}={_fmt(value)}" not in session.query:
                    raise AssertionError(f"the URL says {session.query!r}")
                s.times["playground slider"].append(seen)
                s.times["playground slider: server"].append(finished)
                s.actions += 1

        where, last = "stepper", 2 * s.length
        await pause()
        t0 = time.perf_counter()
        async with await ws_connect(url) as ws:
            session = Session(ws, f"seed={s.seed}&length={s.length}")
            await session.run(session.rerun(page="stepper"), timeout)
            _check_episode(session, last, s.stepper_beta, where)
            s.times["stepper open"].append(time.perf_counter() - t0)
            s.actions += 1
            # Steps happen in the browser (the player has every step): nothing to send here.
    except Exception as exc:  # one error ends this student's script
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        s.errors.append(f"student {s.index} (seed {s.seed}), {where}: {first[:200]}")


def _check(session: Session, where: str) -> None:
    if session.exceptions:
        raise AssertionError(f"exception on {where}: {session.exceptions[-1][:100]}")


def _check_episode(session: Session, last: int, betas: list[float], where: str) -> None:
    """The trace player got this student's own episode: its length and its β step by step."""
    _check(session, where)
    steps, beta, start = session.episode()
    if steps != last + 1 or start != 0 or not np.allclose(beta[:len(betas)], betas, atol=1e-6):
        raise AssertionError(f"not its own episode: {steps} steps from {start}, "
                             f"β = {beta[:3].round(2)} (want {np.round(betas[:3], 2)})")


async def ws_warm_up(url: str, timeout_ms: float) -> None:
    """One visit first: the server switches to app navigation, loads the model and caches."""
    await fetch_page(url)
    for page, query in (("playground", ""), ("stepper", "")):
        async with await ws_connect(url) as ws:
            session = Session(ws, query)
            await session.run(session.rerun(page=page), timeout_ms / 1000)


# ------------------------------------------------------------------ the report


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def server_errors(log: Path) -> int:
    text = log.read_text(errors="replace")
    return text.count("Traceback (most recent call last)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", default="10,30", help="comma-separated class sizes (default 10,30)")
    parser.add_argument("--clients", choices=("browser", "ws"), default="browser",
                        help="real browser contexts (default) or bare websocket sessions")
    parser.add_argument("--servers", type=int, default=1,
                        help="server processes, students spread over them (default 1)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="slider moves and stepper steps per student (default 4)")
    parser.add_argument("--action-timeout", type=float, default=60.0,
                        help="seconds one action may take before it counts as an error")
    parser.add_argument("--deadline", type=float, default=900.0,
                        help="seconds one class may take in all")
    parser.add_argument("--stagger", type=float, default=10.0,
                        help="students open the link at random times within this many seconds "
                             "(default 10; 0: all at the same instant)")
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean seconds a student looks before the next action (uniform "
                             "0.5x-1.5x; default 2; 0: act as fast as possible)")
    args = parser.parse_args()
    if args.clients == "browser" and not Path(CHROMIUM).exists():
        sys.exit(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    sizes = [int(k) for k in args.k.split(",")]
    args.rounds = rounds = max(1, min(args.rounds, 12))

    import streamlit
    import torch

    torch.set_num_threads(1)
    model = catalogue.load_ntm(catalogue.MODELS_DIR / "copy.pt")
    if args.clients == "browser":
        clients = subprocess.run([CHROMIUM, "--version"], capture_output=True,
                                 text=True).stdout.strip() or "Chromium"
    else:
        clients = f"websocket clients (websockets {websockets.__version__})"
    print(f"{os.cpu_count()} CPUs ({platform.machine()}), streamlit {streamlit.__version__}, "
          f"{clients}; {rounds} slider moves and {rounds} stepper steps "
          f"per student; students open the link "
          f"{'at once' if not args.stagger else f'within {args.stagger:g} s'}, think time "
          f"{args.think:g} s; action time-out {args.action_timeout:g} s; "
          f"{args.servers} server process{'es' if args.servers > 1 else ''}")
    latency_rows, server_rows, messages = [], [], []
    for k in sizes:
        students = plan_students(k, rounds, model)
        with tempfile.TemporaryDirectory() as tmp:
            load_before = os.getloadavg()[0]
            logs = [Path(tmp) / f"streamlit-{i}.log" for i in range(args.servers)]
            ports = [free_port() for _ in logs]
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            procs = []
            try:
                for port, log in zip(ports, logs, strict=True):
                    procs.append(start_server(port, log))
                for url, proc in zip(urls, procs, strict=True):
                    wait_healthy(url, proc)
                mem = asyncio.run(classroom(urls, [p.pid for p in procs], students, args))
                tracebacks = sum(server_errors(log) for log in logs)
            finally:
                for proc in procs:
                    stop_server(proc)
        load_after = os.getloadavg()[0]
        errors = [e for s in students for e in s.errors]
        messages += errors
        for kind in KINDS:
            times = [t for s in students for t in s.times[kind] if t == t]
            if not times and not any(s.errors for s in students):
                continue  # not measured by these clients (ws: the stepper's in-browser steps)
            latency_rows.append(
                f"| {k} | {kind} | {len(times)} | {pct(times, 50):.2f} | {pct(times, 95):.2f} | "
                f"{max(times) if times else float('nan'):.2f} |")
        actions = sum(s.actions for s in students)
        server_rows.append(
            f"| {k} | {actions} | {len(errors)} | {tracebacks} | {mem['before']:.0f} | "
            f"{mem['peak']:.0f} | {mem['after']:.0f} | {mem['after'] - mem['before']:+.0f} | "
            f"{mem['wall']:.0f} | {mem['cpu']['server']:.0f} | {mem['cpu']['clients']:.0f} | "
            f"{load_before:.1f} → {load_after:.1f} |")
    print()
    print("| K | action | n | p50 s | p95 s | max s |")
    print("|---:|---|---:|---:|---:|---:|")
    print("\n".join(latency_rows))
    print()
    print("| K | actions | errors | server tracebacks | RSS before MiB | peak | after | growth "
          "| wall s | server CPU s | client CPU s | load avg (1 min) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(server_rows))
    if messages:
        print()
        print(f"{len(messages)} error(s):")
        for m in messages[:20]:
            print(f"- {m}")


if __name__ == "__main__":
    main()
