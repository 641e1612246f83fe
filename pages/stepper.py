"""Model Stepper: step a trained NTM through a sequence and watch every head address memory.

Widgets -> ``ntm.stepper`` (runs and reads the trace) -> ``ntm.figures``.
Model, input and cursor live in the URL (``bind="query-params"``), so a link reopens the step.
"""

from pathlib import Path

import numpy as np
import streamlit as st

from ntm import catalogue
from ntm.app.models import devices, shipped_model, uploaded_model
from ntm.app.navigation import ensure_app_navigation
from ntm.app.query import checked_query
from ntm.checkpoint import CheckpointError
from ntm.figures import episode as episode_figures
from ntm.figures.addressing import kernel_bar
from ntm.figures.style import offset_labels
from ntm.stepper import episode, export, narration, url
from ntm.stepper.playback import DEFAULT_SPEED, SPEEDS, Playback
from ntm.tasks import task_of

ensure_app_navigation()
BIND = "query-params"
PLOT = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
LINK_ICON = ":material/link_off:"

st.title("Model stepper")
st.caption(
    "A really trained NTM runs on one sequence; move the time cursor to see what each head "
    "emits, how its four addressing stages turn that into a weighting, and what it reads and "
    "writes. This is the paper's Figure 6, brought to life."
)

# ------------------------------------------------------------------ model
models = catalogue.shipped_models()
trained = st.session_state.get("live_checkpoint")  # from the Train-it-yourself page
choices = [m.key for m in models] + (["trained"] if trained else []) + ["upload"]
labels = ({m.key: m.label for m in models} | {"trained": "the model you trained"}
          | {"upload": "upload a checkpoint…"})
notices = checked_query(  # may fix the URL and rerun, before any bound widget reads it
    url.FIXED_LIMITS | url.any_task_limits(),
    {"model": choices, "device": devices(), "input": list(url.INPUT_MODES)},
)
for notice in notices:
    st.warning(notice, icon=LINK_ICON)
top = st.columns([2.2, 1, 1.3, 1, 1.6])
model_key = top[0].selectbox(
    "Model", choices, key="model", bind=BIND,
    help="Shipped NTMs: " + "; ".join(f"**{k}**: {v}" for k, v in labels.items()),
)
device = top[1].selectbox(
    "Device", devices(), key="device", bind=BIND,
    help="CUDA appears when this server has a GPU; the model is loaded once per device.",
)

if model_key == "upload":
    upload = st.file_uploader(
        "An NTM checkpoint saved by `ntm.save_model` / `python -m ntm.train` (.pt, up to 100 MiB)",
        type=["pt", "pth", "ckpt"], key="upload_file",
    )
    if upload is None:
        st.info("Choose a `.pt` file to step through, or pick a shipped model above.")
        st.stop()
    try:
        model = uploaded_model(upload.getvalue(), upload.name, device)
    except CheckpointError as exc:
        st.error(f"This file cannot be used: {exc}", icon=":material/error:")
        st.stop()
elif model_key == "trained":
    model = shipped_model(Path(trained), device)
else:
    model = shipped_model(next(m.path for m in models if m.key == model_key), device)

task = task_of(model)
# The sizes' ranges and the input modes are the task's, known only now: check the link again.
for notice in checked_query(url.task_limits(task), {"input": url.input_modes(task)},
                            key="_url_task_notices", shown=notices):
    if notice not in notices:
        st.warning(notice, icon=LINK_ICON)
for notice in url.kept_out_of_range(st.session_state, task):
    st.info(notice, icon=":material/straighten:")
card = catalogue.model_card(model)
if not card.learned:
    st.warning(
        f"This model has not learned its task: it still made {card.final_bit_errors:.1f} bit "
        "errors per sequence on held-out data at the end of its training (see its model card in "
        "`assets/models/`). Its heads are shown as they are: a look at addressing that has not "
        "found an algorithm.",
        icon=":material/warning:",
    )
with st.expander(f"Model card: {card.task}", icon=":material/badge:"):
    for col, (label, value) in zip(st.columns(len(card.metrics)), card.metrics.items(),
                                   strict=True):
        col.metric(label, value)
    for line in card.lines:
        st.caption(line)

# ------------------------------------------------------------------ input
sizes = task.stepper_sizes()
mode = top[2].segmented_control(
    "Input", url.input_modes(task), default="random", key="input", bind=BIND,
) or "random"
chosen = {}
if mode == "random":
    seed = top[3].number_input("Seed", 0, 10**6, 1, key="seed", bind=BIND)
    size_cols = top[4].columns(len(sizes))
    for col, (name, (lo, hi, default)) in zip(size_cols, sizes.items(), strict=True):
        chosen[name] = col.number_input(name.capitalize(), lo, hi, default, key=name, bind=BIND)
    batch = episode.random_batch(task, seed, **chosen)
