"""Addressing playground: move k, β, g, s and γ and watch every stage of eqs. 5–9 change.

Thin page: widgets -> ``ntm.playground`` (settings schema, URL, inputs, compute, words; it calls
``ntm.addressing`` / ``ntm.memory``) -> figures. The memory and key section is Streamlit widgets,
each built from its entry in ``ntm.playground.PARAMS`` by :func:`_widget`. The four addressing
stages are one in-browser component, ``ntm.app.addressing_panel``: it holds the stage controls
and computes and draws ``w(t−1)``, ``wᶜ``, ``wᵍ``, ``w̃`` and ``w`` in the browser while a control
is dragged, and reports the new values once, on release. The read and write figures further down
follow its live ``w`` in the browser too (``ntm.app.live_figures``, which also draws the memory
figure, so that the page loads one Plotly.js: the ``plotly`` package's).

Shareable state: the memory and key widgets' keys are their URL query parameters, and the stage
controls live in ``st.session_state.pg_stage``. On first open the page parses the URL with
``ntm.playground.parse_query`` (bad values are clamped or ignored, with a notice); after every
run -- a released stage control included -- it writes ``ntm.playground.to_query`` back, so the
address bar always holds the complete state (edited memory cells travel as
``cell_<row>_<column>``). This is done by hand rather than with widgets' ``bind="query-params"``,
which writes option *labels* into the URL and misses widgets that first appear through a
scenario button.

The whole playground is one ``st.fragment``: a widget or a released stage control reruns it, not
the app's navigation.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from ntm import playground as pg
from ntm.app import colours
from ntm.app.addressing_panel import StageControls, addressing_panel
from ntm.app.live_figures import live_read_figure, live_write_figure, plotly_figure
from ntm.app.navigation import ensure_app_navigation
from ntm.figures.playground import memory_figure

#: The addressing panel and the read and write figures share its live weighting on this channel.
CHANNEL = "playground"


class _QuietDuplicateDefault(logging.Filter):
    """Scenarios, reset and the URL set widgets through ``st.session_state`` while the widgets
    keep their ``value=`` defaults (the documented defaults live in one place,
    ``ntm.playground.PARAMS``). Streamlit logs a one-off warning with a stack trace for this
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
    for name, value in pg.widget_values(settings, stage=False).items():
        if name in given:
            st.session_state[name] = value
    _set_stage(StageControls.from_values(settings.values))
    st.session_state.pg_cells = dict(settings.cells)
    st.session_state.pg_notices = notices
    st.session_state.pg_editor = 0
    st.session_state.pg_scenario = None


def _set_stage(controls: StageControls) -> None:
    """The server sets the stage controls itself (a link, a scenario, a reset): the panel takes
    them, whatever it shows (a new revision)."""
    st.session_state.pg_stage = controls
    st.session_state.pg_stage_revision = st.session_state.get("pg_stage_revision", 0) + 1


def _apply(settings: pg.Settings, scenario: str | None = None) -> None:
    for name, value in pg.widget_values(settings, stage=False).items():
        st.session_state[name] = value
    _set_stage(StageControls.from_values(settings.values))
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
    wanted = {**pg.to_query(settings), **colours.query()}
    current = st.query_params.to_dict()
    keep = {k: v for k, v in current.items() if k in pg.STREAMLIT_PARAMS}
    if current != {**wanted, **keep}:
        st.query_params.from_dict({**wanted, **keep})


# -- small pieces ------------------------------------------------------------------------------


def _fmt(v: float) -> str:
    return f"{v:g}"


