"""Model Stepper: step a trained NTM through a sequence and watch every head address memory.

Widgets -> ``ntm.stepper`` (runs the model once, packs the trace) -> the trace player.
Model and input live in the URL (``bind="query-params"``). The time cursor lives in the
browser: the trace player (:mod:`ntm.app.trace_player`) gets the whole episode once and steps and
plays it without the server, which only hears where the cursor stopped and writes that to the
URL (``t``), so a link reopens the step.
"""

from pathlib import Path

import numpy as np
import streamlit as st

from ntm import catalogue
from ntm.app import colours
from ntm.app.models import devices, shipped_model, uploaded_model
from ntm.app.navigation import ensure_app_navigation
from ntm.app.query import checked_query
from ntm.app.trace_player import trace_player
from ntm.checkpoint import CheckpointError
from ntm.figures.style import offset_labels
from ntm.plaintext import escape
from ntm.stepper import episode, export, player, url
from ntm.stepper.playback import opening_step
from ntm.tasks import task_of

ensure_app_navigation()
BIND = "query-params"
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
        st.error(f"This file cannot be used: {escape(exc)}", icon=":material/error:")
        st.stop()
elif model_key == "trained":
    model = shipped_model(Path(trained), device)
else:
    model = shipped_model(next(m.path for m in models if m.key == model_key), device)

task = task_of(model)
for warning in catalogue.load_warnings(model):
    st.warning(escape(warning), icon=":material/warning:")
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

# One run per (model, input), kept in this session only, never shared, and packed once for the
# trace player, opening where the link says (or where the cursor last stopped). The payload is
# the same bytes on every rerun: the browser keeps its cursor, and Streamlit sends the element
# by reference.
try:  # bounded work per session: an outsized memory over a long sequence is refused
    catalogue.check_episode_size(model, batch.inputs.shape[0])
except CheckpointError as exc:
    st.error(escape(exc), icon=":material/memory:")
    st.stop()
run_key = (id(model), device, mode, tuple(chosen.items()), batch.inputs.numpy().tobytes())
if st.session_state.get("_episode_key") != run_key:
    with st.spinner("Running the model…"):
        st.session_state["_episode"] = episode.run_episode(model, task, batch)
    st.session_state["_episode_key"] = run_key
ep: episode.Episode = st.session_state["_episode"]
# Packed again for a new episode or a new colour choice (the cursor: where the URL says).
if st.session_state.get("_payload_key") != (run_key, colours.current()):
    st.session_state["_payload"] = player.episode_payload(
        ep, opening_step(st.query_params.get("t"), ep.steps - 1),
        title=labels.get(model_key, model_key), colorscale=colours.scale())
    st.session_state["_payload_key"] = (run_key, colours.current())

# ------------------------------------------------------------------ the player
# Every cursor move happens in the browser; the server hears only where the cursor stopped.
stopped = trace_player(st.session_state["_payload"], ep.steps, key="player")
if stopped is not None:
    st.query_params["t"] = str(stopped)  # a link reopens this step

st.divider()
ex = st.columns([1, 1, 4])
# Exports are built only when clicked (a callable), not on every rerun.
ex[0].download_button("Download trace (.npz)", lambda: export.trace_npz(ep), "ntm_trace.npz",
                      mime="application/octet-stream", icon=":material/download:")
ex[1].download_button("Download trace (.json)", lambda: export.trace_json(ep), "ntm_trace.json",
                      mime="application/json", icon=":material/data_object:")
offsets = ", ".join(offset_labels(model.config.shift_range))
ex[2].caption("Figures: the camera button on any chart saves it as a PNG at the cursor. Offsets "
              f"of the shift kernel are {offsets}; +1 moves the focus one row down.")
