"""The lesson itself, as data: ten :class:`Step` values, in order (:data:`STEPS`).

Each step has a few sentences, the panels of its live view, the preset its view starts from,
the controls it shows (only once its questions are answered), and its questions. The truths and
the feedback are computed from the scene (:mod:`ntm.lessons.questions`), so this file holds
words and settings only, plus the one-line functions that say which number a question asks
for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import feedback as fb
from .questions import ChoiceQuestion, MysteryQuestion, NumberQuestion, Question, RowQuestion

#: Everything a scene of steps 2–8 fixes that the playground's defaults would not.
_QUIET = {"kmode": "row", "noise": 0.0, "g": 1.0, "kernel": "stay", "gamma": 1.0,
          "prev": "onehot", "prow": 0, "steps": 0}


@dataclass(frozen=True)
class Step:
    """One step of the lesson."""

    number: int
    slug: str
    title: str
    text: str  #: Markdown; may use ``{name}`` fields of the step's values
    summary: str  #: one line, shown instead of ``text`` in classroom mode
    panels: tuple[str, ...]  #: what the live view draws, in order
    scene: Mapping[str, Any] = field(default_factory=dict)
    controls: tuple[str, ...] = ()
    questions: tuple[Question, ...] = ()
    #: Names for some rows of a random memory ("cousin", "brother").
    row_names: Mapping[int, str] = field(default_factory=dict)
    #: Control labels that say what this step's values mean ("0 = cousin, 1 = brother").
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def needs_model(self) -> bool:
        return "figure6" in self.panels

    @property
    def needs_evaluations(self) -> bool:
        return "errors" in self.panels


def _cell(r: Any) -> dict[str, str]:
    """Row 5, column 0 of step 8's write, as the prompt quotes it."""
    return {"before": fb.signed(r.memory[5, 0]), "w5": f"{r.sharpened[5]:.2f}",
            "e": f"{r.erase[0]:.2f}", "a": fb.signed(r.add[0])}


#: Step 2's people: the rows a voice on the phone may be.
_VOICES = {5: "cousin", 9: "brother"}
_VOICE_LABELS = [_VOICES.get(i, "") for i in range(16)]

#: The tastes step 4 offers, by the taste features that make them.
_TASTES = {"tea": {"leafy", "creamy"}, "coffee": {"roasted"}, "fizzy": {"sweet", "fizzy"}}


def _read_taste(r: Any) -> str:
    """The option whose features are the read vector's two largest components."""
    top = {r.column_labels[c] for c in np.argsort(-r.read, kind="stable")[:2]}
    return max(_TASTES, key=lambda k: len(_TASTES[k] & top))


STEP_1 = Step(
    1, "rows", "Memory is rows",
    "An NTM's memory is a table of **N rows** of **M numbers**. Each row stores one thing: "
    "the features of a voice, or the taste of a drink. Here the 16 rows are drinks and the 6 "
    "columns taste features (roasted, leafy, creamy, sweet, fruity, fizzy). The heads never "
    "point at one row: they spread a **weighting** over all rows, and the next steps show how.",
    "N rows of M numbers; a row stores one thing.",
    ("memory",), {**_QUIET, "mem": "boba", "krow": 1}, ("mem",),
)

STEP_2 = Step(
    2, "similarity", "Reading by similarity",
    "A voice on the phone: you do not know it, but it sounds like your **cousin** (row 5) and "
    "a bit like your **brother** (row 9). The head compares its **key** k (the strip above "
    "the memory) with every row by cosine similarity, then a softmax turns the similarities "
    "into a weighting wᶜ (eqs. 5–6).",
    "Compare the key with every row (cosine); the softmax makes it a weighting.",
    ("memory", "content"),
    {**_QUIET, "mem": "random", "seed": 1, "kmode": "blend", "krow": 5, "krow2": 9,
     "kmix": 0.35, "beta": 10.0},
    ("kmix", "noise"),
    (RowQuestion(
        id="q2", stage="content", hides=("similarity", "content"),
        prompt="Compare the key with the rows: which row will get the most weight in wᶜ?",
        why=lambda r, g: fb.why_content(r.similarity, r.content, r.settings["beta"], g,
                                        _VOICE_LABELS)),),
    row_names=_VOICES,
    labels={"kmix": "Blend λ (0 = cousin, 1 = brother)"},
)

STEP_3 = Step(
    3, "beta", "Key strength β",
    "β multiplies the similarities before the softmax. Small β flattens the weighting, so "
    "similar rows share the weight; large β gives nearly all of it to the best match. Rows "
    "3, 4 and 5 here store almost the same thing, and the key is row 3. Two rows that are "
    "*exactly* the same always tie: no β can tell them apart.",
    "β sharpens or flattens the similarities before the softmax.",
    ("memory", "content"),
    {**_QUIET, "mem": "near", "seed": 0, "krow": 3, "beta": 10.0},
    ("beta",),
    (NumberQuestion(
        id="q3a", row=3, hides=("content",), label="weight of row 3 in wᶜ",
        prompt="With β = {beta}, about how much weight will row 3 get?",
        measure=lambda r: r.content[3],
        how=lambda r: fb.how_content(r.similarity, r.content, r.settings["beta"], 3)),
     MysteryQuestion(
        id="q3b", param="beta", values=(0.5, 10.0, 100.0), answer=100.0, stage="content",
        prompt="Here is wᶜ for the same memory and key with another β. Which β made it?")),
)

