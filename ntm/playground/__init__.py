"""The addressing playground without Streamlit: its state, its URL, its engine and its words.

One :class:`Settings` value holds everything the playground page shows: the memory (size,
preset, seed and edited cells), the key, the head's ``beta, g, s, gamma``, the previous
weighting and the write vectors. The modules, in the order a value travels through them:

* :mod:`.settings`: every setting's default, range, label and help (:data:`PARAMS`), shared by
  the URL parser and the page's widgets;
* :mod:`.url`: URL query parameters in and out (:func:`parse_query`, :func:`to_query`);
* :mod:`.inputs`: the memory presets, the key, the kernel and the previous weighting;
* :mod:`.compute`: the paper's pipeline through :mod:`ntm.addressing` and :mod:`ntm.memory`
  (:func:`compute` returns a :class:`Result`);
* :mod:`.text`: the words under each stage and the one-click :data:`SCENARIOS`.

The figures of a :class:`Result` are :func:`ntm.figures.playground.build_figures`.
"""

from .compute import Result, compute, head_tensors, readouts
from .inputs import (
    DRINK_FEATURES,
    DRINKS,
    MILK_ROW,
    TEA_ROW,
    build_kernel,
    build_key,
    build_memory,
    build_vector,
    column_labels,
    key_rows,
    preset_memory,
    raw_kernel,
    row_labels,
    start_weighting,
)
from .settings import (
    ADD_PRESETS,
    BETA_VALUES,
    CELL_LIMIT,
    DEFAULTS,
    GAMMA_VALUES,
    KEY_MODES,
    MAX_RADIUS,
    MAX_ROWS,
    MAX_STEPS,
    MAX_WIDTH,
    MEMORY_PRESETS,
    MIN_ROWS,
    MIN_WIDTH,
    PARAMS,
    PREVIOUS_MODES,
    STAGE_PARAMS,
    Param,
    Settings,
    active,
    clamp,
    kernel_offset,
    kernel_param,
    key_param,
    widget_values,
)
from .text import (
    INTRO,
    NOTES,
    READ_LATEX,
    SCENARIOS,
    STAGE_EQUATION,
    STAGE_HEADERS,
    STAGE_LATEX,
    STAGE_TEXT,
    WRITE_LATEX,
    Scenario,
    previous_latex,
)
from .url import STREAMLIT_PARAMS, cell_param, cell_query, merge_cell_edits, parse_query, to_query

__all__ = [
    "ADD_PRESETS", "BETA_VALUES", "CELL_LIMIT", "DEFAULTS", "DRINK_FEATURES", "DRINKS",
    "GAMMA_VALUES", "INTRO", "KEY_MODES", "MAX_RADIUS", "MAX_ROWS", "MAX_STEPS", "MAX_WIDTH",
    "MEMORY_PRESETS", "MILK_ROW", "MIN_ROWS", "MIN_WIDTH", "NOTES", "PARAMS", "PREVIOUS_MODES",
    "READ_LATEX", "SCENARIOS", "STAGE_EQUATION", "STAGE_PARAMS", "STAGE_HEADERS", "STAGE_LATEX", "STAGE_TEXT",
    "STREAMLIT_PARAMS", "TEA_ROW", "WRITE_LATEX", "Param", "Result", "Scenario", "Settings",
    "active", "build_kernel", "build_key", "build_memory", "build_vector", "cell_param",
    "cell_query", "clamp", "column_labels", "compute", "head_tensors", "kernel_offset",
    "kernel_param", "key_param", "key_rows", "merge_cell_edits", "parse_query", "preset_memory",
    "previous_latex", "raw_kernel", "readouts", "row_labels", "start_weighting", "to_query",
    "widget_values",
]
