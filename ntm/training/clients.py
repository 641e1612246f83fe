"""Who is asking for heavy work, and the server's limits on it.

A :class:`Client` is one browser (a hash of the secret in Streamlit's XSRF cookie, which every
tab of a browser shares) at one network address; the limits below are per server process and
set by environment variables, documented in the README's *Security* section.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


#: How many pieces of heavy work (training runs, recomputes) run at once on this server
#: (``NTM_MAX_TRAININGS`` overrides).
DEFAULT_MAX_CONCURRENT = _env_int("NTM_MAX_TRAININGS", 2)


#: How many more runs may be admitted (queued or paused) before new runs are refused.
DEFAULT_MAX_QUEUED = _env_int("NTM_MAX_QUEUED", 6)


#: Wall-clock cap of a run from the moment it first gets a slot, paused and re-queued time
#: included (seconds).
DEFAULT_MAX_LIFETIME = 900.0


#: A run paused longer than this (seconds) is stopped; its last checkpoint is kept.
DEFAULT_MAX_PAUSED = float(_env_int("NTM_MAX_PAUSED_SECONDS", 300))


#: Unfinished runs (training, paused or queued) one browser may have: all its tabs together.
DEFAULT_MAX_PER_BROWSER = _env_int("NTM_MAX_RUNS_PER_BROWSER", 1)


#: Runs and jobs together from one network address (0: no limit). Several students behind one
#: NAT share an address, so this is larger than the per-browser limit; raise it (or set 0)
#: when a whole class reaches the server through one address.
DEFAULT_MAX_PER_ADDRESS = _env_int("NTM_MAX_RUNS_PER_ADDRESS", 4)


#: Streamlit's XSRF cookie: set by the server on the first page load, sent by every tab of the
#: browser afterwards. Its secret token (not its per-load mask) identifies the browser.
XSRF_COOKIE = "_streamlit_xsrf"


class Busy(RuntimeError):
    """The server (or this client's share of it) has no room for more work right now."""


@dataclass(frozen=True)
class Client:
    """Who asks for work, for the per-client limits (ownership and privacy are the session's).

    ``browser`` is a hash of the browser's Streamlit XSRF cookie token, the same in all its tabs
    (``"session:<token>"`` when there is no cookie: one per tab). ``address`` is the websocket's
    remote address, or ``None`` when it is loopback or unknown (local use, or a reverse proxy on
    the same host, where every student would look the same): then no address limit applies.
    Neither is proof of identity (cookies can be cleared, addresses shared or spoofed); together
    with the server-wide caps they keep one student from taking every slot by opening tabs.
    """

    browser: str
    address: str | None = None


def xsrf_token(cookie: object) -> bytes | None:
    """The secret bytes of a Streamlit XSRF cookie, or None if it is not one.

    Version 2 (``2|mask|masked token|timestamp``) gets a new random mask on every page load, so
    the raw value differs between tabs; the unmasked token does not. Version 1 is the hex token.
    """
    if not isinstance(cookie, str) or not 0 < len(cookie) <= 512:
        return None
    value = cookie.strip("\"'")
    try:
        if value.startswith("2|"):
            _, mask_hex, masked_hex, _timestamp = value.split("|")
            mask, masked = bytes.fromhex(mask_hex), bytes.fromhex(masked_hex)
            if len(mask) != 4:
                return None
            token = bytes(b ^ mask[i % 4] for i, b in enumerate(masked))
        else:
            token = bytes.fromhex(value)
    except ValueError:
        return None
    return token or None


def client_of(cookies: Mapping[str, str], address: str | None, session: str) -> Client:
    """The :class:`Client` of a browser session from its cookies and remote address.

    Only a hash of the cookie's token is kept (the token itself is a secret of the browser).
    """
    token = xsrf_token(cookies.get(XSRF_COOKIE)) if isinstance(cookies, Mapping) else None
    browser = ("browser:" + hashlib.sha256(token).hexdigest()[:32]) if token else f"session:{session}"
    if address in ("", "::1", "127.0.0.1", "::ffff:127.0.0.1"):
        address = None
    return Client(browser, address)
