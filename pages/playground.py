"""Addressing playground: move k, β, g, s and γ and watch every stage of eqs. 5–9 change.

Thin page: widgets -> ``ntm.playground`` (state, URL parsing, presets, scenarios; it calls
``ntm.addressing`` / ``ntm.memory``) -> ``ntm.figures``.

Shareable state: every widget's key is its URL query parameter. On first open the page parses
the URL with ``ntm.playground.parse_query`` (bad values are clamped or ignored, with a notice);
after every run it writes ``ntm.playground.to_query`` back, so the address bar always holds the
complete state (edited memory cells travel as ``cell_<row>_<column>``). This is done by hand
rather than with widgets' ``bind="query-params"``, which writes option *labels* into the URL
and misses widgets that first appear through a scenario button.

The whole playground is one ``st.fragment``: moving a slider reruns it, not the app's navigation.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import streamlit as st

from ntm import playground as pg
from ntm.app.navigation import ensure_app_navigation
from ntm.figures.style import offset_labels

PLOTLY_CONFIG = {"displayModeBar": False}


class _QuietDuplicateDefault(logging.Filter):
    """Scenarios, reset and the URL set widgets through ``st.session_state`` while the widgets
    keep their ``value=`` defaults (the documented defaults live in one place,
    ``ntm.playground.DEFAULTS``). Streamlit logs a one-off warning with a stack trace for this
    deliberate pattern; keep the server log clean."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "had its value set via the Session State API" not in record.getMessage()


_policy_log = logging.getLogger("streamlit.elements.lib.policies")
if not any(isinstance(f, _QuietDuplicateDefault) for f in _policy_log.filters):
    _policy_log.addFilter(_QuietDuplicateDefault())


# -- state helpers (callbacks only touch st.session_state) -------------------------------------


def _load_url_once() -> None:
    """When the page opens, read the URL: clamp or ignore bad values, with a notice for each.

    "Opens" means the page's widgets are not in the session: the first visit, or coming back
    from another page (Streamlit forgets a page's widgets when another page runs)."""
    if "N" in st.session_state:
        return
    query = {name: st.query_params.get_all(name) for name in st.query_params}
    settings, notices, given = pg.parse_query(query)
    for name, value in pg.widget_values(settings).items():
        if name in given:
            st.session_state[name] = value
    st.session_state.pg_cells = dict(settings.cells)
    st.session_state.pg_notices = notices
    st.session_state.pg_editor = 0
    st.session_state.pg_scenario = None


def _apply(settings: pg.Settings, scenario: str | None = None) -> None:
    for name, value in pg.widget_values(settings).items():
        st.session_state[name] = value
    st.session_state.pg_cells = dict(settings.cells)
    st.session_state.pg_editor += 1
    st.session_state.pg_scenario = scenario
    st.session_state.pg_notices = []


def _on_scenario(name: str) -> None:
    _apply(pg.SCENARIOS[name].settings(classroom=st.session_state.classroom), name)


def _on_reset() -> None:
    _apply(pg.Settings().updated(classroom=st.session_state.classroom))


def _clear_cells() -> None:
    st.session_state.pg_cells = {}
    st.session_state.pg_editor += 1


def _on_reseed() -> None:
    st.session_state.seed = (st.session_state.seed + 1) % (pg.PARAMS["seed"].hi + 1)
    _clear_cells()


def _on_step(delta: int) -> None:
    steps = st.session_state.steps + delta if delta else 0
    st.session_state.steps = int(min(max(steps, 0), pg.MAX_STEPS))


def _on_key_mode() -> None:
    """Switching to "edit components" starts from the key currently shown."""
    if st.session_state.kmode == "custom":
        for c, v in enumerate(st.session_state.get("pg_last_key", ())):
            st.session_state[pg.key_param(c)] = float(np.clip(round(v, 2), -1.0, 1.0))


def _on_cells_edited(editor_key: str, columns: list[str]) -> None:
    edits = st.session_state[editor_key]["edited_rows"]
    st.session_state.pg_cells = pg.merge_cell_edits(st.session_state.pg_cells, edits, columns)


