"""A lesson step's live view is the in-browser addressing component, in Chromium: moving the
step's control redraws its stages without a websocket message until the release; after an
answer the reveal animates the stages (intermediate frames, sampled at animation frames) and
ends at exactly the true values (the Python reference, float64, within 1e-9); with reduced motion
the true values appear at once."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from ntm import addressing
from ntm.lessons import scenes
from ntm.lessons.controls import KERNELS
from ntm.lessons.steps import STEPS

from .conftest import wait_for_app
from .offline import block_internet, is_loopback

pytestmark = pytest.mark.browser
ROOT = ".st-key-panel_stages .ntm-ap-root"

#: Samples the stage figure at every animation frame: each distinct z (with the reveal's state
#: and the stages shown) goes to window.__frames. The component lives in a shadow root that
#: may be rebuilt when the step's view changes, so it is looked up again every frame.
SAMPLER_JS = """() => {
    window.__frames = [];
    window.__sampling = true;
    let last = "";
    const find = () => {
        const box = document.querySelector(".st-key-panel_stages");
        if (!box) return null;
        for (const el of box.querySelectorAll("*")) {
            const root = el.shadowRoot && el.shadowRoot.querySelector(".ntm-ap-root");
            if (root) return root;
        }
        return box.querySelector(".ntm-ap-root");
    };
    const tick = () => {
        const root = find();
        const figure = root && root.querySelector(".plotly-figure");
        if (figure && figure.ntmShown) {
            const z = figure.ntmShown.map(row => Array.from(row));
            const key = JSON.stringify(z);
            if (key !== last) {
                last = key;
                const stages = Array.from(root.querySelectorAll("section.card"))
                    .filter(c => !c.hidden).map(c => c.dataset.stage);
                window.__frames.push({z, stages, reveal: root.dataset.reveal || ""});
            }
        }
        if (window.__sampling) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""


def open_step(page, url: str) -> list:
    aborted = block_internet(page)
    sent: list = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    page.goto(url)
    wait_for_app(page, timeout=120_000)
    page.locator(f"{ROOT}[data-plotted]").wait_for(timeout=120_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert all(not is_loopback(u) for u in aborted)
    return sent


def settle(page, sent: list, quiet_ms: int = 800) -> None:
    """Wait until no websocket frame has been sent for ``quiet_ms``."""
    while True:
        before = len(sent)
        page.wait_for_timeout(quiet_ms)
        if len(sent) == before:
            return


def truth(number: int, **chosen) -> dict[str, np.ndarray]:
    """The stages of a step's scene by ``ntm.addressing`` in float64: the memory and key the
    server sends the component, the kernel's raw weights normalised in float64."""
    step = STEPS[number - 1]
    values = scenes.scene_values(step.scene, step.controls, {}, chosen)
    r = scenes.addressing_scene(values)
    raw = np.array(KERNELS[values["kernel"]], dtype=np.float64)
    t = lambda x: torch.as_tensor(np.asarray(x, dtype=np.float64))[None]  # noqa: E731
    s = addressing.address(t(r.memory), t(r.key), t([float(values["beta"])]),
                           t([float(values["g"])]), t(raw / raw.sum()),
                           t([float(values["gamma"])]), t(r.previous))
    return {"gated": s.gated[0].numpy(), "shifted": s.shifted[0].numpy(),
            "sharpened": s.sharpened[0].numpy()}


def column(frame: dict, stage: str) -> np.ndarray:
    c = frame["stages"].index(stage)
    return np.array([row[c] for row in frame["z"]], dtype=np.float64)


def answer(page, qid: str, option: str) -> None:
    card = page.locator(f".st-key-card_{qid}")
    card.get_by_role("radio", name=option, exact=True).click()
    card.get_by_role("button", name=re.compile("Check my answer")).click()


def test_the_steps_control_redraws_in_the_browser_and_reports_on_release(page, app_url):
    sent = open_step(page, f"{app_url}/lessons?step=7&q7a=6&q7b=20")
    root = page.locator(ROOT)
    shown = root.evaluate("r => Array.from(r.querySelectorAll('section.card'))"
                          ".filter(c => !c.hidden).map(c => c.dataset.stage)")
    assert shown == ["gated", "shifted", "sharpened"]
    # only the step's controls: γ and the kernel (no β, g, previous focus)
    assert root.evaluate("r => Array.from(r.querySelectorAll('[data-box]'))"
                         ".filter(b => b.isConnected).map(b => b.dataset.box)") == [
        "kernel", "gamma"]
    settle(page, sent)
    sharpened = page.locator(f"{ROOT} div.heatmap[data-stage=sharpened]")
    before = sharpened.evaluate("a => Array.from(a.ntmWeights)")
    gamma = page.locator(f"{ROOT} input[data-control=gamma]")
    gamma.focus()
    count = len(sent)
    seen = [before]
    for _ in range(4):  # held: keydown and its repeats, never a keyup
        page.keyboard.down("ArrowRight")
        page.wait_for_timeout(120)
        w = sharpened.evaluate("a => Array.from(a.ntmWeights)")
        if w != seen[-1]:
            seen.append(w)
    assert len(seen) >= 4, "γ's notches did not redraw w in the browser"
    assert len(sent) == count, "a websocket message was sent before the release"
    assert "γ = 50" in page.locator(f"{ROOT} section[data-stage=sharpened] p.live").inner_text()
    np.testing.assert_allclose(seen[-1], truth(7, gamma=50.0)["sharpened"], rtol=0, atol=1e-9)
    page.keyboard.up("ArrowRight")
    page.wait_for_function("() => location.search.includes('gamma=50')", timeout=60_000)
    assert len(sent) > count  # the release reached the server, which put γ into the link


def sample_reveal(page, app_url: str, reduced: bool) -> list[dict]:
    """Answer step 7's row question while sampling the figure; the frames seen after it."""
    if reduced:
        page.emulate_media(reduced_motion="reduce")
    open_step(page, f"{app_url}/lessons?step=7")
    page.evaluate(SAMPLER_JS)
    answer(page, "q7a", "6")
    page.wait_for_function(
        """() => (window.__frames || []).some(f => f.stages.length === 3 && f.reveal === "done")""",
        timeout=120_000)
    page.wait_for_timeout(300)
    page.evaluate("() => { window.__sampling = false; }")
    frames = [f for f in page.evaluate("() => window.__frames") if len(f["stages"]) == 3]
    assert frames and frames[-1]["reveal"] == "done"
    assert frames[0]["stages"] == ["gated", "shifted", "sharpened"]
    # the guess beside the truth, on the stage the question asked about
    guess = page.locator(f"{ROOT} section[data-stage=sharpened] p.guess").inner_text()
    assert guess == "Your answer: row 6 · the truth: row 6"
    return frames


def test_the_reveal_animates_the_stages_and_ends_at_the_truth(page, app_url):
    frames = sample_reveal(page, app_url, reduced=False)
    true = truth(7)
    final = frames[-1]
    for stage in ("gated", "shifted", "sharpened"):
        np.testing.assert_allclose(column(final, stage), true[stage], rtol=0, atol=1e-9)
    moving = [f for f in frames if f["reveal"] == "running"]
    shifted = [column(f, "shifted") for f in moving]
    sharpened = [column(f, "sharpened") for f in moving]
    between = [w for w in shifted if w.sum() > 0 and not np.allclose(w, true["shifted"])]
    assert len(between) >= 3, f"only {len(between)} intermediate frames of w̃"
    # w̃ grows out of wᵍ first, w is blank until its turn, then grows out of w̃
    assert np.allclose(shifted[0], true["gated"]) and sharpened[0].sum() == 0
    grown = [w for w in sharpened if w.sum() > 0 and not np.allclose(w, true["sharpened"])]
    assert len(grown) >= 3, f"only {len(grown)} intermediate frames of w"
    for f in moving:  # every frame is a weighting or a blank column
        for stage in ("shifted", "sharpened"):
            total = column(f, stage).sum()
            assert total == 0 or abs(total - 1) < 1e-9
    print(f"\nreveal: {len(moving)} animation frames sampled, then the truth")


def test_with_reduced_motion_the_truth_appears_at_once(page, app_url):
    frames = sample_reveal(page, app_url, reduced=True)
    true = truth(7)
    assert all(f["reveal"] != "running" for f in frames)
    for f in frames:  # no intermediate frame: every 3-stage frame is the truth
        for stage in ("gated", "shifted", "sharpened"):
            np.testing.assert_allclose(column(f, stage), true[stage], rtol=0, atol=1e-9)
