"""Checking a page's URL values before its widgets read them (pure; no Streamlit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .figures.style import DEFAULT_SCALE, WEIGHTING_SCALES
from .plaintext import plain

#: The app-wide colour choice's URL parameter (``colors=default|cividis``): every page accepts
#: it, so no page reports it as unknown and a page that rewrites its URL keeps it.
COLOURS_PARAM = "colors"
#: Parameters the whole app owns, whichever page is open.
APP_PARAMS = frozenset({COLOURS_PARAM})


def parse_step(value: str | None, last: int) -> int:
    """A time step from the URL, clamped to ``0 .. last`` (0 when missing or not a number)."""
    try:
        return max(0, min(last, int(float(value))))
    except (TypeError, ValueError, OverflowError):
        return 0


def parse_colors(given: str | Sequence[str] | None) -> tuple[str, str | None]:
    """The weighting colour scale a link's ``colors`` asks for, and a notice when it cannot be
    used as given: ``"default"`` when missing, empty or unknown; the last of repeated values.

    >>> parse_colors("cividis")
    ('cividis', None)
    >>> parse_colors(None)
    ('default', None)
    """
    values = [given] if isinstance(given, str) else [str(v) for v in given or ()]
    if not values:
        return DEFAULT_SCALE, None
    raw = values[-1]
    word = raw.strip().lower()
    if word not in WEIGHTING_SCALES:
        return DEFAULT_SCALE, (f"`{COLOURS_PARAM}={plain(raw)}` is not one of "
                               f"{', '.join(WEIGHTING_SCALES)}; using {DEFAULT_SCALE}.")
    if len(values) > 1:
        return word, (f"`{COLOURS_PARAM}` is given {len(values)} times in the link; using the "
                      f"last value, `{word}`.")
    return word, None


def check_query(params: Mapping[str, str | Sequence[str]], limits: Mapping[str, tuple[int, int]],
                choices: Mapping[str, Sequence[str]]) -> tuple[list[str], dict[str, str | None]]:
    """Check a page's URL values before its widgets read them.

    ``params`` maps names to a value or, for a name repeated in the link, all its values
    (``{k: st.query_params.get_all(k) for k in st.query_params}``); the last one counts, as in
    Streamlit. ``limits`` maps integer parameters to their (min, max); ``choices`` maps the
    others to their allowed values.

    Returns ``(notices, fixes)``: plain-language notices for values the page cannot use as they
    are, and the URL changes that make the link say what the page shows: name -> the one value
    to keep (the last of repeated values) or ``None`` to drop it, so the widget shows its
    default. Dropping matters: Streamlit's query-param binding would otherwise read the value
    itself, and ``seed=inf`` makes its ``int(inf)`` raise.
    """
    notices: list[str] = []
    fixes: dict[str, str | None] = {}
    for name in [*limits, *choices]:
        if name not in params:
            continue
        given = params[name]
        values = [given] if isinstance(given, str) else [str(v) for v in given]
        if not values:
            continue
        raw = values[-1]
        problem = None
        if name in limits:
            lo, hi = limits[name]
            try:
                value = float(raw)
                whole = value.is_integer()
            except (TypeError, ValueError, OverflowError):
                whole = False
            if not whole:
                problem = "is not a whole number"
            elif not lo <= value <= hi:
                problem = f"is outside {lo}–{hi}"
        elif raw not in choices[name]:
            problem = f"is not one of {', '.join(choices[name])}"
        shown = plain(raw)
        if problem:
            notices.append(f"`{name}={shown}` {problem}; using the default instead.")
            fixes[name] = None
        elif len(values) > 1:
            notices.append(f"`{name}` is given {len(values)} times in the link; using the last "
                           f"value, `{shown}`.")
            fixes[name] = raw
    return notices, fixes


def query_notices(params: Mapping[str, str | Sequence[str]], limits: Mapping[str, tuple[int, int]],
                  choices: Mapping[str, Sequence[str]]) -> list[str]:
    """Plain-language notices for URL values the page cannot use as they are (see
    :func:`check_query`)."""
    return check_query(params, limits, choices)[0]