def _sync_url(settings: pg.Settings) -> None:
    """Make the address bar hold exactly this state (only values that differ from the defaults),
    so a copied link reopens it. Written once per run, and only when it changed."""
    wanted = pg.to_query(settings)
    current = st.query_params.to_dict()
    keep = {k: v for k, v in current.items() if k in pg.STREAMLIT_PARAMS}
    if current != {**wanted, **keep}:
        st.query_params.from_dict({**wanted, **keep})


def _fmt(v: float) -> str:
    return f"{v:g}"


def _chart(fig, name: str) -> None:
    st.plotly_chart(fig, key=f"pg_fig_{name}", config=PLOTLY_CONFIG, theme=None)


def _explain(text: str) -> None:
    if not st.session_state.classroom:
        st.caption(text)


# -- the page ------------------------------------------------------------------------------


@st.fragment
def playground() -> None:
    d = pg.DEFAULTS
    v: dict = {}

    top = st.columns([5, 1.2, 1], vertical_alignment="bottom")
    with top[0]:
        st.title("Addressing playground")
    with top[1]:
        v["classroom"] = st.toggle(
            "Classroom mode",
            value=d["classroom"],
            key="classroom",
            help="Hide the explanations; keep the figures, equations and controls.",
        )
    with top[2]:
        st.button(
            "Reset",
            key="pg_reset",
            icon=":material/restart_alt:",
            on_click=_on_reset,
            width="stretch",
            help="Every control back to its default (keeps classroom mode).",
        )

    if not v["classroom"]:
        st.markdown(
            "A head turns five numbers — key `k`, strength `β`, gate `g`, shift kernel `s`, "
            "sharpening `γ` — into a **weighting** over the memory rows, in four stages "
            "(Graves et al. 2014, eqs. 5–9). Move a control and watch the stages below it "
            "change. The address bar holds every setting: copy it to share this exact state."
        )

    notices = st.session_state.pg_notices
    if notices:
        st.warning(
            "Some values in the link could not be used as given:\n\n"
            + "\n".join(f"- {n}" for n in notices),
            icon=":material/link_off:",
        )
        st.button("Dismiss", key="pg_dismiss", on_click=lambda: notices.clear(), type="tertiary")

    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown("**Scenarios**")
        for name, scenario in pg.SCENARIOS.items():
            st.button(
                scenario.title,
                key=f"pg_scenario_{name}",
                on_click=_on_scenario,
                args=(name,),
                type="primary" if st.session_state.pg_scenario == name else "secondary",
            )
    current = st.session_state.pg_scenario
    if current and not v["classroom"]:
        st.info(
            f"**{pg.SCENARIOS[current].title}.** {pg.SCENARIOS[current].explanation}",
            icon=":material/school:",
        )

    # ---- 1. memory and key ---------------------------------------------------------------
    st.subheader("1 · Memory and key", divider="gray")
    mem_controls, mem_figure, key_controls = st.columns([1.05, 2.6, 1.15], gap="medium")
    with mem_controls:
        v["N"] = st.slider("Rows N", pg.MIN_ROWS, pg.MAX_ROWS, d["N"], key="N")
        v["M"] = st.slider(
            "Columns M",
            pg.MIN_WIDTH,
            pg.MAX_WIDTH,
            d["M"],
            key="M",
            on_change=_clear_cells,
        )
        v["mem"] = st.selectbox(
            "Memory preset",
            list(pg.MEMORY_PRESETS),
            index=list(pg.MEMORY_PRESETS).index(d["mem"]),
            key="mem",
            format_func=pg.MEMORY_PRESETS.get,
            on_change=_clear_cells,
        )
        v["seed"] = st.number_input(
            "Seed",
            0,
            int(pg.PARAMS["seed"].hi),
            d["seed"],
            key="seed",
            on_change=_clear_cells,
        )
        st.button(
            "Re-seed",
            key="pg_reseed",
            icon=":material/casino:",
            on_click=_on_reseed,
            width="stretch",
            help="Next seed: a new random memory and key noise.",
        )
        _explain(
            "Each row stores one thing (a voice, a drink). Rows are the memory locations the "
            "weightings below range over."
        )

    n = int(v["N"])
    with key_controls:
        v["kmode"] = st.radio(
            "Key k",
            list(pg.KEY_MODES),
            index=list(pg.KEY_MODES).index(d["kmode"]),
            key="kmode",
            format_func=pg.KEY_MODES.get,
            on_change=_on_key_mode,
        )
        if v["kmode"] in ("row", "blend"):
            v["krow"] = st.slider("Row i", 0, n - 1, d["krow"], key="krow")
        if v["kmode"] == "blend":
            v["krow2"] = st.slider("Row j", 0, n - 1, d["krow2"], key="krow2")
            v["kmix"] = st.slider(
                "Blend λ (0 = row i, 1 = row j)",
                0.0,
                1.0,
                d["kmix"],
                0.05,
                key="kmix",
            )
        if v["kmode"] != "custom":
            v["noise"] = st.slider(
                "Noise σ",
                0.0,
                1.0,
                d["noise"],
                0.05,
                key="noise",
                help="k = row + σ·ε with ε ~ N(0, 1), seeded by the memory seed.",
            )
        else:
            grid = st.columns(2)
            for c in range(int(v["M"])):
                with grid[c % 2]:
                    name = pg.key_param(c)
                    v[name] = st.slider(f"k[{c}]", -1.0, 1.0, d[name], 0.05, key=name)
        _explain("The controller emits k through tanh, so each component lies in (−1, 1).")

    # ---- 2. the four stages ------------------------------------------------------------------
    # Controls first (the sliders sit above the stage they change), then figures, then text.
    st.subheader("2 · The four addressing stages", divider="gray")
    ctl = st.columns(5, gap="medium")
    with ctl[0]:
        st.markdown("**Previous focus** $w_{t-1}$")
        v["prev"] = st.radio(
            "Start from",
            list(pg.PREVIOUS_MODES),
            index=list(pg.PREVIOUS_MODES).index(d["prev"]),
            key="prev",
            format_func=pg.PREVIOUS_MODES.get,
            horizontal=True,
        )
        if v["prev"] == "onehot":
            v["prow"] = st.slider("Focus row j", 0, n - 1, d["prow"], key="prow")
        v["steps"] = st.number_input(
            "Steps applied t",
            0,
            pg.MAX_STEPS,
            d["steps"],
            key="steps",
            help="w(t−1) is what these settings produce after t steps from the start focus.",
        )
        st.button(
            "Apply again",
            key="pg_apply_again",
            icon=":material/redo:",
            on_click=_on_step,
            args=(1,),
            width="stretch",
            help="Use this step's result w as the next w(t−1): t + 1.",
        )
        st.button(
            "Restart at t = 0",
            key="pg_restart",
            icon=":material/first_page:",
            on_click=_on_step,
            args=(0,),
            width="stretch",
        )
    with ctl[1]:
        st.markdown("**① Content** $w^c$")
        v["beta"] = st.select_slider(
            "Key strength β",
            options=pg.BETA_VALUES,
            value=d["beta"],
            key="beta",
            format_func=_fmt,
            help="β > 0; from the controller through softplus.",
        )
    with ctl[2]:
        st.markdown("**② Interpolation** $w^g$")
        v["g"] = st.slider(
            "Gate g",
            0.0,
            1.0,
            d["g"],
            0.05,
            key="g",
            help="g ∈ (0, 1); from the controller through a sigmoid.",
        )
    with ctl[3]:
        st.markdown("**③ Shift** $\\tilde w$")
        v["R"] = st.slider("Shift range R", 1, pg.MAX_RADIUS, d["R"], key="R")
        radius = int(v["R"])
        kcols = st.columns(1 if radius == 1 else 2)
        for i, offset in enumerate(range(-radius, radius + 1)):
            name = pg.kernel_param(offset)
            label = offset_labels(radius)[i]
            with kcols[i % len(kcols)]:
                v[name] = st.slider(
                    f"s({label})",
                    0.0,
                    1.0,
                    d[name],
                    0.05,
                    key=name,
                    help="Raw weight; the kernel is these weights divided by their sum "
                    "(the controller uses a softmax).",
                )
    with ctl[4]:
        st.markdown("**④ Sharpening** $w$")
        v["gamma"] = st.select_slider(
            "Sharpening γ",
            options=pg.GAMMA_VALUES,
            value=d["gamma"],
            key="gamma",
            format_func=_fmt,
            help="γ ≥ 1; from the controller through 1 + softplus.",
        )

    panels = st.columns(5, gap="medium")

    # ---- 3. read --------------------------------------------------------------------------
    st.subheader("3 · Reading with w", divider="gray")
    read_fig, read_text = st.columns([2.6, 1.4], gap="large")
    with read_text:
        st.latex(r"r = \sum_i w(i)\, M(i)")
        st.caption("eq. 2")
        _explain(
            "The head reads a weighted mix of the rows, not one row: an unfamiliar voice that "
            "sounds like your cousin and a bit like your brother recalls a blend of both. "
            "The bars are r, one per column; above them the rows with the most weight."
        )

    # ---- 4. write -------------------------------------------------------------------------
    st.subheader("4 · Writing with w", divider="gray")
    write_controls, write_fig = st.columns([1.1, 3.4], gap="large")
    with write_controls:
        v["erase"] = st.slider(
            "Erase e (every column)",
            0.0,
            1.0,
            d["erase"],
            0.05,
            key="erase",
            help="e ∈ (0, 1)^M from a sigmoid; here every component is this value.",
        )
        v["add"] = st.selectbox(
            "Add a",
            list(pg.ADD_PRESETS),
            index=list(pg.ADD_PRESETS).index(d["add"]),
            key="add",
            format_func=pg.ADD_PRESETS.get,
            help="a from a tanh.",
        )
        st.latex(r"\tilde M(i) = M(i) \odot \big(1 - w(i)\, e\big)")
        st.latex(r"M'(i) = \tilde M(i) + w(i)\, a")
        st.caption("eqs. 3–4")
        _explain(
            "Writing borrows the LSTM's gates: the erase vector e plays the forget gate, the "
            "add vector a the input gate. Rows change in proportion to their weight w(i)."
        )
    # ---- compute once, then fill the figures in above ------------------------------------
    cells = st.session_state.pg_cells
    settings = pg.clamp(pg.Settings({**d, **v}, tuple(sorted(cells.items()))))
    result = pg.compute(settings)
    figs = pg.build_figures(result)
    st.session_state.pg_last_key = tuple(float(x) for x in result.key)

    live = pg.readouts(result)
    for column, stage in zip(ctl[1:], ("content", "gated", "shifted", "sharpened"), strict=True):
        with column:
            if stage == "shifted":
                if sum(pg.raw_kernel(settings)) <= 0:
                    st.caption("All weights are 0: using the identity kernel s(0) = 1.")
                _chart(figs["kernel"], "kernel")
            st.caption(live[stage])

    for column, stage in zip(panels, result.stages, strict=True):
        with column:
            st.markdown(f"{pg.STAGE_HEADERS[stage]} · {pg.STAGE_EQUATION[stage]}")
            _chart(figs[stage], stage)
            latex = pg.previous_latex(settings) if stage == "previous" else pg.STAGE_LATEX[stage]
            st.latex(r"\small " + latex)
            _explain(pg.STAGE_TEXT[stage])

    # The memory figure shows the key and cos(k, M(i)), so it is drawn once the key is known.
    with mem_figure:
        st.markdown("**Memory M** with the key on top and `cos(k, M(i))` per row")
        _chart(figs["memory"], "memory")
        with st.expander("Edit memory cells", icon=":material/edit:"):
            columns = pg.column_labels(settings)
            labels = pg.row_labels(settings)
            frame = pd.DataFrame(
                result.memory.round(3),
                columns=columns,
                index=[f"{i} {labels[i]}" if labels else str(i) for i in range(n)],
            )
            editor_key = f"pg_cells_editor_{st.session_state.pg_editor}"
            st.data_editor(
                frame,
                key=editor_key,
                on_change=_on_cells_edited,
                args=(editor_key, columns),
                column_config={
                    c: st.column_config.NumberColumn(
                        c,
                        format="%.2f",
                        step=0.01,
                        min_value=-pg.CELL_LIMIT,
                        max_value=pg.CELL_LIMIT,
                    )
                    for c in columns
                },
                height=min(36 * (n + 1) + 3, 420),
            )
            st.button(
                f"Clear edits ({len(settings.cells)})",
                on_click=_clear_cells,
                disabled=not settings.cells,
            )
            _explain("Edited cells are kept in the link as cell_row_column parameters.")
    _sync_url(settings)

    with read_fig:
        _chart(figs["read"], "read")
    with write_fig:
        _chart(figs["write"], "write")


ensure_app_navigation()
_load_url_once()
playground()
