"""Train it yourself: watch an NTM learn to copy, live.

Training runs in a background thread (``ntm.training.live``, the loop of ``python -m
ntm.train``), not in the script run; this page starts, pauses and stops it and polls its
progress from a fragment once a second.
"""

import os
from dataclasses import replace

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ntm.app import colours
from ntm.app.jobs import current_client, run_manager, session_token
from ntm.app.models import devices, shipped_any
from ntm.app.navigation import ensure_app_navigation
from ntm.app.trace_player import trace_player
from ntm.catalogue import MODELS_DIR
from ntm.checkpoint import CheckpointError
from ntm.figures import episode as episode_figures
from ntm.figures import evaluation as evaluation_figures
from ntm.figures.addressing import weighting_heatmap
from ntm.plaintext import escape
from ntm.stepper import player
from ntm.training import clients as C
from ntm.training import live as L
from ntm.training.config import make_task

ensure_app_navigation()
PLOT = {"displaylogo": False}


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "local"


def alive_check(sid: str):
    """A test the worker calls between steps: is the browser session still there?"""
    if not Runtime.exists():
        return lambda: True
    runtime = Runtime.instance()
    return lambda: runtime.is_active_session(sid)


st.title("Train it yourself")
st.caption(
    "Train a small NTM on the copy task and watch it learn: the learning curve falls, the output "
    "on a fixed probe sequence turns from noise into a copy, and the read and write weightings "
    "sharpen into two diagonals: write one row per step, then read the rows back in order."
)

runs = run_manager()  # shared with the Generalisation page's recomputes
owner = session_token()
run = runs.get(st.session_state.get("live_run"), owner)

# ------------------------------------------------------------------ configuration
with st.container(border=True):
    top = st.columns([2.2, 1, 1, 1])
    preset_name = top[0].selectbox("Preset", list(L.PRESETS), key="preset",
                                   disabled=run is not None and not run.finished)
    preset = L.PRESETS[preset_name]
    preset_task = make_task(preset)
    device = top[1].selectbox("Device", devices(), key="train_device")
    seed = top[2].number_input("Seed", 0, 10**6, preset.seed, key="train_seed")
    budget = top[3].number_input("Training budget (s)", 30, 600, int(preset.max_seconds), 30,
                                 key="train_budget")
    with st.expander("Adjust the model and the training", icon=":material/tune:"):
        a = st.columns(4)
        rows = a[0].slider("Memory rows N", 8, 128, preset.memory_rows, key="t_rows")
        width = a[1].slider("Memory width M", 2, 20, preset.memory_width, key="t_width")
        controller = a[2].radio("Controller", ["feedforward", "lstm"], key="t_ctrl", horizontal=True,
                                index=["feedforward", "lstm"].index(preset.controller))
        size = a[3].slider("Controller size", 16, 128, preset.controller_size, 16, key="t_size")
        b = st.columns(4)
        heads = b[0].slider("Read heads", 1, 2, preset.read_heads, key="t_rheads")
        batch = b[1].select_slider("Batch size", [1, 2, 4, 8, 16, 32], preset.batch_size,
                                   key="t_batch")
        lr = b[2].select_slider(f"Learning rate ({preset.optimizer})",
                                [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], preset.lr,
                                format_func=lambda v: f"{v:g}", key="t_lr")
        lengths = b[3].slider("Sequence lengths", 1, 20,
                              (preset_task.min_length, preset_task.max_length), key="t_len")
        if rows < lengths[1] + 2:
            st.warning(f"With {rows} rows the memory is barely larger than the longest sequence "
                       f"({lengths[1]}); the copy algorithm needs one row per vector.")
    with st.expander("Advanced: gate bias, curriculum, learning-rate cut, write penalty",
                     icon=":material/science:"):
        c = st.columns(3)
        gate_bias = c[0].slider(
            "Gate bias", -4.0, 0.0, preset.gate_bias, 0.5, key="t_gate",
            help="Initial bias of every head's interpolation gate g (eq 7). Negative starts the "
                 "heads location-based: g near 0 keeps the previous focus, so a write head walks "
                 "along memory instead of jumping back to a row it wrote before.")
        stages = c[1].slider(
            "Curriculum stages", 0, 4, preset.curriculum, key="t_stages",
            help="0: off. Train on the shortest sequences first, then on growing ranges; the run "
                 "moves on once the held-out errors on the current range fall below the threshold.")
        threshold = c[2].number_input(
            "Curriculum threshold (bit errors / sequence)", 0.0, 10.0,
            preset.curriculum_threshold, 0.1, key="t_threshold", disabled=stages == 0)
        d = st.columns(3)
        cut_below = d[0].number_input(
            "Cut the learning rate below (bit errors / sequence; 0: off)", 0.0, 10.0,
            preset.lr_decay_below, 0.1, key="t_cut_below",
            help="Once the held-out errors fall below this, the learning rate is multiplied by "
                 "the factor, once: smaller steps fine-tune a model that has nearly learned.")
        cut = d[1].select_slider("Learning-rate cut factor", [0.1, 0.3, 0.5], preset.lr_decay,
                                 key="t_cut", disabled=cut_below == 0)
        quiet = d[2].number_input(
            "Answer-phase write penalty (0: off)", 0.0, 1.0, preset.answer_write_penalty, 0.01,
            key="t_quiet",
            help="Adds this weight × (mean erase + mean add²) of the write heads, on the steps "
                 "whose output is scored, to the loss. Copy has nothing to store while it "
                 "answers; 0.01 keeps the write head quiet there, which is what made the shipped "
                 "copy model exact to L = 120.")
