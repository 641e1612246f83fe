"""The playground's words: stage titles, equations and explanations, the notes beside each
section, and the one-click teaching scenarios (:data:`SCENARIOS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .inputs import MILK_ROW, TEA_ROW
from .settings import DEFAULTS, MAX_RADIUS, Settings, clamp, kernel_param

#: Markdown (with inline LaTeX) headers of the stage panels.
STAGE_HEADERS = {
    "previous": "$w_{t-1}$ **previous**",
    "content": "$w^c$ **content**",
    "gated": "$w^g$ **gated**",
    "shifted": r"$\tilde w$ **shifted**",
    "sharpened": "$w$ **sharpened**",
}

STAGE_LATEX = {
    "previous": r"w_{t-1}",
    "content": r"w^c(i) = \frac{e^{\beta K[k, M(i)]}}{\sum_j e^{\beta K[k, M(j)]}}",
    "gated": r"w^g = g\, w^c + (1 - g)\, w_{t-1}",
    "shifted": r"\tilde w(i) = \sum_{j} w^g(j)\, s(i - j)",
    "sharpened": r"w(i) = \frac{\tilde w(i)^{\gamma}}{\sum_j \tilde w(j)^{\gamma}}",
}

STAGE_EQUATION = {
    "previous": "input",
    "content": "eqs. 5–6",
    "gated": "eq. 7",
    "shifted": "eq. 8",
    "sharpened": "eq. 9",
}

STAGE_TEXT = {
    "previous": "The focus the head ended the last step with. Start from one row or from "
    "uniform; **apply again** feeds this step's result back in.",
    "content": "Compare the key with every row (cosine K) and take a softmax. Large β "
    "concentrates the weight on the best match; β near 0 spreads it evenly.",
    "gated": "Mix the content focus with the previous one. g = 1 is pure content, "
    "g = 0 ignores the key and keeps the previous focus.",
    "shifted": "Move the focus by a circular convolution with s. Offset +1 moves weight "
    "from row i to row i + 1, one row **down**; the last row wraps to row 0. "
    "Spreading s over several offsets blurs the focus.",
    "sharpened": "Raise every weight to the power γ ≥ 1 and renormalise: the largest "
    "weights win, undoing the shift's blur. This w is used to read and write.",
}


def previous_latex(settings: Settings) -> str:
    """The equation under the ``w_{t-1}`` panel, for the chosen start focus and step count."""
    if int(settings["steps"]) > 0:
        steps = int(settings["steps"])
        return r"w_{t-1} = w \text{ after } t = " + str(steps) + r" \text{ steps}"
    if settings["prev"] == "uniform":
        return r"w_{t-1}(i) = 1 / N"
    return r"w_{t-1}(i) = [\, i = " + str(int(settings["prow"])) + r" \,]"


INTRO = (
    "A head turns five numbers — key `k`, strength `β`, gate `g`, shift kernel `s`, "
    "sharpening `γ` — into a **weighting** over the memory rows, in four stages "
    "(Graves et al. 2014, eqs. 5–9). Move a control and watch the stages below it "
    "change. The address bar holds every setting: copy it to share this exact state."
)

READ_LATEX = r"r = \sum_i w(i)\, M(i)"
WRITE_LATEX = (
    r"\tilde M(i) = M(i) \odot \big(1 - w(i)\, e\big)",
    r"M'(i) = \tilde M(i) + w(i)\, a",
)

#: The explanations beside each section (hidden in classroom mode).
NOTES = {
    "memory": "Each row stores one thing (a voice, a drink). Rows are the memory locations the "
    "weightings below range over.",
    "key": "The controller emits k through tanh, so each component lies in (−1, 1).",
    "stages": "Each column is one stage of the head's addressing, left to right; the control "
    "above a column changes it and every stage after it. The stages are computed exactly in your "
    "browser (the same numerics as the library) while you drag; the link saves the values when "
    "you let go.",
    "read": "The head reads a weighted mix of the rows, not one row: an unfamiliar voice that "
    "sounds like your cousin and a bit like your brother recalls a blend of both. "
    "The bars are r, one per column; above them the rows with the most weight.",
    "write": "Writing borrows the LSTM's gates: the erase vector e plays the forget gate, the "
    "add vector a the input gate. Rows change in proportion to their weight w(i).",
    "cells": "Edited cells are kept in the link as cell_row_column parameters.",
}


@dataclass(frozen=True)
class Scenario:
    """A one-click lesson: the defaults with ``changes`` applied (classroom mode is kept)."""

    title: str
    explanation: str
    changes: Mapping[str, Any]

    def settings(self, classroom: bool = False) -> Settings:
        """The documented values: defaults, this scenario's changes, no edited cells."""
        values = {**DEFAULTS, "classroom": classroom, **self.changes}
        # Kernel weights the scenario does not mention are 0 (not the default kernel).
        if any(k.startswith("s_") for k in self.changes):
            for d in range(-MAX_RADIUS, MAX_RADIUS + 1):
                values[kernel_param(d)] = self.changes.get(kernel_param(d), 0.0)
        return clamp(Settings(values))


