"""Landing page: what a Neural Turing Machine is and what each page of the explorer shows."""

import streamlit as st

st.title("NTM Explorer")
st.markdown(
    "#### See how a Neural Turing Machine decides *where* in its memory to read and write."
)

intro, figure = st.columns([3, 2], gap="large")
with intro:
    st.markdown(
        """
A **Neural Turing Machine** (Graves, Wayne & Danihelka, 2014) is a neural network — the
*controller*, here an LSTM — wired to an external **memory**: a matrix of `N` rows
(*locations*) of `M` numbers each. A row stores one thing, say the features of a voice.

The controller never points at a row directly. Each time step, each of its **heads** emits a
handful of numbers and turns them into a **weighting** `w`: a distribution over the `N` rows
that says how much of each row to read, or how strongly to write into it. Because every step is
smooth, the whole machine trains end to end with gradient descent — and learns small algorithms
such as *copy this sequence*.

The weighting is built in four stages, each one equation of the paper:
"""
    )
    st.markdown(
        """
| stage | what the head emits | what it does |
|---|---|---|
| 1. content | key `k`, strength `β` | compares `k` with every row (cosine similarity) and takes a softmax, sharpened by `β` |
| 2. interpolation | gate `g` | mixes the content focus with last step's focus |
| 3. circular shift | kernel `s` over offsets `−R…+R` | moves (or blurs) the focus up or down the rows |
| 4. sharpening | exponent `γ ≥ 1` | sharpens the blurred focus again |
"""
    )
with figure:
    st.latex(r"w^c_t(i) = \frac{\exp\big(\beta_t K[k_t, M_t(i)]\big)}{\sum_j \exp\big(\beta_t K[k_t, M_t(j)]\big)}")
    st.latex(r"w^g_t = g_t\, w^c_t + (1 - g_t)\, w_{t-1}")
    st.latex(r"\tilde w_t(i) = \sum_{j=0}^{N-1} w^g_t(j)\, s_t(i - j)")
    st.latex(r"w_t(i) = \frac{\tilde w_t(i)^{\gamma_t}}{\sum_j \tilde w_t(j)^{\gamma_t}}")
    st.caption(
        "Eqs. 5, 7, 8 and 9 of the paper. K is the cosine similarity (eq. 6); indices of the "
        "shift are taken modulo N."
    )

st.divider()
st.subheader("What you can do here")
with st.container(border=True):
    st.markdown("##### :material/school: New here? Start with the lesson")
    st.markdown(
        "Ten short steps, from memory rows to a trained model copying 120 vectors. Each step asks "
        "you to predict first, then shows what really happens and why your guess was close or "
        "not. Teachers can share a link (and a QR code) that opens any step."
    )
    st.page_link("pages/lessons.py", label="Start the lesson", icon=":material/arrow_forward:")
cards = st.columns(3, gap="medium")
with cards[0], st.container(border=True):
    st.markdown("##### :material/tune: Addressing playground")
    st.markdown(
        "Move sliders for `k`, `β`, `g`, `s` and `γ` over a small memory and watch every stage "
        "of the weighting change, with the equation and the live numbers beside each heatmap. "
        "Every setting lives in the URL, so a link reproduces a lesson."
    )
    st.page_link("pages/playground.py", label="Open the playground", icon=":material/arrow_forward:")
with cards[1], st.container(border=True):
    st.markdown("##### :material/play_circle: Trained models, step by step")
    st.markdown(
        "Step NTMs really trained on the paper's copy, repeat-copy and associative-recall tasks "
        "through a sequence, forward and back: each head's parameters and stages, the memory, "
        "what is read and written — on CPU or GPU."
    )
    st.page_link("pages/stepper.py", label="Step a trained model", icon=":material/arrow_forward:")
with cards[2], st.container(border=True):
    st.markdown("##### :material/trending_up: Generalisation and live training")
    st.markdown(
        "Train on sequences of up to 20 vectors, test on 120: see the NTM keep copying where an "
        "LSTM without memory falls apart. Or train a small NTM yourself and watch its learning "
        "curve and its read/write weightings sharpen into the copy algorithm."
    )
    st.page_link("pages/generalisation.py", label="Short vs long sequences",
                 icon=":material/arrow_forward:")
    st.page_link("pages/train.py", label="Train one yourself", icon=":material/arrow_forward:")

st.divider()
conv, lib = st.columns(2, gap="large")
with conv:
    st.subheader("Conventions used everywhere")
    st.markdown(
        """
- Memory `M` is `N × M`: rows are **memory locations** (y-axis of every heatmap), columns are
  the components of what a row stores.
- Weightings use one colour scale from 0 to 1; hover a cell for its exact value.
- The shift kernel lists offsets `−R … +R`. Offset **+1** with `s(+1) = 1` moves the focus one
  row **down** (row `i` → row `i + 1`), wrapping round from the last row to the first.
- Controller outputs go through fixed activations: `k` tanh, `β` softplus, `g` sigmoid,
  `s` softmax, `γ` 1 + softplus, erase `e` sigmoid, add `a` tanh.
"""
    )
with lib:
    st.subheader("The library underneath")
    st.markdown(
        "Everything is computed by `ntm/`, a small PyTorch package you can read in one sitting "
        "and use without this app:"
    )
    st.code(
        """import torch, ntm

model = ntm.NTM(ntm.NTMConfig(memory_rows=128, memory_width=20))
x = torch.zeros(41, 1, 9)          # (time, batch, channels)
logits = model(x)                  # (41, 1, 8)
trace = model.trace(x)             # every head's k, β, g, s, γ and stages
ntm.save_model(model, "copy.pt", task="copy")""",
        language="python",
    )
