"""After a submit, the annotator's page says in words where the caption came from: here the clean-up
of their transcript, because the language model's rewrite failed its checks."""

import time

import pytest
from playwright.sync_api import expect

from annotation_app.models import Recording
from annotation_app.services.pipeline_results import caption_store
from pipelines.refine import refine_transcripts
from tests.annotation_app.browser.conftest import login, scene_png, screenshot
from tests.annotation_app.dashboard.factories import TranscriptFactory
from tests.annotation_app.dashboard.test_review_caption import SPOKEN, DraftingModel
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory, WorkItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clean_up_caption_says_the_rewrite_failed_its_checks(page, pipeline_in_memory):
    project = ProjectFactory(kind="caption", min_duration_s=2, target_duration_s=3)
    WorkItemFactory(project=project, image=ImageFactory(width=640, height=480, file=scene_png(640, 480)))
    login(page, UserFactory())
    page.goto(f"/work/{project.pk}/")
    expect(page.locator("#workspace")).to_be_visible()
    page.click("#record")
    started = time.monotonic()
    expect(page.locator("#stop")).to_be_visible()
    page.wait_for_timeout(max(0.0, 3.0 - (time.monotonic() - started)) * 1000)
    page.click("#stop")
    expect(page.locator("#submit")).to_be_enabled()
    page.click("#submit")
    expect(page.locator("#result")).to_be_visible(timeout=30_000)
    expect(page.locator("#caption-note")).to_be_hidden()  # no caption yet, nothing to explain

    # The pipeline's last two steps, done here: a transcript, then a refinement whose guards reject
    # the model's draft, stored by the real service; the page's poll picks the caption up.
    recording = Recording.objects.get()
    transcript = TranscriptFactory(recording=recording, text=SPOKEN)
    refinement = refine_transcripts([SPOKEN], chat_model=DraftingModel(), strategy="whole")
    caption_store(work_item_id=recording.work_item_id, transcripts=[transcript], key="refine-note",
                  refinement=refinement)

    expect(page.locator("#caption")).to_have_text(refinement.caption, timeout=10_000)
    note = page.locator("#caption-note")
    expect(note).to_have_text(
        "This caption is your transcript tidied up (fillers, repeats and false starts removed); the "
        "language model's rewrite did not pass its checks: it used words you did not say. "
        "A reviewer will look at both.")
    assert "guard:" not in page.locator("#result").inner_text()
    screenshot(page, "caption-result-clean-up-note")