def _kernel(*weights: float) -> dict[str, float]:
    """Kernel changes for weights over offsets ``-R .. +R`` (R from the number of weights)."""
    r = (len(weights) - 1) // 2
    return {"R": r, **{kernel_param(d): w for d, w in zip(range(-r, r + 1), weights, strict=True)}}


SCENARIOS: dict[str, Scenario] = {
    "lookup": Scenario(
        "Content lookup",
        "The key is a noisy copy of row 5. Content addressing finds it: w^c peaks at row 5. "
        "With g = 1, the identity kernel and γ = 1 the later stages pass it through, so the "
        "head reads (mostly) row 5. Try lowering β.",
        {
            "mem": "random",
            "kmode": "row",
            "krow": 5,
            "noise": 0.2,
            "beta": 20.0,
            "g": 1.0,
            **_kernel(0.0, 1.0, 0.0),
            "gamma": 1.0,
        },
    ),
    "next_row": Scenario(
        "Content + shift +1",
        "Find row 5 by content, then s(+1) = 1 moves the focus one row down to row 6. "
        "This is what the copy task learns: locate the start once, then step to the next row "
        "every time step.",
        {
            "mem": "random",
            "kmode": "row",
            "krow": 5,
            "noise": 0.1,
            "beta": 30.0,
            "g": 1.0,
            **_kernel(0.0, 0.0, 1.0),
            "gamma": 1.0,
        },
    ),
    "keep_shift": Scenario(
        "Keep focus, shift",
        "g = 0 ignores the key and keeps the previous focus (row 2); s(+1) = 1 moves it to "
        "row 3. Press “apply again” to walk down the memory one row per step — "
        "location-based addressing, like a tape head.",
        {"g": 0.0, "prev": "onehot", "prow": 2, "steps": 0, **_kernel(0.0, 0.0, 1.0), "gamma": 1.0},
    ),
    "blur_sharpen": Scenario(
        "Blur, then sharpen",
        "A wide kernel over offsets −3…+3 smears the content focus over seven rows (w̃). "
        "γ = 10 raises every weight to the 10th power and renormalises: the peak wins again.",
        {
            "kmode": "row",
            "krow": 5,
            "noise": 0.1,
            "beta": 50.0,
            "g": 1.0,
            **_kernel(0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25),
            "gamma": 10.0,
        },
    ),
    "blog_kernel": Scenario(
        "Kernel .3 / .5 / .2",
        "The classic example kernel: over offsets −1, 0, +1 it sends 30 % of the weight one "
        "row up, keeps 50 % in place and moves 20 % one row down. With γ = 1 nothing "
        "sharpens it back.",
        {
            "kmode": "row",
            "krow": 5,
            "noise": 0.1,
            "beta": 50.0,
            "g": 1.0,
            **_kernel(0.3, 0.5, 0.2),
            "gamma": 1.0,
        },
    ),
    "tie": Scenario(
        "Tie broken by β",
        "Rows 3, 4 and 5 store nearly the same thing and the key is row 3. With a small β "
        "they share the weight almost equally; here β = 100 lets the slightly better match, "
        "row 3, win. Drag β down to 5 to see the tie.",
        {
            "mem": "near",
            "kmode": "row",
            "krow": 3,
            "noise": 0.0,
            "beta": 100.0,
            "g": 1.0,
            **_kernel(0.0, 1.0, 0.0),
            "gamma": 1.0,
        },
    ),
    "boba": Scenario(
        "Boba tea blend",
        "A drink that tastes of tea and feels like milk: the key is halfway between the "
        "“tea” and “milk” rows. Content addressing splits the weight between them, and "
        "the read vector is their blend — boba tea.",
        {
            "mem": "boba",
            "kmode": "blend",
            "krow": TEA_ROW,
            "krow2": MILK_ROW,
            "kmix": 0.5,
            "noise": 0.0,
            "beta": 20.0,
            "g": 1.0,
            **_kernel(0.0, 1.0, 0.0),
            "gamma": 1.0,
        },
    ),
}
