"""User-controlled text stays plain text: ntm.plaintext."""

import re

from hypothesis import given
from hypothesis import strategies as st

from ntm.plaintext import escape, plain
from ntm.urlcheck import check_query

HOSTILE = "x\n\n![](http://host/x) [Log in](https://evil.example)\r\n`code` :red[hi] $x$ <b>"


def test_plain_cannot_close_a_code_span_or_start_a_paragraph():
    text = plain(HOSTILE, limit=200)
    assert "`" not in text and "\n" not in text and "\r" not in text


@given(st.text())
def test_plain_is_one_line_without_backticks_and_bounded(text):
    out = plain(text)
    assert "`" not in out and len(out) <= 40
    assert not re.search(r"[\x00-\x1f\u2028\u2029]", out)


@given(st.text())
def test_escape_leaves_no_unescaped_markup(text):
    out = escape(text, limit=10_000)
    assert not re.search(r"[\x00-\x1f\u2028\u2029]", out)
    # every markup character is preceded by a backslash that is not itself escaped
    unescaped = re.sub(r"\\.", "", out)
    assert not re.search(r"[\\`*_\[\]()<>!|~$:]", unescaped)


def test_escape_keeps_the_words():
    assert "Log in" in escape(HOSTILE)
    assert escape("a.b") == r"a\.b"


def test_url_notices_quote_values_as_plain_text():
    notices, _ = check_query({"seed": HOSTILE}, {"seed": (0, 10)}, {})
    span = re.search(r"`seed=([^`]*)`", notices[0])
    assert span and "\n" not in notices[0]
