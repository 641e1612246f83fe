"""Generalisation: the NTM trained on copies of up to 20 vectors, tested on up to 120, against
an LSTM without memory (the paper's Figures 3, 4 and 5)."""

import streamlit as st

from ntm import catalogue
from ntm import generalisation as G
from ntm.app import colours
from ntm.app.jobs import current_client, run_manager
from ntm.app.models import shipped_any
from ntm.app.navigation import ensure_app_navigation
from ntm.app.query import checked_query
from ntm.evaluate import points_for
from ntm.figures import episode as episode_figures
from ntm.figures import evaluation as evaluation_figures
from ntm.tasks import task_of
from ntm.training.clients import Busy

ensure_app_navigation()
PLOT = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
LENGTHS = [10, 20, 30, 50, 80, 100, 120]

st.title("Generalisation")
st.caption(
    "Both models below were trained only on sequences of 1 to 20 vectors. Memory lets the NTM "
    "learn an *algorithm* (write each vector to the next row, then read the rows back in order) "
    "that keeps working on longer sequences; the LSTM, without memory, learns to fit the lengths "
    "it saw and falls apart beyond them."
)

available = catalogue.available(catalogue.COPY_MODELS)
if not available:
    st.warning(f"No shipped copy models found in `{catalogue.MODELS_DIR}`. Train them with the "
               "commands in the README, or pick another page.", icon=":material/folder_off:")
    st.stop()
models = {name: shipped_any(p) for name, p in available.items()}
task = task_of(next(iter(models.values())))

# ------------------------------------------------------------------ Figures 4 and 5
st.header("Target and output, length by length")
for notice in checked_query({"gseed": (0, 10**6)}, {}):  # before the bound widget reads it
    st.warning(notice, icon=":material/link_off:")
ctrl = st.columns([1, 2.4, 3])
seed = ctrl[0].number_input("Sequence seed", 0, 10**6, 1, key="gseed", bind="query-params",
                            help="The same random sequence is given to every model.")
lengths = ctrl[1].multiselect("Lengths", LENGTHS, list(G.FIGURE_LENGTHS), key="glengths")
ctrl[2].caption("Top of each pair: the target; bottom: the model's output (white 0, black 1). "
                "Red crosses mark wrong bits. Only the output half of each sequence is drawn.")

cache_key = ("samples", seed, tuple(lengths), tuple(sorted(available)))
if st.session_state.get("_gen_key") != cache_key:
    with st.spinner("Running the models…"):
        st.session_state["_gen_samples"] = {
            (name, n): G.sample(m, task, seed, length=n) for name, m in models.items() for n in lengths
        }
    st.session_state["_gen_key"] = cache_key
samples = st.session_state["_gen_samples"]

for n in sorted(lengths):
    cols = st.columns(len(models), gap="medium")
    for col, name in zip(cols, models, strict=True):
        s = samples[(name, n)]
        where = "within" if n <= task.max_length else "beyond"
        col.plotly_chart(
            episode_figures.target_output(s.targets, s.outputs, s.wrong, times=s.steps,
                             title=f"{name}, length {n} ({where} training): {s.bit_errors} wrong bits"),
            config=PLOT, key=f"to_{name}_{n}",
        )

# ------------------------------------------------------------------ error against length
st.header("Errors against sequence length")
evaluations = {name: catalogue.load_evaluation(p) for name, p in available.items()}
recompute = st.expander("Recompute on fresh sequences", icon=":material/refresh:")
with recompute:
    sequences = st.slider("Sequences per length", 20, 1000, 100, 20, key="gseqs")
    jobs = run_manager()  # the server's slots for heavy work, shared with training runs
    st.caption(
        "Recomputing is heavy work: at 1,000 sequences per length it takes about a minute of "
        f"CPU. It uses one of this server's {jobs.max_concurrent} slots shared with *Train it "
        "yourself* runs (one recompute per browser at a time); when every slot is busy you are "
        "asked to try again later.")
    if st.button("Recompute now", icon=":material/play_arrow:"):
        try:
            job = jobs.acquire_job(current_client(), "recompute")
        except Busy as exc:
            st.warning(str(exc), icon=":material/hourglass_top:")
        else:
            with job:
                bar = st.progress(0.0, text="Starting…")
                points = points_for(task, lengths=LENGTHS)
                total = len(points) * len(models)
                fresh = {}
                for i, (name, m) in enumerate(models.items()):
                    def report(done, _n, point, i=i, name=name):
                        bar.progress((i * len(points) + done) / total,
                                     text=f"{name}: length {point['length']} done")
                    fresh[name] = G.reevaluate(m, points, sequences, report)
                st.session_state["_gen_fresh"] = fresh
                bar.empty()
    if "_gen_fresh" in st.session_state:
        st.caption(f"Showing your recomputed results ({sequences} sequences per length).")