config = replace(
    preset, task_params={**preset.task_params, "min_length": lengths[0], "max_length": lengths[1]},
    memory_rows=rows, memory_width=width, controller=controller, controller_size=size,
    read_heads=heads, batch_size=batch, lr=lr, seed=int(seed), device=device,
    max_seconds=float(budget), gate_bias=float(gate_bias), curriculum=stages,
    curriculum_threshold=float(threshold), lr_decay_below=float(cut_below), lr_decay=cut,
    answer_write_penalty=float(quiet),
)
st.caption("The same run from a terminal (every setting that differs from the defaults):")
st.code(config.command(), language="bash", wrap_lines=True)

buttons = st.columns([1, 1, 1, 1, 3])
if buttons[0].button("Start", type="primary", icon=":material/play_arrow:", width="stretch",
                     disabled=run is not None and not run.finished):
    try:
        run = runs.start(owner, config, alive_check(session_id()), client=current_client())
        st.session_state["live_run"] = run.id
        st.session_state.pop("live_checkpoint", None)  # the previous run's files go
        st.rerun()  # redraw the buttons for a running run
    except C.Busy as exc:
        st.error(str(exc), icon=":material/hourglass_top:")
active = run is not None and not run.finished
paused = run is not None and run.status == L.PAUSED
queued = run is not None and run.status == L.QUEUED
if buttons[1].button("Resume" if paused else "Pause", width="stretch",
                     disabled=not active or queued,
                     icon=":material/play_arrow:" if paused else ":material/pause:"):
    if paused:
        run.resume()
    else:
        run.pause()
    st.rerun()
if buttons[2].button("Stop", width="stretch", disabled=not active, icon=":material/stop:"):
    run.stop()
    run.thread.join(timeout=10)
    st.rerun()
if buttons[3].button("Reset", width="stretch", disabled=run is None, icon=":material/restart_alt:"):
    runs.forget(run)
    st.session_state.pop("live_run", None)
    st.session_state.pop("live_checkpoint", None)
    st.rerun()
buttons[4].caption(
    "Your run is yours alone: other tabs and students cannot see or stop it. This server runs "
    f"at most {runs.max_concurrent} heavy jobs at once (training runs and the Generalisation "
    "page's recomputes); more runs wait in a queue. Each browser may have "
    f"{runs.max_per_browser} run training, paused or queued at a time. Pausing gives your slot "
    "to the next in the queue (resuming queues again); a run paused for more than "
    f"{L.duration_words(runs.max_paused)} is stopped, its checkpoint kept.")