def _widget(v: dict[str, Any], name: str, **extra: Any) -> Any:
    """The widget of setting ``name`` as ``pg.PARAMS`` describes it; its value goes into ``v``.

    A row index's slider ends at the last row of the memory drawn above it (``v["N"]``)."""
    p = pg.PARAMS[name]
    args = {"key": name, "help": p.help, **extra}
    if p.kind == "bool":
        value = st.toggle(p.label, value=p.default, **args)
    elif p.kind == "choice":
        make = st.radio if p.widget == "radio" else st.selectbox
        value = make(p.label, p.choices, index=p.choices.index(p.default),
                     format_func=p.names.get, **args)
    elif p.kind == "grid":
        value = st.select_slider(p.label, options=p.choices, value=p.default, format_func=_fmt,
                                 **args)
    else:
        make = st.number_input if p.widget == "number" else st.slider
        lo, hi = p.lo, p.upper(int(v.get("N", pg.DEFAULTS["N"])))
        if p.kind == "int":
            lo, hi = int(lo), int(hi)
        value = make(p.label, lo, hi, p.default, p.step, **args)
    v[name] = value
    return value


def _button(label: str, key: str, icon: str, on_click, *args: Any, help: str | None = None,
            disabled: bool = False) -> None:
    st.button(label, key=key, icon=icon, on_click=on_click, args=args, width="stretch",
              help=help, disabled=disabled)


def _explain(text: str) -> None:
    if not st.session_state.classroom:
        st.caption(text)


# -- the page's sections ---------------------------------------------------------------------


def _header(v: dict[str, Any]) -> None:
    """Title, classroom mode, reset, the link's notices and the scenario buttons."""
    top = st.columns([5, 1.2, 1], vertical_alignment="bottom")
    top[0].title("Addressing playground")
    with top[1]:
        _widget(v, "classroom")
    with top[2]:
        _button("Reset", "pg_reset", ":material/restart_alt:", _on_reset,
                help="Every control back to its default (keeps classroom mode).")
    if not v["classroom"]:
        st.markdown(pg.INTRO)
    notices = st.session_state.pg_notices
    if notices:
        st.warning("Some values in the link could not be used as given:\n\n"
                   + "\n".join(f"- {n}" for n in notices), icon=":material/link_off:")
        st.button("Dismiss", key="pg_dismiss", on_click=notices.clear, type="tertiary")
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown("**Scenarios**")
        for name, scenario in pg.SCENARIOS.items():
            chosen = st.session_state.pg_scenario == name
            st.button(scenario.title, key=f"pg_scenario_{name}", on_click=_on_scenario,
                      args=(name,), type="primary" if chosen else "secondary")
    current = st.session_state.pg_scenario
    if current and not v["classroom"]:
        scenario = pg.SCENARIOS[current]
        st.info(f"**{scenario.title}.** {scenario.explanation}", icon=":material/school:")


def _memory_controls(v: dict[str, Any]) -> None:
    _widget(v, "N")
    _widget(v, "M", on_change=_clear_cells)
    _widget(v, "mem", on_change=_clear_cells)
    _widget(v, "seed", on_change=_clear_cells)
    _button("Re-seed", "pg_reseed", ":material/casino:", _on_reseed,
            help="Next seed: a new random memory and key noise.")
    _explain(pg.NOTES["memory"])


def _key_controls(v: dict[str, Any]) -> None:
    mode = _widget(v, "kmode", on_change=_on_key_mode)
    if mode in ("row", "blend"):
        _widget(v, "krow")
    if mode == "blend":
        _widget(v, "krow2")
        _widget(v, "kmix")
    if mode != "custom":
        _widget(v, "noise")
    else:
        grid = st.columns(2)
        for c in range(int(v["M"])):
            with grid[c % 2]:
                _widget(v, pg.key_param(c))
    _explain(pg.NOTES["key"])


def _read_text() -> None:
    st.latex(pg.READ_LATEX)
    st.caption("eq. 2")
    _explain(pg.NOTES["read"])


def _write_controls(v: dict[str, Any]) -> None:
    _widget(v, "erase")
    _widget(v, "add")
    for latex in pg.WRITE_LATEX:
        st.latex(latex)
    st.caption("eqs. 3–4")
    _explain(pg.NOTES["write"])


