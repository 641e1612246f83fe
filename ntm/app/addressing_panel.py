"""The addressing stages computed and drawn in the browser: a Streamlit components-v2 panel.

:func:`addressing_panel` mounts one component (no iframe) that holds the stage controls
(previous focus, ``β``, ``g``, the shift kernel, ``γ``) and draws ``w(t−1)``, ``wᶜ``, ``wᵍ``,
``w̃`` and ``w`` as the heatmap columns of one Plotly figure (Plotly.js from the installed
``plotly`` package, served by this server: :mod:`ntm.app.plotly_js`). Its JavaScript
(``components/addressing.js``) ports :mod:`ntm.addressing` to float64 with the same numerics, so
every input event while a control is dragged restyles the figure in the page without a server
round trip. The server hears from it only when a gesture ends: one message with the new
:class:`StageControls`. Every frame's ``w`` is also shared in the page under the panel's
``channel``, for the live read and write figures (:mod:`ntm.app.live_figures`).

The memory and the key stay on the server and reach the component as data::

    controls = StageControls.from_values(settings.values)
    new = addressing_panel(memory, k, controls, row_labels=labels, key="pg_panel")
    if new != controls:
        settings = settings.updated(**new.as_values())  # then sync the URL

Everything the component needs ships in this package: nothing is loaded from the internet.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import streamlit as st

from ntm.app.plotly_js import asset, component_js
from ntm.figures.style import (
    ARGMAX_COLOR,
    DEFAULT_SCALE,
    GRID_COLOR,
    WEIGHTING_SCALE_WORDS,
    weighting_scale,
)

COMPONENT_NAME = "ntm_addressing_panel"

MAX_RADIUS = 3  #: R; the kernel holds a raw weight for each offset −3 … +3
BETA_MAX = 100.0  #: β slider and field: 0 … 100 (the slider is log-like)
GAMMA_MAX = 50.0  #: γ slider and field: 1 … 50
MAX_STEPS = 64  #: "Apply again" stops here
PREVIOUS_MODES = ("onehot", "uniform")


def kernel_param(offset: int) -> str:
    """URL name of the raw kernel weight at ``offset`` (as the playground): ``s_m1``, ``s_0``,
    ``s_p1`` …"""
    return "s_0" if offset == 0 else f"s_{'m' if offset < 0 else 'p'}{abs(offset)}"


KERNEL_PARAMS = tuple(kernel_param(d) for d in range(-MAX_RADIUS, MAX_RADIUS + 1))


@dataclass(frozen=True)
class StageControls:
    """The stage controls' values: what the panel shows and what it reports on release.

    ``kernel`` holds the raw (unnormalised) slider weights for all seven offsets −3 … +3, so
    changing ``R`` and back keeps them; the kernel used is the ``2R + 1`` middle entries divided
    by their sum (all zero: the identity kernel). ``steps`` is how many times "Apply again" fed
    the result back: ``w(t−1)`` is the start focus after that many passes.
    """

    prev: str = "onehot"  #: start focus: "onehot" (row ``prow``) or "uniform"
    prow: int = 0
    steps: int = 0
    beta: float = 10.0
    g: float = 0.8
    R: int = 1
    kernel: tuple[float, ...] = (0.0, 0.0, 0.0, 1.0, 0.2, 0.0, 0.0)
    gamma: float = 2.0

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> StageControls:
        """From the playground's settings (its URL names: ``prev, prow, steps, beta, g, R,
        s_m3 … s_p3, gamma``); missing names take the defaults."""
        d = cls()
        kernel = tuple(
            float(values.get(name, d.kernel[i])) for i, name in enumerate(KERNEL_PARAMS)
        )
        return cls(
            prev=str(values.get("prev", d.prev)),
            prow=int(values.get("prow", d.prow)),
            steps=int(values.get("steps", d.steps)),
            beta=float(values.get("beta", d.beta)),
            g=float(values.get("g", d.g)),
            R=int(values.get("R", d.R)),
            kernel=kernel,
            gamma=float(values.get("gamma", d.gamma)),
        )

    def as_values(self) -> dict[str, Any]:
        """The playground's names and values (inverse of :meth:`from_values`)."""
        out: dict[str, Any] = {
            "prev": self.prev,
            "prow": self.prow,
            "steps": self.steps,
            "beta": self.beta,
            "g": self.g,
            "R": self.R,
            "gamma": self.gamma,
        }
        out.update(zip(KERNEL_PARAMS, self.kernel, strict=True))
        return out

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["kernel"] = list(self.kernel)
        return out

    def clamped(self, rows: int) -> StageControls:
        """Every value brought into range for a memory of ``rows`` rows (non-numbers and
        non-finite values take the default)."""
        d = StageControls()

        def num(v: Any, default: float, lo: float, hi: float) -> float:
            try:
                x = float(v)
            except (TypeError, ValueError):
                return default
            return min(max(x, lo), hi) if math.isfinite(x) else default

        raw = list(self.kernel) if isinstance(self.kernel, (list, tuple)) else []
        raw += list(d.kernel[len(raw) :])
        max_r = max(1, min(MAX_RADIUS, (rows - 1) // 2))
        return StageControls(
            prev=self.prev if self.prev in PREVIOUS_MODES else d.prev,
            prow=round(num(self.prow, 0, 0, rows - 1)),
            steps=round(num(self.steps, 0, 0, MAX_STEPS)),
            beta=num(self.beta, d.beta, 0.0, BETA_MAX),
            g=num(self.g, d.g, 0.0, 1.0),
            R=round(num(self.R, 1, 1, max_r)),
            kernel=tuple(num(v, d.kernel[i], 0.0, 1.0) for i, v in enumerate(raw[:7])),
            gamma=num(self.gamma, d.gamma, 1.0, GAMMA_MAX),
        )

    @classmethod
    def from_json(cls, value: Any, rows: int) -> StageControls | None:
        """A reported value, validated and clamped; ``None`` for anything unusable."""
        if not isinstance(value, Mapping):
            return None
        d = cls()
        kernel = value.get("kernel", d.kernel)
        if not isinstance(kernel, (list, tuple)):
            kernel = d.kernel
        return cls(
            prev=value.get("prev", d.prev),
            prow=value.get("prow", d.prow),
            steps=value.get("steps", d.steps),
            beta=value.get("beta", d.beta),
            g=value.get("g", d.g),
            R=value.get("R", d.R),
            kernel=tuple(kernel),
            gamma=value.get("gamma", d.gamma),
        ).clamped(rows)


@functools.cache
def _component() -> Callable[..., Any]:
    """Register the component once per process and return its mounting command."""
    return st.components.v2.component(
        COMPONENT_NAME,
        html='<div class="ntm-addressing-panel"></div>',
        css=asset("addressing.css"),
        js=component_js("addressing.js"),
    )


def _matrix(memory: Any) -> np.ndarray:
    if hasattr(memory, "detach"):  # torch.Tensor, without importing torch here
        memory = memory.detach().cpu().numpy()
    return np.asarray(memory, dtype=np.float64)


def memory_token(memory: Any) -> str:
    """A short fingerprint of a memory: the panel and the live figures of one page state carry
    the same one, so a figure never mixes a weighting with another memory's rows."""
    return hashlib.sha1(np.ascontiguousarray(_matrix(memory)).tobytes()).hexdigest()[:16]


STAGES = ("previous", "content", "gated", "shifted", "sharpened")
#: The controls the panel can show (``show_controls``): the previous focus's start mode, its
#: row, "Apply again" / "Restart", the reset link, β, g, the shift kernel (R and its weights, or
#: named kernels) and γ.
CONTROL_NAMES = ("prev", "prow", "steps", "reset", "beta", "g", "kernel", "gamma")


@dataclass(frozen=True)
class Display:
    """What a host shows of the panel, beyond the playground's everything (a lesson step).

    ``stages`` and ``controls``: the stage panels and controls shown (None: all); ``locked``:
    controls shown disabled (a teacher's link fixed them); ``grids``: β or γ stepping through
    these values only; ``kernels``: named kernels ``{"name", "label", "R", "kernel"}`` offered
    as buttons instead of the weight sliders; ``guesses``: ``{"stage", "row", "text"}``, a
    student's guess outlined on its stage with its words; ``reveal``: ``{"id", "stages"}``,
    animate these stages once (a new ``id`` animates again); ``reduce_motion``: never animate;
    ``projector``: larger type and black text (a lesson's projector mode).
    """

    stages: Sequence[str] | None = None
    controls: Sequence[str] | None = None
    locked: Sequence[str] = ()
    grids: Mapping[str, Sequence[float]] | None = None
    kernels: Sequence[Mapping[str, Any]] | None = None
    guesses: Sequence[Mapping[str, Any]] = ()
    reveal: Mapping[str, Any] | None = None
    reduce_motion: bool = False
    projector: bool = False

    def to_json(self) -> dict[str, Any]:
        def names(given: Sequence[str] | None, known: Sequence[str]) -> list[str] | None:
            return None if given is None else [n for n in known if n in given]

        return {
            "show": {"stages": names(self.stages, STAGES),
                     "controls": names(self.controls, CONTROL_NAMES)},
            "locked": names(self.locked, CONTROL_NAMES),
            "grids": {k: [float(v) for v in g] for k, g in (self.grids or {}).items()
                      if k in ("beta", "gamma")},
            "kernels": None if self.kernels is None else [
                {"name": str(k["name"]), "label": str(k["label"]), "R": int(k["R"]),
                 "kernel": [float(v) for v in k["kernel"]]} for k in self.kernels],
            "guesses": [{"stage": str(g["stage"]), "row": int(g["row"]), "text": str(g["text"])}
                        for g in self.guesses],
            "reveal": None if self.reveal is None else {
                "id": str(self.reveal["id"]), "stages": names(self.reveal["stages"], STAGES)},
            "reduceMotion": bool(self.reduce_motion),
            "projector": bool(self.projector),
        }


def panel_data(
    memory: Any,
    k: Any,
    controls: StageControls,
    row_labels: Sequence[str] | None = None,
    channel: str = "addressing",
    texts: Mapping[str, str] | None = None,
    classroom: bool = False,
    revision: int = 0,
    colors: str = DEFAULT_SCALE,
    display: Display | None = None,
) -> dict[str, Any]:
    """What the component receives: plain JSON (floats round-trip exactly). ``colors`` names
    the weighting colour scale (``ntm.figures.style.WEIGHTING_SCALES``), which the component
    draws and whose meaning its legend states; ``display`` what it shows (all by default)."""
    mem = _matrix(memory)
    key = _matrix(k).reshape(-1)
    if mem.ndim != 2 or mem.shape[0] < 3:
        raise ValueError(f"memory must be (N, M) with N >= 3, got shape {mem.shape}")
    if key.shape != (mem.shape[1],):
        raise ValueError(f"key must have M = {mem.shape[1]} entries, got {key.shape}")
    if not (np.isfinite(mem).all() and np.isfinite(key).all()):
        raise ValueError("memory and key must be finite")
    rows = mem.shape[0]
    return {
        "memory": mem.tolist(),
        "key": key.tolist(),
        "rowLabels": None if row_labels is None else [str(x) for x in row_labels][:rows],
        "controls": controls.clamped(rows).to_json(),
        "defaults": StageControls().clamped(rows).to_json(),
        "limits": {"betaMax": BETA_MAX, "gammaMax": GAMMA_MAX, "maxSteps": MAX_STEPS},
        "colorscale": [[float(t), c] for t, c in weighting_scale(colors)],
        "legend": legend_text(colors),
        "argmaxColor": ARGMAX_COLOR,
        "gridColor": GRID_COLOR,
        "channel": channel,
        "token": memory_token(mem),
        "texts": {k: str(v) for k, v in (texts or {}).items() if k in STAGES},
        "classroom": bool(classroom),
        "revision": int(revision),
        **(display or Display()).to_json(),
    }


def legend_text(colors: str = DEFAULT_SCALE) -> str:
    """The panel's legend: what its colours and outline mean."""
    words = WEIGHTING_SCALE_WORDS.get(colors, WEIGHTING_SCALE_WORDS[DEFAULT_SCALE])
    return (f"Colour = weight: {words}; the blue outline marks the largest weight. Hover a cell "
            "for its exact value.")


def addressing_panel(
    memory: Any,
    k: Any,
    controls: StageControls | None = None,
    *,
    row_labels: Sequence[str] | None = None,
    key: str = "addressing_panel",
    channel: str = "addressing",
    texts: Mapping[str, str] | None = None,
    classroom: bool = False,
    revision: int = 0,
    on_release: Callable[[], None] | None = None,
    colors: str = DEFAULT_SCALE,
    display: Display | None = None,
) -> StageControls:
    """Mount the live addressing panel; return the stage controls to use from now on.

    ``memory`` is ``(N, M)`` (numpy, torch or nested lists; N >= 3), ``k`` the key ``(M,)``,
    ``controls`` the values the server holds (defaults if ``None``), ``row_labels`` optional
    names of the rows (shown on hover and in the text alternatives). ``key`` is the Streamlit
    element key: keep it stable so the panel is updated in place, not remounted. ``channel``
    names the live weighting that the figures of :mod:`ntm.app.live_figures` follow.
    ``texts`` replaces a stage's explanation (by stage name, ``**bold**`` allowed);
    ``classroom`` hides the explanations, as the playground's classroom mode does.
    ``revision`` counts the times the server set ``controls`` itself (a reset, a scenario, a
    link): when it changes, the panel takes ``controls`` even if they equal what it was sent
    before. (The run a release causes still sends the controls the panel had before it, as
    they were mounted before the release was read; the panel keeps its own.) ``colors`` names
    the weighting colour scale (``"default"`` or ``"cividis"``). ``display`` shows only some
    stages and controls, locks some, and runs a lesson's reveal (:class:`Display`).

    While a control is dragged the browser recomputes and redraws everything itself and sends
    nothing. When the gesture ends it sends one message; in the script run that message causes
    the released values are returned (validated and clamped) and ``on_release`` (if given) is
    called first, like a widget callback. In every other run ``controls`` comes back unchanged,
    clamped to the memory's size, so a reset or a link on the server always wins.
    """
    controls = controls or StageControls()
    data = panel_data(memory, k, controls, row_labels, channel, texts, classroom, revision,
                      colors, display)
    rows = len(data["memory"])
    result = _component()(
        key=key,
        data=data,
        on_release_change=on_release or (lambda: None),
        width="stretch",
        height="content",
    )
    released = StageControls.from_json(getattr(result, "release", None), rows)
    return released if released is not None else controls.clamped(rows)
