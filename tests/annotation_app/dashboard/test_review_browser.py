"""The caption review page in Debian's Chromium: at 1280x800 the image stands large beside the caption
and the rejected draft, all in the first screen; a click zooms the image in place; a phone stacks it."""

import pytest
from playwright.sync_api import expect

from annotation_app.models import Role
from annotation_app.services.pipeline_results import caption_store
from pipelines.refine import refine_transcripts
from tests.annotation_app.browser.conftest import scene_png, screenshot
from tests.annotation_app.browser_support import DESKTOP, SCREENSHOTS, login
from tests.annotation_app.dashboard.factories import TranscriptFactory
from tests.annotation_app.dashboard.test_browser import chromium, page  # noqa: F401 - fixtures
from tests.annotation_app.dashboard.test_review_caption import SPOKEN, DraftingModel
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory, WorkItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]




def flagged_caption():
    project = ProjectFactory(kind="caption", name="Spoken captions")
    image = ImageFactory(width=1024, height=768, file=scene_png(1024, 768, circles=[(700, 600)]))
    item = WorkItemFactory(project=project, image=image, open_slots=0)
    transcript = TranscriptFactory(recording__assignment__work_item=item, text=SPOKEN)
    refinement = refine_transcripts([SPOKEN], chat_model=DraftingModel(), strategy="whole")
    return project, caption_store(work_item_id=item.pk, transcripts=[transcript], key="refine-browser",
                                  refinement=refinement)


def box(page, selector: str) -> dict:
    found = page.locator(selector).bounding_box()
    assert found, f"{selector} is not laid out"
    return found


def frame_scroll(page) -> list[float]:
    return page.evaluate("() => { const f = document.querySelector('.zoom-frame'); "
                         "return [f.scrollLeft, f.scrollTop]; }")


def beside(left: dict, right: dict) -> bool:
    """`right` starts after `left` ends, and the two share some rows."""
    side = left["x"] + left["width"] <= right["x"]
    rows = right["y"] < left["y"] + left["height"] and left["y"] < right["y"] + right["height"]
    return side and rows


def test_the_image_stands_large_beside_the_caption_and_zooms_in_place(page):
    project, caption = flagged_caption()
    login(page, UserFactory(role=Role.REVIEWER, username="browser-reviewer"))
    page.goto(f"/dashboard/review/{project.pk}/{caption.pk}/")
    page.wait_for_function("() => { const i = document.getElementById('review-image'); "
                           "return i.complete && i.naturalWidth > 0; }")

    image, text, draft = box(page, "#review-image"), box(page, "#caption-text"), box(page, "#draft-text")
    assert image["width"] >= 400, image
    assert image["y"] >= 0 and image["y"] + image["height"] <= DESKTOP["height"], image
    assert text["y"] + 24 <= DESKTOP["height"] and draft["y"] + 24 <= DESKTOP["height"], (text, draft)
    assert beside(image, text), (image, text)
    assert beside(text, draft), (text, draft)
    expect(page.locator("#guard-reasons")).to_contain_text("These 10 words appear in no transcript: crimson,")

    page.click("#version-history summary")
    expect(page.locator("#version-history li")).to_have_count(2)
    page.evaluate("window.scrollTo(0, 0)")  # opening the history scrolled it into view
    screenshot(page, "review-caption-draft")
    # The image column stays in view, stuck 0.5 rem below the top, while the text column scrolls on:
    # scrolled 100 px past where the figure starts, it still starts 8 px from the top.
    figure = box(page, ".zoomable")
    past = round(figure["y"]) + 100
    page.evaluate(f"window.scrollTo(0, {past})")
    assert page.evaluate("window.scrollY") == past, "the page must be tall enough to scroll"
    assert box(page, ".zoomable")["y"] == pytest.approx(8, abs=1.5)
    page.evaluate("window.scrollTo(0, 0)")

    # A click zooms in place: the frame keeps its size, the image grows past it and scrolls inside it.
    frame = box(page, ".zoom-frame")
    page.click("#review-image", position={"x": image["width"] * 0.7, "y": image["height"] * 0.8})
    expect(page.locator(".zoom-frame")).to_have_class("zoom-frame zoomed")
    zoomed = box(page, "#review-image")
    assert zoomed["width"] >= 2 * image["width"] - 1, (image, zoomed)
    assert box(page, ".zoom-frame")["height"] == pytest.approx(frame["height"], abs=1)
    scroll = frame_scroll(page)
    assert scroll[0] > 0 and scroll[1] > 0, "the clicked spot (lower right) is scrolled into view"
    expect(page.locator(".zoom-toggle")).to_have_text("Fit")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "review-caption-zoomed-1280x800.png")

    # Dragging pans the zoomed image; a click without a drag fits it again.
    centre = (frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
    page.mouse.move(*centre)
    page.mouse.down()
    page.mouse.move(centre[0] + 80, centre[1] + 60, steps=5)
    page.mouse.up()
    panned = frame_scroll(page)
    assert panned == [pytest.approx(scroll[0] - 80, abs=2), pytest.approx(scroll[1] - 60, abs=2)], panned
    expect(page.locator(".zoom-frame")).to_have_class("zoom-frame zoomed")
    page.mouse.click(*centre)
    expect(page.locator(".zoom-frame")).to_have_class("zoom-frame")
    assert box(page, "#review-image")["width"] == pytest.approx(image["width"], abs=1)

    # The button does the same, and the review keys still act.
    page.click(".zoom-toggle")
    expect(page.locator(".zoom-frame")).to_have_class("zoom-frame zoomed")
    page.click(".zoom-toggle")
    expect(page.locator(".zoom-frame")).to_have_class("zoom-frame")
    page.keyboard.press("e")
    expect(page.locator("#edited-text")).to_be_focused()