else:
    st.caption(f"Type the input sequence: one row per time step, {task.bits} bits per row "
               "(0 or 1).")
    default = (np.random.default_rng(0).random((6, task.bits)) > 0.5).astype(int)
    edited = st.data_editor(
        default, key="typed_bits", num_rows="dynamic", width="content",
        column_config={i: st.column_config.NumberColumn(f"bit {i}", min_value=0, max_value=1,
                                                         step=1) for i in range(task.bits)},
    )
    bits = np.nan_to_num(np.asarray(edited, dtype=float))
    if bits.shape[0] == 0:
        st.warning("Add at least one row of bits.")
        st.stop()
    batch = episode.typed_batch(task, bits)

if beyond := episode.beyond_training(task, chosen):
    st.info(f"{', '.join(beyond)} is beyond the training range: a test of generalisation.",
            icon=":material/trending_up:")

# One run per (model, input): kept in this session only, never shared.
run_key = (id(model), device, mode, tuple(chosen.items()), batch.inputs.numpy().tobytes())
if st.session_state.get("_episode_key") != run_key:
    with st.spinner("Running the model…"):
        st.session_state["_episode"] = episode.run_episode(model, task, batch)
    st.session_state["_episode_key"] = run_key
ep: episode.Episode = st.session_state["_episode"]
last = ep.steps - 1

# ------------------------------------------------------------------ cursor
playback = Playback(st.session_state, last)
playback.start(st.query_params.get("t"))


def head_block(kind: str, head, t: int, h: int, rows: list[int]) -> None:
    """Parameters and addressing stages of one head at step t."""
    st.markdown(f"**{kind.capitalize()} head {h}**")
    m = st.columns(3)
    m[0].metric("β key strength", f"{head.beta[t, 0, h]:.2f}", help="softplus: β > 0")
    m[1].metric("g gate", f"{head.gate[t, 0, h]:.2f}", help="sigmoid: 1 = content, 0 = previous focus")
    m[2].metric("γ sharpening", f"{head.gamma[t, 0, h]:.2f}", help="1 + softplus: γ ≥ 1")
    st.plotly_chart(
        episode_figures.stage_panel(head.previous[t, 0, h], head.content[t, 0, h], head.gated[t, 0, h],
                       head.shifted[t, 0, h], head.weights[t, 0, h], rows=rows),
        config=PLOT, key=f"stages_{kind}_{h}",
    )
    k1, k2 = st.columns([2, 1])
    k1.plotly_chart(episode_figures.vector_bars(head.key[t, 0, h], title="key k (tanh)"), config=PLOT,
                    key=f"key_{kind}_{h}")
    k2.plotly_chart(kernel_bar(head.shift[t, 0, h], title="shift s (softmax)"), config=PLOT,
                    key=f"shift_{kind}_{h}")
    if head.erase is not None:
        e1, e2 = st.columns(2)
        e1.plotly_chart(episode_figures.vector_bars(head.erase[t, 0, h], title="erase e (sigmoid)",
                                       value_range=(0, 1), color="#9970ab"),
                        config=PLOT, key=f"erase_{h}")
        e2.plotly_chart(episode_figures.vector_bars(head.add[t, 0, h], title="add a (tanh)"), config=PLOT,
                        key=f"add_{h}")


def cursor_bar() -> int:
    """Step buttons, play / pause, speed and the time slider; returns the step to show."""
    bar = st.columns([1, 1, 1, 1, 1.15, 1.7, 3.6], vertical_alignment="center")
    bar[0].button("First", icon=":material/first_page:", on_click=playback.move, kwargs={"to": 0},
                  help="go to step 0", width="stretch")
    bar[1].button("Back", icon=":material/chevron_left:", on_click=playback.move, args=(-1,),
                  help="one step back", width="stretch")
    bar[2].button("Next", icon=":material/chevron_right:", on_click=playback.move, args=(1,),
                  help="one step forward", width="stretch")
    bar[3].button("Last", icon=":material/last_page:", on_click=playback.move,
                  kwargs={"to": last}, help="go to the last step", width="stretch")
    playing = playback.playing
    if bar[4].button("Pause" if playing else "Play", type="primary", width="stretch",
                     icon=":material/pause:" if playing else ":material/play_arrow:",
                     on_click=playback.toggle, key="play"):
        st.rerun()  # re-register the fragment with (or without) its timer
    bar[5].selectbox("Speed", list(SPEEDS), index=list(SPEEDS).index(DEFAULT_SPEED), key="speed",
                     label_visibility="collapsed")
    bar[6].slider("Time step", 0, last, key="t", bind=BIND, label_visibility="collapsed")
    return playback.t


