"""Pointing in the browser: clicks at known pixels are stored in pixels and 0–100 percent."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotation_app.models import PointSet
from annotation_app.models.work import AssignmentStatus
from tests.annotation_app.browser.conftest import login, scene_png, screenshot
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory, WorkItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 800, 600
TARGETS = [(200, 150), (600, 450), (412, 287)]
SHOTS = Path("/tmp/shots")


def screen_point(page, x_px: float, y_px: float) -> tuple[float, float]:
    """Where the original image's pixel (x_px, y_px) is on screen, at the current zoom."""
    box = page.locator("#image").bounding_box()
    return box["x"] + x_px * box["width"] / WIDTH, box["y"] + y_px * box["height"] / HEIGHT


def image_px_per_screen_px(page) -> float:
    return WIDTH / page.locator("#image").bounding_box()["width"]


def test_clicks_at_known_pixels_store_pixels_and_percent(page):
    user = UserFactory()
    project = ProjectFactory(kind="points", name="Point at things")
    image = ImageFactory(width=WIDTH, height=HEIGHT, file=scene_png(WIDTH, HEIGHT, circles=TARGETS))
    item = WorkItemFactory(project=project, image=image)
    login(page, user)
    page.goto(f"/work/{project.pk}/")
    expect(page.locator("#workspace")).to_be_visible()
    # Playwright's wait_for_function evaluates a string, which the policy (no 'unsafe-eval') refuses.
    expect(page.locator("#image")).to_have_js_property("complete", True)

    page.fill("#label", "red circle")
    page.press("#label", "Enter")
    tolerance = []
    page.mouse.click(*screen_point(page, *TARGETS[0]))
    tolerance.append(image_px_per_screen_px(page))
    # The second point is placed off target, then dragged onto it.
    page.mouse.click(*screen_point(page, TARGETS[1][0] - 40, TARGETS[1][1] - 30))
    page.mouse.move(*screen_point(page, TARGETS[1][0] - 40, TARGETS[1][1] - 30))
    page.mouse.down()
    page.mouse.move(*screen_point(page, *TARGETS[1]), steps=6)
    page.mouse.up()
    tolerance.append(image_px_per_screen_px(page))
    expect(page.locator("#count")).to_have_text("2")
    # A stray click removed with a right-click, another undone with the keyboard.
    page.mouse.click(*screen_point(page, 100, 500))
    expect(page.locator("#count")).to_have_text("3")
    page.mouse.click(*screen_point(page, 100, 500), button="right")
    expect(page.locator("#count")).to_have_text("2")
    page.mouse.click(*screen_point(page, 700, 100))
    expect(page.locator("#count")).to_have_text("3")
    page.keyboard.press("z")
    expect(page.locator("#count")).to_have_text("2")
    # Zoom in for the third, finer click.
    page.keyboard.press("+")
    page.keyboard.press("+")
    page.mouse.click(*screen_point(page, *TARGETS[2]))
    tolerance.append(image_px_per_screen_px(page))
    assert tolerance[2] < tolerance[0], "zooming in must make a screen pixel cover fewer image pixels"
    expect(page.locator("#count")).to_have_text("3")
    expect(page.locator("#overlay .marker")).to_have_count(3)

    # A second thing to look for, answered explicitly as not present.
    page.click("#add-set")
    page.fill("#label", "blue square")
    page.press("#label", "Enter")
    page.keyboard.press("n")
    expect(page.locator("#count")).to_have_text("not present")
    expect(page.locator("#submit")).to_be_enabled()
    screenshot(page, "points-task")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_be_visible()

    rows = {row.label: row for row in PointSet.objects.filter(work_item=item)}
    assert set(rows) == {"red circle", "blue square"}
    assert rows["blue square"].not_present and rows["blue square"].points == []
    stored = rows["red circle"].points
    assert len(stored) == 3 and not rows["red circle"].not_present
    for point, (x_px, y_px), limit in zip(stored, TARGETS, tolerance):
        # A click lands on a whole screen pixel; one screen pixel covers `limit` image pixels.
        assert abs(point["x_px"] - x_px) <= limit and abs(point["y_px"] - y_px) <= limit, (point, x_px, y_px)
        assert point["x"] == pytest.approx(100 * point["x_px"] / WIDTH, abs=0.001)
        assert point["y"] == pytest.approx(100 * point["y_px"] / HEIGHT, abs=0.001)
    assert item.assignments.get().status == AssignmentStatus.SUBMITTED


def test_no_label_is_chosen_until_the_annotator_chooses_one(page):
    """A label list starts on no label: clicks and "not present" wait for a choice, with a hint;
    the status then says what was stored and what was marked not present, by name."""
    user = UserFactory()
    project = ProjectFactory(kind="points", name="Point at labels", labels=["circle", "square", "person"])
    items = [WorkItemFactory(project=project, image=ImageFactory(width=WIDTH, height=HEIGHT,
                                                                 file=scene_png(WIDTH, HEIGHT, circles=TARGETS)))
             for _ in range(3)]
    login(page, user)
    page.goto(f"/work/{project.pk}/")
    expect(page.locator("#image")).to_have_js_property("complete", True)
    expect(page.locator("#item-label")).to_have_text("· item 1 of 3")
    expect(page.locator("#label")).to_have_value("")
    expect(page.locator("#label-hint")).to_be_visible()
    expect(page.locator("#submit")).to_be_disabled()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "points-no-label.png")

    page.keyboard.press("n")  # "not present" of nothing: refused like a click
    page.mouse.click(*screen_point(page, *TARGETS[0]))
    expect(page.locator("#status")).to_have_text("Choose a label before placing points.")
    expect(page.locator("#count")).to_have_text("0")
    expect(page.locator("#overlay .marker")).to_have_count(0)
    expect(page.locator("#label")).to_be_focused()
    page.screenshot(path=SHOTS / "points-label-needed.png")

    page.select_option("#label", "person")
    expect(page.locator("#label-hint")).to_be_hidden()
    expect(page.locator("#status")).to_have_text("")
    page.mouse.click(*screen_point(page, *TARGETS[0]))
    expect(page.locator("#count")).to_have_text("1")
    page.click("#add-set")  # the next label starts unchosen too
    expect(page.locator("#label")).to_have_value("")
    expect(page.locator("#submit")).to_be_disabled()
    page.select_option("#label", "square")
    page.click("#not-present")
    page.click("#submit")
    expect(page.locator("#status")).to_have_text("Stored 1 point for 'person'; marked 'square' not present.")
    expect(page.locator("#item-label")).to_have_text("· item 2 of 3")
    page.screenshot(path=SHOTS / "points-stored-both.png")

    page.select_option("#label", "circle")
    page.click("#not-present")
    page.click("#submit")
    expect(page.locator("#status")).to_have_text("Marked 'circle' not present.")
    expect(page.locator("#item-label")).to_have_text("· item 3 of 3")
    stored = {(row.work_item_id, row.label): row for row in PointSet.objects.all()}
    assert set(stored) == {(items[0].pk, "person"), (items[0].pk, "square"), (items[1].pk, "circle")}
    assert stored[items[1].pk, "circle"].not_present and len(stored[items[0].pk, "person"].points) == 1
