"""The landing page renders under AppTest."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "explorer_app.py")


def test_landing_page_renders_without_exception():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "NTM Explorer"
    assert len(at.latex) == 4  # the four addressing equations
    text = " ".join(m.value for m in at.markdown)
    assert "Addressing playground" in text and "content" in text