evaluations = st.session_state.get("_gen_fresh", evaluations)
if not any(evaluations.values()):
    st.info("No stored evaluation next to the checkpoints yet: recompute it above.")
else:
    left, right = st.columns(2, gap="large")
    left.plotly_chart(evaluation_figures.error_curve(evaluations, train_max=task.max_length), config=PLOT,
                      key="err_curve")
    right.plotly_chart(evaluation_figures.error_curve(evaluations, y="bits_wrong_pct", y_title="% of bits wrong",
                                      train_max=task.max_length), config=PLOT, key="pct_curve")
    for name, rows in evaluations.items():
        if rows:
            with st.expander(f"{name}: the table", icon=":material/table:"):
                st.dataframe(G.table(rows), hide_index=True)

# ------------------------------------------------------------------ across seeds
seeds, seed_problems = catalogue.load_seeds(catalogue.COPY_SEEDS)
for problem in seed_problems:
    st.warning(f"Seeds file not shown: {problem}", icon=":material/error:")
if seeds:
    st.header("Across seeds: was it a lucky seed?")
    st.caption(
        "A recipe (its commands are below) trained from scratch with several random seeds, "
        f"each scored on {next(iter(seeds.values()))['evaluation']['sequences']:,} fresh "
        "sequences per length. The line is the median over seeds, the band runs from the best seed to "
        "the worst; each model has its own scale. " + "; ".join(
            G.seeds_line(name, doc) for name, doc in seeds.items()) + ".")
    for col, (name, doc) in zip(st.columns(len(seeds), gap="large"), seeds.items(), strict=True):
        col.plotly_chart(evaluation_figures.seed_band({name: doc}, train_max=task.max_length),
                         config=PLOT, key=f"seed_band_{name}")
    st.plotly_chart(evaluation_figures.seed_curves(seeds), config=PLOT, key="seed_curves")
    st.caption("Held-out bit errors per sequence during training, one line per seed.")
    with st.expander("Across seeds: the tables and the commands", icon=":material/table:"):
        for name, doc in seeds.items():
            st.markdown(f"**{name}**: each seed S trained with")
            st.code("\n".join(c + (" --seed S" if k == 0 else "") + " --output seed-S.pt"
                               for k, c in enumerate(doc["recipe"])), language="bash")
            if doc.get("command"):
                st.caption("made, trained and scored by")
                st.code(doc["command"], language="bash")
            st.dataframe(G.seed_table(doc), hide_index=True)

# ------------------------------------------------------------------ learning curves
st.header("Learning curves")
curves = {name: m.metadata.get("curve", []) for name, m in models.items()}
notes = [n for name, m in models.items() if (n := G.fine_tune_note(name, m.metadata))]
st.caption("Held-out cost and bit errors per sequence over the training lengths, measured during "
           "training, against the number of training sequences seen (log scale), as in the "
           "paper's Figure 3." + (" " + "; ".join(notes) + "." if notes else "")
           + (" The seeds' curves above learn from scratch." if notes and seeds else ""))
left, right = st.columns(2, gap="large")
left.plotly_chart(evaluation_figures.learning_curves(curves), config=PLOT, key="lc_cost")
right.plotly_chart(evaluation_figures.learning_curves(curves, y="bit_errors", y_title="bit errors per sequence"),
                   config=PLOT, key="lc_bits")

# ------------------------------------------------------------------ other tasks
shipped = catalogue.available(catalogue.ALL_MODELS)
others = G.other_tasks({name: shipped_any(p) for name, p in shipped.items()}, task)
if others:
    st.header("The other tasks")
    for name, other in others.items():
        rows = catalogue.load_evaluation(shipped[name])
        with st.container(border=True):
            st.subheader(name)
            if rows:
                chart = G.chart_for(other)
                st.caption(chart.caption)
                if chart.kind == "curve":
                    fig = evaluation_figures.error_curve({"NTM": rows}, **chart.options)
                else:
                    fig = evaluation_figures.evaluation_heatmap(rows, **chart.options,
                                                                colorscale=colours.sequential())
                st.plotly_chart(fig, config=PLOT, key=f"{chart.kind}_{name}")
                st.dataframe(G.table(rows), hide_index=True)
            else:
                st.caption("No stored evaluation.")