def overview(t: int) -> None:
    """The whole episode with the cursor, beside the narration and this step's bits."""
    tr = ep.trace
    left, right = st.columns([3, 1.15], gap="medium")
    with left:
        st.plotly_chart(
            episode_figures.episode_grid(ep.inputs, ep.outputs, tr.write.add[:, 0, 0], tr.reads[:, 0, 0],
                            tr.write.weights[:, 0, 0], tr.read.weights[:, 0, 0], cursor=t,
                            rows=ep.grid_rows()),
            config=PLOT, key="grid",
        )
    with right:
        st.markdown("**What the model does here**")
        for i, (sentence, step) in enumerate(narration.describe_episode(ep)):
            st.markdown(sentence)
            if step is not None:
                st.button(f"Go to step {step}", key=f"goto_{i}", on_click=playback.move,
                          kwargs={"to": step})
        st.divider()
        st.markdown("**At this step**")
        st.markdown(ep.step_text(t))
        st.caption(f"{ep.bit_errors} bit errors on the whole sequence, cost {ep.cost_bits:.2f} bits.")


def heads_and_memory(t: int) -> None:
    """Each head's addressing at step t, the memory write, the reads, and target vs output."""
    tr = ep.trace
    rows = ep.head_rows()
    n = tr.memory.shape[2]
    zoom = f"rows {rows[0]}…{rows[-1]} of 0…{n - 1}" if len(rows) < n else f"all {n} rows"
    st.caption(f"Below, memory is shown zoomed to the rows the heads use over the episode ({zoom}); "
               "hover any cell for its exact value. Outlined: the largest weight of each stage.")
    heads = st.columns(2, gap="large")
    with heads[0]:
        for h in range(tr.write.weights.shape[2]):
            head_block("write", tr.write, t, h, rows)
    with heads[1]:
        for h in range(tr.read.weights.shape[2]):
            head_block("read", tr.read, t, h, rows)

    written = int(tr.write.weights[t, 0, 0].argmax())
    mem_col, read_col = st.columns([2, 1], gap="large")
    mem_col.plotly_chart(
        episode_figures.memory_change(tr.memory_before(t)[0], tr.memory[t, 0], mark_rows=[written],
                         rows=rows),
        config=PLOT, key="memory",
    )
    mem_col.caption(f"Outlined: row {written}, where the write head's weight is largest at this "
                    "step. The change is drawn on its own colour scale, so gentle writes show too.")
    with read_col:
        for h in range(tr.reads.shape[2]):
            st.plotly_chart(episode_figures.vector_bars(tr.reads[t, 0, h], title=f"read vector r (head {h})"),
                            config=PLOT, key=f"read_{h}")
        st.latex(r"r_t = \sum_i w_t(i)\, M_{t-1}(i)")
        st.caption("Reads use the memory as the step found it; the write happens after.")

    st.plotly_chart(
        episode_figures.target_output(ep.targets, ep.outputs, ep.wrong, steps=np.flatnonzero(ep.scored),
                         cursor=t, title="Target and output on the scored steps"),
        config=PLOT, key="target_output",
    )


def stepper_view() -> None:
    if playback.tick():
        st.rerun()  # a full run re-registers this fragment with (or without) the play timer
    t = cursor_bar()
    st.markdown(f"#### t = {t} of {last} · {ep.phase(t)}")
    overview(t)
    heads_and_memory(t)


st.fragment(stepper_view, run_every=playback.interval())()

st.divider()
ex = st.columns([1, 1, 4])
# Exports are built only when clicked (a callable), not on every rerun.
ex[0].download_button("Download trace (.npz)", lambda: export.trace_npz(ep), "ntm_trace.npz",
                      mime="application/octet-stream", icon=":material/download:")
ex[1].download_button("Download trace (.json)", lambda: export.trace_json(ep), "ntm_trace.json",
                      mime="application/json", icon=":material/data_object:")
ex[2].caption("Figures: use the camera button on any chart for a PNG. Offsets of the shift "
              f"kernel are {', '.join(offset_labels(model.config.shift_range))}; +1 moves the "
              "focus one row down.")