STEP_4 = Step(
    4, "blend", "Blends: boba tea",
    "A drink that tastes of tea and feels like milk. The key sits halfway between the **tea** "
    "and **milk** rows, so the weighting splits between them, and the read r = Σ w(i) M(i) "
    "(eq. 2) mixes the two rows: boba tea.",
    "A key between two rows: the weight splits, and the read is a blend.",
    ("memory", "content", "read"),
    {**_QUIET, "mem": "boba", "kmode": "blend", "krow": 1, "krow2": 2, "kmix": 0.5,
     "beta": 20.0},
    ("kmix", "beta"),
    (NumberQuestion(
        id="q4a", row=1, hides=("content", "read"), label="weight of the tea row in wᶜ",
        prompt="With β = {beta}, about how much weight will the **tea** row (row 1) get?",
        measure=lambda r: r.content[1],
        how=lambda r: fb.how_content(r.similarity, r.content, r.settings["beta"], 1,
                                     r.row_labels)),
     ChoiceQuestion(
        id="q4b", hides=("read",), prompt="What will the read vector r taste like?",
        options={"tea": "leafy and creamy (tea + milk)", "coffee": "roasted (coffee)",
                 "fizzy": "sweet and fizzy (cola)"},
        truth=_read_taste,
        evidence=lambda r: fb.evidence_read(r.read, r.column_labels))),
    labels={"kmix": "Blend λ (0 = tea, 1 = milk)"},
)

STEP_5 = Step(
    5, "gate", "Interpolation g",
    "The gate g mixes this step's content focus wᶜ with the focus the head had last step, "
    "w(t−1) (eq. 7): wᵍ = g·wᶜ + (1 − g)·w(t−1). g = 1 jumps to the content match; g = 0 "
    "keeps yesterday's focus, as a friend who texted an hour ago is easier to recall.",
    "g = 1 jumps to the content match, g = 0 keeps the last focus.",
    ("previous", "content", "gated"),
    {**_QUIET, "mem": "random", "seed": 0, "krow": 9, "beta": 30.0, "prow": 2, "g": 0.3},
    ("g", "prow"),
    (NumberQuestion(
        id="q5", row=9, hides=("gated",), label="weight of row 9 in wᵍ",
        prompt="The previous focus is on row {prow}, the content match on row 9. With g = {g}, "
               "about how much weight will row 9 get in wᵍ?",
        measure=lambda r: r.gated[9],
        how=lambda r: fb.how_gated(r.content, r.previous, r.settings["g"], 9)),),
)

STEP_6 = Step(
    6, "shift", "The shift",
    "The shift kernel s moves the focus (eq. 8). In this app offset **+1 moves it one row "
    "down**, and the last row wraps round to row 0: a kernel with all its weight on +3 does "
    "w[i] ← w[i−3]. A kernel spread over several offsets, like 0.3 / 0.5 / 0.2 over −1, 0, "
    "+1, blurs the focus instead. Here g = 0, so the head keeps its previous focus and only "
    "shifts it.",
    "The kernel moves the focus (+1 = one row down) or blurs it.",
    ("gated", "kernel", "shifted"),
    {**_QUIET, "mem": "random", "seed": 0, "krow": 9, "g": 0.0, "prow": 5, "kernel": "p3"},
    ("kernel", "prow"),
    (RowQuestion(
        id="q6a", stage="shifted", hides=("shifted",),
        prompt="The focus is on row {prow} and the kernel is {kernel}. Where will the focus be "
               "after the shift?",
        why=lambda r, g: fb.why_shift(r.gated, r.kernel, r.shifted, g)),
     MysteryQuestion(
        id="q6b", param="kernel", values=("blur", "mirror", "split"), answer="blur",
        stage="shifted",
        prompt="Here is w̃ for the same focus with another kernel (offsets −1, 0, +1). "
               "Which kernel made it?")),
)

STEP_7 = Step(
    7, "sharpen", "Sharpening γ",
    "Shifting with a spread-out kernel blurs the focus. Sharpening raises every weight to "
    "the power γ ≥ 1 and renormalises (eq. 9): the largest weight wins, and the blur is "
    "undone.",
    "γ raises every weight to a power: the largest wins.",
    ("gated", "kernel", "shifted", "sharpened"),
    {**_QUIET, "mem": "random", "seed": 0, "krow": 5, "beta": 50.0, "kernel": "split",
     "gamma": 3.0},
    ("gamma", "kernel"),
    (RowQuestion(
        id="q7a", stage="sharpened", hides=("shifted", "sharpened"),
        prompt="The kernel is {kernel} over offsets −1, 0, +1 and γ = {gamma}. Which row will "
               "hold the most weight after shifting and sharpening?",
        why=lambda r, g: fb.why_sharpen(r.gated, r.kernel, r.shifted, r.sharpened,
                                        r.settings["gamma"])),
     MysteryQuestion(
        id="q7b", param="gamma", values=(1.0, 3.0, 20.0), answer=20.0, stage="sharpened",
        prompt="Here is w sharpened from the same w̃ with another γ. Which γ made it?")),
)