def _stage_panel(v: dict[str, Any]) -> StageControls:
    """The four addressing stages, computed and drawn in the browser (the memory and key go to
    it as data). Returns the stage controls to use: the released values in the run a release
    caused (the panel was given the session's, which it already shows), else the session's."""
    cells = tuple(sorted(st.session_state.pg_cells.items()))
    settings = pg.Settings({**pg.DEFAULTS, **v}, cells).updated()
    memory = pg.build_memory(settings)
    controls = addressing_panel(
        memory, pg.build_key(settings, memory), st.session_state.pg_stage,
        row_labels=pg.row_labels(settings), key="pg_panel", channel=CHANNEL,
        texts=pg.STAGE_TEXT, classroom=v["classroom"],
        revision=st.session_state.pg_stage_revision, colors=colours.current(),
    )
    st.session_state.pg_stage = controls
    return controls


def _cell_editor(result: pg.Result) -> None:
    """The memory as an editable table; edits become ``cell_r_c`` URL parameters."""
    columns, labels, n = result.column_labels, result.row_labels, result.settings.rows
    frame = pd.DataFrame(
        result.memory.round(3),
        columns=columns,
        index=[f"{i} {labels[i]}" if labels else str(i) for i in range(n)],
    )
    editor_key = f"pg_cells_editor_{st.session_state.pg_editor}"
    number = {"format": "%.2f", "step": 0.01, "min_value": -pg.CELL_LIMIT,
              "max_value": pg.CELL_LIMIT}
    st.data_editor(
        frame, key=editor_key, on_change=_on_cells_edited, args=(editor_key, columns),
        column_config={c: st.column_config.NumberColumn(c, **number) for c in columns},
        height=min(36 * (n + 1) + 3, 420),
    )
    edited = result.settings.cells
    st.button(f"Clear edits ({len(edited)})", on_click=_clear_cells, disabled=not edited)
    _explain(pg.NOTES["cells"])


# -- the page ------------------------------------------------------------------------------


@st.fragment
def playground() -> None:
    """Controls first, each section in its place; then one computation fills the figures in
    above (the memory figure shows the key, known only once every control has been read)."""
    v: dict[str, Any] = {}
    _header(v)

    st.subheader("1 · Memory and key", divider="gray")
    mem_controls, mem_figure, key_controls = st.columns([1.05, 2.6, 1.15], gap="medium")
    with mem_controls:
        _memory_controls(v)
    with key_controls:
        _key_controls(v)

    st.subheader("2 · The four addressing stages", divider="gray")
    _explain(pg.NOTES["stages"])
    v.update(_stage_panel(v).as_values())

    st.subheader("3 · Reading with w", divider="gray")
    read_fig, read_text = st.columns([2.6, 1.4], gap="large")
    with read_text:
        _read_text()

    st.subheader("4 · Writing with w", divider="gray")
    write_controls, write_fig = st.columns([1.1, 3.4], gap="large")
    with write_controls:
        _write_controls(v)

    cells = tuple(sorted(st.session_state.pg_cells.items()))
    result = pg.compute(pg.Settings({**pg.DEFAULTS, **v}, cells))
    st.session_state.pg_last_key = tuple(float(x) for x in result.key)
    labels = {"row_labels": result.row_labels, "column_labels": result.column_labels}
    with mem_figure:
        st.markdown("**Memory M** with the key on top and `cos(k, M(i))` per row")
        plotly_figure(memory_figure(result), key="pg_memory")
        # A switch rather than an expander: a collapsed expander still loads and draws the
        # table (a second of main-thread work on a 2-core laptop when the page opens).
        edited = len(result.settings.cells)
        if st.toggle(f"Edit memory cells{f' ({edited} edited)' if edited else ''}",
                     key="pg_edit_cells", help="Type values into the memory, cell by cell."):
            _cell_editor(result)
    _sync_url(result.settings)
    with read_fig:
        live_read_figure(result.memory, result.sharpened, result.read, key="pg_read",
                         channel=CHANNEL, **labels)
    with write_fig:
        live_write_figure(result.memory, result.written, result.sharpened, result.erase,
                          result.add, key="pg_write", channel=CHANNEL, colorscale=colours.scale(),
                          **labels)


ensure_app_navigation()
_load_url_once()
playground()
