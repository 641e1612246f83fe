"""User-controlled text shown as plain text, never as markup.

Pages render notices and messages as Markdown, and some of what they quote comes from users: URL
values, upload names, a checkpoint's metadata. A value holding a blank line, a backtick or
``[text](address)`` must not end up as a link, an image or formatting on a teacher's projector.
Every such string goes through one of the two helpers below, and nothing else quotes users.

* :func:`plain` for a value drawn inside a code span (``f"`{plain(v)}`"``): with no backtick and
  no line break left, nothing can close the span, and Markdown is not parsed inside it.
* :func:`escape` for free text (an error message naming an uploaded file): every Markdown and
  Streamlit marker is backslash-escaped and line breaks become spaces.
"""

from __future__ import annotations

import re

#: Characters that start Markdown, HTML, LaTeX or Streamlit's ``:colour[...]`` syntax.
_MARKUP = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&=\"'])")
#: Line breaks and other control or invisible formatting characters (a blank line ends a span).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]+")


def _one_line(text: object) -> str:
    return _CONTROL.sub(" ", str(text))


def plain(text: object, limit: int = 40) -> str:
    """``text`` ready to sit inside a Markdown code span: one line, no backticks, at most
    ``limit`` characters (a link may carry thousands)."""
    text = _one_line(text).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: object, limit: int = 500) -> str:
    """``text`` as literal Markdown text: one line, every markup character escaped."""
    text = _one_line(text)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return _MARKUP.sub(r"\\\1", text)
