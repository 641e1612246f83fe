"""The Lessons page in Chromium: a student walks the whole lesson, answering one question right
and one wrong; a reload keeps the place and the score; a teacher's link (a hidden and a locked
control) reproduces the lesson in a fresh context and refuses a hand-edited locked value; in
projector mode every stage panel and its controls fit a 1920 × 1080 screen without scrolling."""

from __future__ import annotations

import re

import pytest

from ntm.app.lessons import live
from ntm.lessons import links, panels
from ntm.lessons.steps import QUESTIONS, STEPS

from .conftest import wait_for_app

pytestmark = pytest.mark.browser
SCORE = re.compile(r"Score: (\d+) right of (\d+) answered")
#: The live addressing panel of a step (the in-browser component, ntm.app.lessons.live).
PANEL = ".st-key-panel_stages .ntm-ap-root"


def in_panel(step, answers=()) -> list[str]:
    """The step's stages that the live panel draws with these questions answered."""
    if not live.uses_panel(step):
        return []
    return live.panel_stages(step, panels.hidden_parts(step, dict.fromkeys(answers, "")))


def open_lesson(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page, timeout=120_000)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=120_000)
    assert page.locator('[data-testid="stException"]').count() == 0


def score(page) -> tuple[int, int]:
    text = page.get_by_text(SCORE).inner_text()
    right, answered = SCORE.search(text).groups()
    return int(right), int(answered)


def answer_row(page, qid: str, row_label: str) -> str:
    """Click a row (or an option) in a question's card, check it, and return the feedback."""
    card = page.locator(f".st-key-card_{qid}")
    option = card.get_by_role("radio", name=row_label, exact=True)
    if card.locator('[data-testid="stRadio"]').count():  # st.radio: its label takes the click
        option = card.locator("label").filter(has_text=row_label)
    option.click()
    card.get_by_role("button", name=re.compile("Check my answer")).click()
    alert = card.locator('[data-testid="stAlert"] [data-testid="stMarkdownContainer"]')
    alert.wait_for(timeout=60_000)
    wait_for_app(page)
    return alert.inner_text()


def next_step(page, number: int) -> None:
    page.get_by_role("button", name=re.compile("Next step")).click()
    page.wait_for_function(f"() => location.search.includes('step={number}')", timeout=60_000)
    page.get_by_role("heading", name=re.compile(f"Lesson {number} of 10")).wait_for(
        timeout=120_000)
    wait_for_app(page, timeout=120_000)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_student_walks_the_whole_lesson(page, app_url, artifacts):
    open_lesson(page, f"{app_url}/lessons")
    assert page.get_by_role("heading", name="Lesson 1 of 10: Memory is rows").is_visible()
    for number in range(2, len(STEPS) + 1):
        next_step(page, number)
        figures = page.locator('[data-testid="stPlotlyChart"][role="figure"]')
        stages = in_panel(STEPS[number - 1])
        assert figures.count() >= len(STEPS[number - 1].panels) - len(stages)
        labels = figures.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
        for stage in stages:  # the live panel's stages: each with its own sentence
            page.locator(f"{PANEL}[data-plotted]").wait_for(timeout=60_000)
            labels.append(page.locator(f"{PANEL} div.heatmap[data-stage={stage}]")
                          .get_attribute("aria-label"))
        for label in labels:
            assert label and len(label) > 10  # every figure has its sentence
        if number == 2:  # right: the key is most like the cousin's row
            said = answer_row(page, "q2", "5 cousin")
            assert said.startswith("Right: the key's cosine with row 5 (cousin) is +0.92")
            assert score(page) == (1, 1)
        if number == 6:  # wrong: shifted up instead of down
            said = answer_row(page, "q6a", "2")
            assert said.startswith("You chose row 2; the focus was on row 5 and the kernel put "
                                   "1.00 on offset +3")
            assert "you moved it the other way" in said
            assert score(page) == (1, 2)
            # the reveal: the shifted stage is drawn, with the guess beside the truth
            shifted = page.locator(f"{PANEL} div.heatmap[data-stage=shifted]")
            shifted.wait_for(timeout=60_000)
            assert shifted.get_attribute("aria-label").startswith("w̃: max row 8, 1.00")
            assert "Your answer: row 2" in shifted.get_attribute("aria-label")
            assert page.locator(".st-key-reveal_q6a [role=figure]").get_attribute(
                "aria-label") == "your guess: row 2; the truth: 100% on row 8"
            page.screenshot(path=artifacts / "lessons_step6_answered.png")
    assert score(page) == (1, 2)
    assert page.get_by_text(f"({len(QUESTIONS)} questions in all)").is_visible()
    assert re.search(r"step=10", page.url) and "q2=5" in page.url and "q6a=2" in page.url

    page.reload()  # a new session: the URL alone brings the place and the score back
    wait_for_app(page, timeout=120_000)
    assert page.get_by_role("heading", name=re.compile("Lesson 10 of 10")).is_visible()
    assert score(page) == (1, 2)


