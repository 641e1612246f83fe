"""The addressing panel paints a moving control's frames on a canvas over Plotly.js's heatmap
image and hands z to Plotly.restyle once the controls rest (``addressing.js``, ``showZ``). These
helpers check, in the page, that what the canvas paints is what Plotly.js paints: the same
bytes for the same z, in the same place on screen."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

#: Records, at every frame the panel shows (its "ntm-frame" event), whether the canvas was
#: shown and whether Plotly.js's figure already held that frame's z.
RECORD_FRAMES_JS = """root => {
    const figure = root.querySelector(".plotly-figure");
    const layer = root.querySelector(".fast-frame");
    window.__frames = [];
    figure.addEventListener("ntm-frame", () => window.__frames.push({
        canvas: !layer.hidden,
        figureHolds: JSON.stringify(figure.data[0].z) === JSON.stringify(figure.ntmShown),
    }));
}"""

#: Once the controls rest: the canvas hidden, the figure holding the z last shown, and the
#: canvas's last bitmap against Plotly.js's image (decoded from its data URL), byte for byte.
COMPARE_JS = """async root => {
    const figure = root.querySelector(".plotly-figure");
    const canvas = root.querySelector(".fast-frame canvas");
    const image = figure.querySelector("g.hm image");
    const probe = new Image();
    probe.src = image.href.baseVal;
    await probe.decode();
    const copy = document.createElement("canvas");
    copy.width = probe.width;
    copy.height = probe.height;
    const ctx = copy.getContext("2d");
    ctx.drawImage(probe, 0, 0);
    const plotly = Array.from(ctx.getImageData(0, 0, copy.width, copy.height).data);
    const painted = Array.from(canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data);
    return {
        hidden: root.querySelector(".fast-frame").hidden,
        figureHolds: JSON.stringify(figure.data[0].z) === JSON.stringify(figure.ntmShown),
        plotlySize: [copy.width, copy.height], canvasSize: [canvas.width, canvas.height],
        plotly, painted, colours: new Set(painted.map((v, i) => i % 4 ? "" : painted.slice(i, i + 3).join())).size,
    };
}"""


def wait_until_synced(page, root, timeout_ms: int = 10_000) -> None:
    """Wait for the canvas to go (the figure has taken the last frame and drawn it). The canvas
    is made at the first moving frame, which a busy browser may not have drawn yet: wait for
    it to exist too."""
    root.evaluate(
        """(root, timeout) => new Promise((resolve, reject) => {
            const start = performance.now();
            const layer = () => root.querySelector(".fast-frame");
            const poll = () => layer()?.hidden ? resolve()
                : performance.now() - start > timeout ? reject(new Error("canvas never hidden"))
                : setTimeout(poll, 20);
            poll();
        })""",
        timeout_ms,
    )


def check_canvas_is_plotly(page, root, figure) -> dict:
    """After the controls rest: the canvas's bytes equal Plotly.js's image and, shown again over
    the figure, it changes no pixel on screen. ``root`` is the panel's ``.ntm-ap-root``,
    ``figure`` its ``.stage-figure`` (both locators)."""
    wait_until_synced(page, root)
    got = root.evaluate(COMPARE_JS)
    assert got["hidden"] and got["figureHolds"], got
    assert got["canvasSize"] == got["plotlySize"], got
    assert got["painted"] == got["plotly"], "the canvas's colours differ from Plotly.js's"
    assert got["colours"] >= 3, "too few colours to tell anything apart"
    rest = figure.screenshot()
    root.evaluate("root => { root.querySelector('.fast-frame').hidden = false; }")
    try:
        shown = figure.screenshot()
    finally:
        root.evaluate("root => { root.querySelector('.fast-frame').hidden = true; }")
    a = np.asarray(Image.open(io.BytesIO(rest)).convert("RGB"), dtype=int)
    b = np.asarray(Image.open(io.BytesIO(shown)).convert("RGB"), dtype=int)
    assert a.shape == b.shape and np.array_equal(a, b), (
        f"the canvas over the figure changes {int((np.abs(a - b).max(axis=2) > 0).sum())} pixels")
    return got
