"""Checking a page's URL values before its widgets read them (pure; no Streamlit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .plaintext import plain


def parse_step(value: str | None, last: int) -> int:
    """A time step from the URL, clamped to ``0 .. last`` (0 when missing or not a number)."""
    try:
        return max(0, min(last, int(float(value))))
    except (TypeError, ValueError, OverflowError):
        return 0


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