def test_a_teachers_link_holds_in_a_fresh_context(browser, console, app_url, artifacts):
    link = links.lesson_url(app_url, links.teacher_query(6, hide={"prow"}, lock={"kernel": "p1"},
                                                         classroom=True))
    context = browser.new_context(viewport={"width": 1600, "height": 1100})
    console.watch(context)
    try:
        page = context.new_page()
        open_lesson(page, link)
        assert page.get_by_role("heading", name="Lesson 6 of 10: The shift").is_visible()
        card = page.locator(".st-key-card_q6a")
        assert "the kernel is +1" in card.inner_text()  # the lock reaches the question
        said = answer_row(page, "q6a", "6")
        assert said.startswith("Right: the focus was on row 5 and the kernel put 1.00 on offset +1")
        assert answer_row(page, "q6b", "s = .3 / .5 / .2").startswith("Right: s = .3 / .5 / .2.")
        kernel = page.locator(f"{PANEL} fieldset.kernel-choice")  # in the live panel
        kernel.wait_for(timeout=60_000)
        assert "(locked)" in kernel.locator("legend").inner_text()
        options = kernel.get_by_role("radio")
        assert options.count() >= 3 and all(o.is_disabled() for o in options.all())
        assert kernel.get_by_role("radio", name="+1", exact=True).is_checked()
        assert page.locator(f"{PANEL} [data-box=prow]").count() == 0  # hidden
        assert page.locator(".st-key-lc_prow").count() == 0
        # classroom mode: the one-line summary instead of the step's text
        assert page.get_by_text(STEPS[5].summary).is_visible()
        page.screenshot(path=artifacts / "lessons_teacher_link.png")

        # a student edits the link by hand: the lock wins, and a notice says so
        page.goto(page.url + "&kernel=p3&prow=9")
        wait_for_app(page, timeout=120_000)
        notice = page.locator('[data-testid="stAlert"]').first.inner_text().replace("\n", " ")
        assert "Shift kernel s is locked to p1 by this lesson link; kernel=p3 ignored." in notice
        assert "Previous focus: row is hidden by this lesson link" in notice
        assert "kernel=p3" not in page.url and "prow=9" not in page.url
        said = page.locator(".st-key-card_q6a [data-testid=stAlert] "
                            "[data-testid=stMarkdownContainer]").inner_text()
        assert said.startswith("Right: the focus was on row 5 and the kernel put 1.00 on offset +1")
    finally:
        context.close()


@pytest.mark.parametrize("number", [2, 5, 6, 7, 8, 9])
def test_projector_mode_fits_a_1920_by_1080_screen(browser, console, app_url, artifacts, number):
    step = STEPS[number - 1]
    query = {"step": str(number), "projector": "true"}
    for q in step.questions:  # answered, so the step's controls are shown too
        query[q.id] = "5" if q.kind == "row" else "0.5" if q.kind == "number" else next(
            iter(q.choices()))
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    console.watch(context)
    try:
        page = context.new_page()
        open_lesson(page, links.lesson_url(app_url, query))
        boxes = {}
        stages = in_panel(step, query)  # drawn by the live panel, with its controls
        controls = [c for c in step.controls if c in live.IN_PANEL] if stages else []
        for name in [*step.panels, *step.controls]:
            if name in stages:
                selector = f"{PANEL} section.card[data-stage={name}]"
            elif name in controls:
                selector = f"{PANEL} [data-box={name}] >> nth=0"
            else:
                selector = f".st-key-panel_{name}" if name in step.panels else f".st-key-lc_{name}"
            page.locator(selector).wait_for(timeout=60_000)
            boxes[name] = page.locator(selector).bounding_box()
        if stages:  # the live panel's figure is drawn (Plotly.js loads after the cards)
            page.locator(f"{PANEL}[data-plotted]").wait_for(timeout=60_000)
        page.screenshot(path=artifacts / f"lessons_projector_step{number}.png")
        for name, box in boxes.items():
            assert box is not None, name
            assert box["x"] >= 0 and box["y"] >= 0, (name, box)
            assert box["x"] + box["width"] <= 1920 and box["y"] + box["height"] <= 1080, (name, box)
        size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector("
                             "'[data-testid=stMain] [data-testid=stMarkdownContainer] p')).fontSize)")
        assert size >= 20  # larger type than the 16 px default
    finally:
        context.close()


def test_the_share_panel_shows_the_link_and_its_qr_code(page, app_url):
    open_lesson(page, f"{app_url}/lessons?step=3")
    page.get_by_text("Share this lesson").click()
    code = page.locator('[data-testid="stCode"]').first
    code.wait_for(timeout=60_000)
    assert code.inner_text().strip().endswith("/lessons?step=3")
    qr = page.get_by_role("img", name="QR code of the lesson link above")
    qr.wait_for(timeout=60_000)
    assert qr.evaluate("img => img.naturalWidth") > 100