def live_view() -> None:
    r = runs.get(st.session_state.get("live_run"), owner)
    if r is None:
        st.info("Pick a preset (or adjust it) and press **Start**. A run of the default preset "
                "converges in about 10 seconds on a laptop.", icon=":material/school:")
        return
    snap = r.snapshot()
    st.caption(f"Slots for heavy work in use on this server: {runs.slots_in_use()} of "
               f"{runs.max_concurrent}; runs waiting: {runs.waiting()}.")
    if snap.status == L.QUEUED:
        where = (f"position {snap.queue_position}" if snap.queue_position
                 else "waiting for a place")
        st.warning(f"Queued: {where}. All training slots are busy; your run starts (or goes on) "
                   "as soon as one is free.", icon=":material/hourglass_top:")
    elif snap.status == L.PAUSED and snap.pause_left is not None:
        st.info(f"{snap.message} If it is not resumed within {snap.pause_left:.0f} s, it is "
                "stopped and its last checkpoint kept.", icon=":material/pause_circle:")
    elif snap.status == L.FAILED:
        st.error(snap.message, icon=":material/error:")
    elif snap.status == L.CONVERGED:
        st.success(snap.message, icon=":material/check_circle:")
    else:
        st.info(snap.message, icon=":material/model_training:")
    fraction = min(1.0, snap.train_seconds / r.config.max_seconds)
    st.progress(fraction, text=f"{snap.train_seconds:.0f} s of {r.config.max_seconds:.0f} s "
                               "training budget")
    m = st.columns(4)
    m[0].metric("Sequences seen", f"{snap.sequences:,}")
    m[1].metric("Sequences / s", f"{snap.rate:.0f}")
    last = snap.curve[-1] if snap.curve else None
    m[2].metric("Held-out bit errors / sequence", f"{last['bit_errors']:.2f}" if last else "–")
    m[3].metric("Held-out cost (bits / sequence)", f"{last['cost']:.2f}" if last else "–")

    if snap.curve:
        left, right = st.columns(2, gap="large")
        left.plotly_chart(evaluation_figures.learning_curves({"NTM (yours)": snap.curve}, log_x=False),
                          config=PLOT, key="live_cost")
        right.plotly_chart(evaluation_figures.learning_curves({"NTM (yours)": snap.curve}, y="bit_errors",
                                              y_title="bit errors per sequence", log_x=False),
                           config=PLOT, key="live_bits")
    probe = L.probe_arrays(snap)
    if probe is not None:
        targets, outputs, wrong, scored = probe
        sizes = ", ".join(f"{k} {v}" for k, v in snap.probe["point"].items())
        st.markdown(f"**The probe sequence** (the same one every time: {sizes}), "
                    f"after {snap.probe['sequences']:,} training sequences")
        p1, p2, p3 = st.columns([1.3, 1, 1], gap="medium")
        p1.plotly_chart(episode_figures.target_output(targets, outputs, wrong, steps=scored), config=PLOT,
                        key="live_probe")
        p2.plotly_chart(weighting_heatmap(snap.probe["write_weights"], title="Write weightings",
                                          x_title="time step", show_values=False,
                                          colorscale=colours.scale()),
                        config=PLOT, key="live_w")
        p3.plotly_chart(weighting_heatmap(snap.probe["read_weights"], title="Read weightings",
                                          x_title="time step", show_values=False,
                                          colorscale=colours.scale()),
                        config=PLOT, key="live_r")
    if snap.checkpoint is not None and snap.checkpoint.is_file():
        st.session_state["live_checkpoint"] = str(snap.checkpoint)
    if r.finished and st.session_state.get("_live_was_active"):
        st.session_state["_live_was_active"] = False
        st.rerun()  # one full run: drop the polling timer, enable Start again


def probe_player(path: str) -> None:
    """The trace player on the probe sequence, with the run's last checkpoint: step through
    your own model (traced and packed once per checkpoint and colour choice)."""
    st.markdown("**Step through your model** on the probe sequence: every head's addressing "
                "stages, the memory and the output at each step, as on the Model stepper page.")
    key = (path, os.path.getmtime(path), colours.current())
    if st.session_state.get("_probe_key") != key:
        try:
            ep = L.probe_episode(path)
        except (CheckpointError, ValueError) as exc:
            st.error(f"Your checkpoint cannot be stepped through: {escape(exc)}",
                     icon=":material/error:")
            return
        payload = player.episode_payload(ep, title="your model", colorscale=colours.scale())
        st.session_state["_probe_player"] = (payload, ep.steps)
        st.session_state["_probe_key"] = key
    payload, steps = st.session_state["_probe_player"]
    trace_player(payload, steps, key="live_player")


if active:
    st.session_state["_live_was_active"] = True
st.fragment(live_view, run_every=1.0 if active else None)()

# ------------------------------------------------------------------ when done
path = st.session_state.get("live_checkpoint")
if run is not None and path:
    st.divider()
    done = st.columns([1, 1, 3])
    if done[0].button("Open in the stepper", icon=":material/play_circle:", width="stretch"):
        st.switch_page("pages/stepper.py", query_params={"model": "trained"})
    with open(path, "rb") as f:
        done[1].download_button("Download the checkpoint", f.read(), f"my_ntm_{run.config.task}.pt",
                                icon=":material/download:", width="stretch")
    done[2].caption("The checkpoint is the last one saved (at the last evaluation). Load it with "
                    "`ntm.load_model(path)`, or upload it on the stepper page later.")
    if run.finished:
        probe_player(path)
    shipped = MODELS_DIR / "copy.pt"
    if shipped.is_file():
        st.markdown("**Your learning curve against the shipped copy model's**")
        curves = {"NTM (yours)": run.snapshot().curve,
                  "NTM (shipped, N = 128, lengths 1–20)": shipped_any(shipped).metadata.get("curve", [])}
        st.plotly_chart(evaluation_figures.learning_curves(curves, y="bit_errors", y_title="bit errors per sequence"),
                        config=PLOT, key="compare")
