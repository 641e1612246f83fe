"""The server's heavy work, shared by the pages: one :class:`~ntm.training.manager.RunManager` per
process (training runs and the Generalisation page's recomputes take its slots), and who the
client of this browser session is for its per-client limits.

Clients (see :class:`ntm.training.clients.Client`): a browser is recognised by Streamlit's own XSRF
cookie (``_streamlit_xsrf``, ``st.context.cookies``), shared by all the tabs of one browser; the
websocket's remote address (``st.context.ip_address``) is counted too, with a larger limit,
because several students behind one NAT share it. Without the cookie (XSRF protection off) each
browser session counts as its own browser; on a loopback address (local use, or a reverse proxy
on the same host) no address limit applies.
"""

from __future__ import annotations

import uuid

import streamlit as st

from ..training import clients as C
from ..training import manager as M


@st.cache_resource
def run_manager() -> M.RunManager:
    """The process's one run manager: it enforces the server-wide and per-client limits."""
    return M.RunManager()


def session_token() -> str:
    """This browser session's private token: its runs are owned by it, so another tab or
    student (another session, another token) can never see or control them."""
    return st.session_state.setdefault("_live_owner", uuid.uuid4().hex)


def current_client() -> C.Client:
    """The client of this browser session, for the per-client limits."""
    try:
        cookies, address = dict(st.context.cookies), st.context.ip_address
    except Exception:  # no client context (e.g. a bare script run)
        cookies, address = {}, None
    return C.client_of(cookies, address, session_token())
