"""Check the URL of a page whose widgets use ``bind="query-params"``, before they read it.

Streamlit seeds a bound widget from the link on its own and silently drops values it cannot
use; for a few (``seed=inf`` in an integer ``st.number_input``) it raises instead. A page calls
:func:`checked_query` before its first bound widget: values it cannot use are removed from the
URL (repeated values cut to the last one) and the script reruns once, so the widgets only ever
see usable values, the address bar says what the page shows, and the page gets one plain
notice per problem to display. The rules themselves are :func:`ntm.urlcheck.check_query`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from ..urlcheck import check_query


def checked_query(limits: Mapping[str, tuple[int, int]], choices: Mapping[str, Sequence[str]],
                  *, key: str = "_url_notices", shown: Sequence[str] = ()) -> list[str]:
    """The notices to show for this page's link (empty when every value is usable).

    May rerun the script once after fixing the URL; the notices survive that rerun in
    ``st.session_state[key]``, with the link they left, so a stale entry is never shown and a
    link that cannot be fixed never reruns twice.

    A page that checks in two stages (the stepper: its sizes once the model is known) gives the
    second call its own ``key`` and the first call's notices as ``shown``: if the second call
    reruns, the first call finds nothing left to fix, so the second returns both stages'
    notices; the page shows those it has not shown yet.

    Only values no widget has read yet are checked: once a bound widget has run, Streamlit keeps
    its parameter in step with it and refuses to let the page delete it.
    """
    params = _params()
    unread = {name: values for name, values in params.items() if name not in st.session_state}
    notices, fixes = check_query(unread, limits, choices)
    previous = st.session_state.pop(key, None)
    just_fixed = previous is not None and previous[1] == params
    if fixes and not just_fixed:
        for name, value in fixes.items():
            if value is None:
                del st.query_params[name]
            else:
                st.query_params[name] = value
        st.session_state[key] = ([*shown, *notices], _params())
        st.rerun()
    return previous[0] if just_fixed else notices


def _params() -> dict[str, list[str]]:
    return {name: st.query_params.get_all(name) for name in st.query_params}
