"""Point-explanations in the browser: point at places, ask, insert point tags into the answer,
accept; the thread keeps the points and the answer that refers to them."""

import re

import pytest
from playwright.sync_api import expect

from annotation_app.models import AskThread
from annotation_app.models.ask import AskThreadStatus
from tests.annotation_app.browser.conftest import login, scene_png, screenshot
from tests.annotation_app.browser.test_ask_page import answer_pending_turn
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory, WorkItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 640, 480
SIGN, CIRCLE, STRAY = (112, 73), (480, 360), (320, 420)
TAG = re.compile(r'<point x="([\d.]+)" y="([\d.]+)" alt="([^"]*)">([^<]*)</point>')


def click_image(page, x_px: float, y_px: float) -> None:
    box = page.locator("#image").bounding_box()
    page.mouse.click(box["x"] + x_px * box["width"] / WIDTH, box["y"] + y_px * box["height"] / HEIGHT)


def test_point_ask_insert_tags_and_accept(page, pipeline_in_memory):
    project = ProjectFactory(kind="ask", name="Explain with points")
    image = ImageFactory(width=WIDTH, height=HEIGHT, file=scene_png(WIDTH, HEIGHT, circles=[CIRCLE]))
    item = WorkItemFactory(project=project, image=image)
    login(page, UserFactory())
    page.goto(f"/work/{project.pk}/")
    expect(page.locator("#workspace")).to_be_visible()
    # Playwright's wait_for_function evaluates a string, which the policy (no 'unsafe-eval') refuses.
    expect(page.locator("#image")).to_have_js_property("complete", True)

    click_image(page, *SIGN)
    page.locator("#ask-points li").nth(0).locator("input").fill("the white sign")
    click_image(page, *STRAY)
    click_image(page, *CIRCLE)
    expect(page.locator("#ask-points li")).to_have_count(3)
    expect(page.locator("#overlay .ask-point")).to_have_count(3)
    page.click("button[aria-label='Remove point 2']")  # the stray one; the circle becomes point 2
    expect(page.locator("#ask-points li")).to_have_count(2)
    expect(page.locator("#overlay .ask-point text")).to_have_text(["1", "2"])
    page.locator("#ask-points li").nth(1).locator("input").fill("red circle")
    page.fill("#question", "What do the sign and the circle show?")
    screenshot(page, "ask-points-pointed")
    page.click("#ask")
    expect(page.locator("#pending")).to_be_visible()
    expect(page.locator("#ask-points input")).to_have_count(0)  # fixed once asked

    turn = answer_pending_turn(item)
    thread = AskThread.objects.get(work_item=item)
    pointed = {(p["x"], p["y"]) for p in thread.points}
    assert turn.provenance.prompt_id == "qa.point_answer@v1"
    assert all((float(x), float(y)) in pointed for x, y, *_ in TAG.findall(turn.text))  # the guard held
    expect(page.locator("#accept")).to_be_enabled()

    page.click("#edit")
    page.fill("#edited", "It says OPEN 9-5. Below it is ")
    page.click("#insert-buttons button:has-text('Insert point 2')")
    page.locator("#edited").press("End")
    page.keyboard.type(".")
    # Select "It" and make those words point at the sign.
    page.locator("#edited").evaluate("field => { field.focus(); field.setSelectionRange(0, 2); }")
    page.click("#insert-buttons button:has-text('Insert point 1')")
    expect(page.locator("#tag-summary")).to_contain_text("refers to points 2 times")
    screenshot(page, "ask-points-insert")
    page.click("#accept-edited")
    expect(page.locator("#done")).to_be_visible()

    thread = AskThread.objects.get(work_item=item)
    assert thread.status == AskThreadStatus.ACCEPTED
    assert [p["label"] for p in thread.points] == ["the white sign", "red circle"]
    for point, (x_px, y_px) in zip(thread.points, [SIGN, CIRCLE], strict=True):
        assert point["x"] == pytest.approx(100 * x_px / WIDTH, abs=0.3)
        assert point["y"] == pytest.approx(100 * y_px / HEIGHT, abs=0.3)
    tags = TAG.findall(thread.final_answer)
    assert [(alt, words) for *_, alt, words in tags] == [("the white sign", "It"), ("red circle", "red circle")]
    assert [(float(x), float(y)) for x, y, *_ in tags] == [(p["x"], p["y"]) for p in thread.points]
    assert thread.final_answer.endswith('alt="red circle">red circle</point>.')