STEP_8 = Step(
    8, "write", "Writing: erase, then add",
    "Writing borrows the LSTM's gates. The **erase** vector e plays the forget gate: each row "
    "keeps 1 − w(i)·e of what it held (eq. 3). The **add** vector a plays the input gate: each "
    "row gains w(i)·a (eq. 4). Rows with no weight do not change.",
    "Erase (forget gate), then add (input gate), in proportion to w.",
    ("write",),
    {**_QUIET, "mem": "random", "seed": 0, "krow": 5, "noise": 0.1, "beta": 8.0,
     "erase": 0.5, "add": "ones"},
    ("erase", "add"),
    (NumberQuestion(
        id="q8", hides=("write",), label="row 5, column 0 after the write", lo=-2.0, hi=2.0,
        prompt="Row 5, column 0 holds {before}. The head writes with w(5) = {w5}, e = {e} and "
               "a = {a} in that column. What will the cell hold after the write?",
        facts=_cell,
        measure=lambda r: r.written[5, 0],
        how=lambda r: fb.how_write(r.memory[5, 0], r.sharpened[5], r.erase[0], r.add[0])),),
)

STEP_9 = Step(
    9, "copy", "The copy algorithm in a trained model",
    "A real NTM, trained to copy sequences of up to 20 vectors, on a sequence of {length}. "
    "This is the paper's Figure 6: inputs, outputs, what each head writes and reads, and "
    "where (time runs left to right). While the input arrives, the write head walks along "
    "memory one row per step. At the delimiter the read head has to find the start again.",
    "The write head walks; at the delimiter the read head jumps back, then walks.",
    ("figure6", "head"),
    {"length": 10, "moment": "jump"},
    ("moment", "length"),
    (RowQuestion(
        id="q9a", stage="read_jump", hides=("read_weights",), rows=128,
        prompt="The write head stored the first vector in row {first}. Where will the read "
               "head focus at the delimiter (step {length})?",
        facts=lambda e: {"first": e.first_row},
        why=lambda e, g: fb.why_jump(e.first_row, e.last_row, e.jump_content_share,
                                     e.stages["read_jump"], e.jump_step, g)),
     ChoiceQuestion(
        id="q9b", hides=("read_weights",),
        prompt="How does the read head get back to the start?",
        options={"content": "by content: it looks up the first vector",
                 "location": "by location: it shifts back one row per step"},
        truth=lambda e: "content" if e.jump_content_share > 0.5 else "location",
        evidence=lambda e: fb.evidence_jump(e.jump_gate, e.jump_content_share, e.jump_step))),
)

STEP_10 = Step(
    10, "generalise", "Generalisation",
    "Both models were trained only on sequences of 1 to 20 vectors, then tested on up to 120. "
    "The NTM learned an algorithm (store row by row, read back row by row) that does not care "
    "how long the sequence is. The LSTM without memory learned the lengths it saw.",
    "The NTM keeps copying at L = 120; the LSTM does not.",
    ("errors",),
    questions=(
        NumberQuestion(
            id="q10a", hides=("errors",), label="LSTM: % of bits wrong at L = 120", lo=0.0,
            hi=100.0, step=1.0, tolerance=10.0, unit="%", digits=1,
            prompt="At L = 120, what % of the bits will the LSTM get wrong? (A coin flip gets "
                   "50%.)",
            measure=lambda s: s.at("LSTM", 120),
            how=lambda s: fb.how_errors("LSTM", s.percent["LSTM"], 120, s.train_max)),
        ChoiceQuestion(
            id="q10b", hides=("errors",), prompt="And the NTM at L = 120?",
            options={"low": "under 1% of bits wrong", "some": "1–20% wrong",
                     "chance": "about 50% wrong"},
            truth=lambda s: ("low" if s.at("NTM", 120) < 1 else "some"
                             if s.at("NTM", 120) < 20 else "chance"),
            evidence=lambda s: fb.evidence_errors("NTM", s.at("NTM", 120), 120))),
)

STEPS: tuple[Step, ...] = (STEP_1, STEP_2, STEP_3, STEP_4, STEP_5, STEP_6, STEP_7, STEP_8,
                           STEP_9, STEP_10)
QUESTIONS: dict[str, tuple[Step, Question]] = {q.id: (s, q) for s in STEPS for q in s.questions}


def step(number: int) -> Step:
    """Step ``number`` (1-based)."""
    return STEPS[number - 1]
