"""Run a browser test as a classroom without internet would: every request to an address that
is not loopback is aborted (and recorded, so a test can say what the page tried to fetch)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOCAL_SCHEMES = ("data:", "blob:", "about:")


def is_loopback(url: str) -> bool:
    if url.startswith(LOCAL_SCHEMES):
        return True
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def block_internet(page) -> list[str]:
    """Abort every non-loopback request of ``page``; returns the (live) list of aborted URLs."""
    aborted: list[str] = []

    def handle(route) -> None:
        url = route.request.url
        if is_loopback(url):
            route.continue_()
        else:
            aborted.append(url)
            route.abort("internetdisconnected")

    page.route("**/*", handle)
    return aborted
