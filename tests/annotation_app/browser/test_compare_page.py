"""Side-by-side preference in the browser: answers in the server's recorded order, their points
drawn on the image, report a problem, skip, and a choice by keyboard stored in model terms."""

import pytest
from playwright.sync_api import expect

from annotation_app.models import PreferenceJudgment, ProblemReport
from annotation_app.models.work import AssignmentStatus
from annotation_app.services.compare import compare_is_swapped
from tests.annotation_app.browser.conftest import login, scene_png, screenshot
from tests.annotation_app.factories import (
    CompareItemFactory,
    ImageFactory,
    ProjectFactory,
    UserFactory,
    WorkItemFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER_A = 'There is one <point x="25.0" y="50.0" alt="cat">cat</point> on the sofa.'
ANSWER_B = 'I see <points x1="10.0" y1="10.0" x2="90.0" y2="80.0" alt="dog">two dogs</points>. <img src=x onerror="window.pwned=1">'
PROMPT = 'Point to the animals. <script>window.pwned=1</script>'


def compare_item(project):
    image = ImageFactory(width=900, height=600, file=scene_png(900, 600, circles=[(225, 300)]))
    return CompareItemFactory(work_item=WorkItemFactory(project=project, image=image), prompt=PROMPT,
                              response_a=ANSWER_A, response_b=ANSWER_B)


def test_report_skip_then_choose_by_keyboard(page):
    project = ProjectFactory(kind="compare", name="Which answer is better")
    first, second = compare_item(project), compare_item(project)
    user = UserFactory()
    login(page, user)
    page.goto(f"/work/{project.pk}/")
    expect(page.locator("#workspace")).to_be_visible()
    expect(page.locator("#prompt")).to_have_text(PROMPT)

    # Report a problem with the first image, then skip it.
    page.click("#report")
    page.fill("#report-reason", "The image is <i>blurry</i>.")
    page.click("#report-send")
    expect(page.locator("#status")).to_contain_text("the problem is reported")
    report = ProblemReport.objects.get()
    assert report.work_item == first.work_item and report.reason == "The image is <i>blurry</i>."
    page.click("#skip")
    expect(page.locator("#status")).to_contain_text("Skipped")
    assert first.work_item.assignments.get().status == AssignmentStatus.SKIPPED

    assignment = second.work_item.assignments.get(annotator=user)
    swapped = compare_is_swapped(assignment=assignment)
    expect(page.locator("#item-label")).to_have_text("· item 2 of 2")  # its place in the project, not a global id
    expect(page.locator("#answer-left")).to_contain_text("cat" if not swapped else "two dogs")
    expect(page.locator("#answer-right mark.pointed")).to_have_text("two dogs" if not swapped else "cat")
    assert "<img" in (page.text_content("#answer-right") if not swapped else page.text_content("#answer-left"))
    # The answers' points are drawn where they say: one for the cat, two for the dogs.
    expect(page.locator("#overlay .answer-point")).to_have_count(3)
    cat = page.locator("#overlay .answer-point").nth(0 if not swapped else 2)
    cat_box, image_box = cat.bounding_box(), page.locator("#image").bounding_box()
    assert cat_box["x"] + cat_box["width"] / 2 == pytest.approx(image_box["x"] + 0.25 * image_box["width"], abs=2)
    assert cat_box["y"] + cat_box["height"] / 2 == pytest.approx(image_box["y"] + 0.50 * image_box["height"], abs=2)
    screenshot(page, "compare-task")

    page.keyboard.press("1")  # the left answer is better
    expect(page.locator("#done")).to_be_visible()
    judgment = PreferenceJudgment.objects.get()
    assert judgment.assignment == assignment and judgment.swapped == swapped
    assert judgment.winner == ("b" if swapped else "a")
    assert page.evaluate("window.pwned") is None, "text from answers or prompts must never run as HTML"
    screenshot(page, "compare-done")
