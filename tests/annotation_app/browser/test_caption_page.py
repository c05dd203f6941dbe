"""The spoken-caption page with a fake microphone playing an espeak-ng description.

Record → submit → stored once with the right duration → the transcript shows; an upload that
meets network failures is retried and stored exactly once; a recording whose upload never got
through survives a reload and is offered for upload.
"""

import time
import uuid

import av
import pytest
from playwright.sync_api import expect

from annotation_app.models import Recording
from annotation_app.models.work import AssignmentStatus
from devtools.speech import make_silence
from tests.annotation_app.browser.conftest import launch_chromium, login, scene_png, screenshot
from tests.annotation_app.browser_support import open_page
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory, WorkItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UPLOADS = "**/api/assignments/*/recordings/"
SCENE_WORDS = {"glance", "photograph", "small", "kitchen", "sunny", "morning", "three", "red", "apples", "white",
               "bowl", "wooden", "table", "blue", "mugs"}


def caption_project(*, min_s: float, target_s: float):
    project = ProjectFactory(kind="caption", name="Describe the scene", min_duration_s=min_s, target_duration_s=target_s,
                             instructions="Say what you see. <b>Not bold</b>")
    item = WorkItemFactory(project=project, image=ImageFactory(width=1024, height=768, file=scene_png(1024, 768)))
    return project, item


def record(page, seconds: float) -> float:
    """Record for `seconds` of wall time; returns the expected length including the stop tail."""
    page.click("#record")
    expect(page.locator("#stop")).to_be_visible()
    started = time.monotonic()
    page.wait_for_timeout(1500)
    expect(page.locator("#submit")).to_be_disabled()  # below the minimum while recording
    page.wait_for_timeout(max(0, seconds - (time.monotonic() - started)) * 1000)
    page.click("#stop")
    expect(page.locator("#rerecord")).to_be_visible()
    return time.monotonic() - started


def decoded_seconds(recording: Recording) -> float:
    with av.open(recording.file.path) as container:
        return sum(frame.samples / frame.sample_rate for frame in container.decode(audio=0))


def test_record_submit_stores_the_right_duration_and_shows_the_transcript(page, pipeline_eager):
    project, item = caption_project(min_s=10, target_s=14)
    login(page, UserFactory())
    page.goto(f"/work/{project.pk}/")
    expect(page.locator("#workspace")).to_be_visible()
    expect(page.locator("ol.questions li")).to_have_count(7)
    expect(page.locator(".instructions")).to_contain_text("<b>Not bold</b>")  # escaped, shown as text
    expect(page.locator("#submit")).to_be_disabled()

    page.click("#record")
    expect(page.locator("#stop")).to_be_visible()
    started = time.monotonic()
    page.wait_for_timeout(2500)
    expect(page.locator("#submit")).to_be_disabled()
    level = float(page.evaluate("parseFloat(document.getElementById('meter-fill').style.width)"))
    assert level > 5, "the level meter must move while the fake microphone speaks"
    expect(page.locator("#silence")).to_be_hidden()
    screenshot(page, "caption-recording")
    page.wait_for_timeout(max(0.0, 12.0 - (time.monotonic() - started)) * 1000)
    page.keyboard.press("r")  # stop with the keyboard
    expect(page.locator("#rerecord")).to_be_visible()
    wall_s = time.monotonic() - started
    expect(page.locator("#playback")).to_be_visible()
    expect(page.locator("#submit")).to_be_enabled()
    screenshot(page, "caption-recorded")

    page.click("#submit")
    expect(page.locator("#result")).to_be_visible(timeout=180_000)
    expect(page.locator("#upload-state")).to_have_text("Sent.")
    recording = Recording.objects.get(work_item=item)
    assert recording.assignment.status == AssignmentStatus.SUBMITTED
    assert recording.mime in ("audio/webm", "audio/ogg", "audio/mp4")
    # The stop keeps a 0.5 s tail; the key press lands a little after the wall clock reading.
    assert recording.client_duration_s == pytest.approx(wall_s + 0.5, abs=2.0)
    assert decoded_seconds(recording) == pytest.approx(wall_s + 0.5, abs=2.0)

    # The pipeline ran (inline) after the upload committed; the page shows its transcript.
    transcript = page.locator("#transcript")
    expect(transcript).not_to_have_text("Waiting for speech recognition…", timeout=180_000)
    recording.refresh_from_db()
    assert recording.duration_s == pytest.approx(wall_s + 0.5, abs=2.0)
    stored = recording.transcripts.get().text
    expect(transcript).to_have_text(stored.strip())
    heard = {word.strip(".,").lower() for word in stored.split()}
    assert len(heard & SCENE_WORDS) >= 3, f"the transcript does not match the spoken scene: {stored!r}"
    screenshot(page, "caption-received")


def test_upload_during_network_failures_is_retried_and_stored_exactly_once(page, pipeline_in_memory):
    project, item = caption_project(min_s=3, target_s=5)
    login(page, UserFactory())
    page.goto(f"/work/{project.pk}/")
    expect(page.locator("#workspace")).to_be_visible()
    record(page, 4.0)

    attempts = []

    def flaky_network(route):
        attempts.append(route.request.post_data_buffer)
        if len(attempts) == 1:
            route.abort("internetdisconnected")  # never reaches the server
        elif len(attempts) == 2:
            route.fetch()  # the server stores it, then the answer is lost on the way back
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(UPLOADS, flaky_network)
    page.click("#submit")
    expect(page.locator("#upload-state")).to_contain_text("trying again")
    expect(page.locator("#result")).to_be_visible(timeout=30_000)
    assert len(attempts) == 3
    uuids = {_client_uuid(body) for body in attempts}
    assert len(uuids) == 1, "every retry must carry the same client UUID"
    recording = Recording.objects.get()
    assert str(recording.client_uuid) == uuids.pop()
    assert recording.work_item == item
    expect(page.locator("#result-summary")).to_contain_text(f"Recording {recording.pk} ")


def test_reload_with_an_unsent_recording_offers_it_and_uploads_it(page, pipeline_in_memory):
    project, item = caption_project(min_s=3, target_s=5)
    login(page, UserFactory())
    page.goto(f"/work/{project.pk}/")
    expect(page.locator("#workspace")).to_be_visible()
    recorded_s = record(page, 4.0)

    bodies = []
    page.route(UPLOADS, lambda route: (bodies.append(route.request.post_data_buffer), route.abort("internetdisconnected")))
    page.click("#submit")
    expect(page.locator("#upload-state")).to_contain_text("trying again")
    assert Recording.objects.count() == 0

    page.reload()
    expect(page.locator("#workspace")).to_be_visible()
    offer = page.locator("#unsent-list li")
    expect(offer).to_have_count(1)
    expect(offer).to_contain_text(f"Item {item.assignments.get().pk}")
    screenshot(page, "caption-unsent-offer")
    page.unroute(UPLOADS)
    offer.locator("button.upload-unsent").click()
    expect(page.locator("#result")).to_be_visible(timeout=30_000)
    expect(offer).to_have_count(0)

    recording = Recording.objects.get()
    assert str(recording.client_uuid) == _client_uuid(bodies[0])
    assert recording.client_duration_s == pytest.approx(recorded_s + 0.5, abs=2.0)
    assert decoded_seconds(recording) == pytest.approx(recorded_s + 0.5, abs=2.0)
    # Sent means gone from the offer, also after another reload.
    page.reload()
    expect(page.locator("#done")).to_be_visible()  # the only item is done
    expect(page.locator("#unsent-list li")).to_have_count(0)


def _client_uuid(body: bytes) -> str:
    """The client_uuid field of a multipart upload body."""
    text = body.decode("latin-1")
    value = text.split('name="client_uuid"', 1)[1].split("\r\n\r\n", 1)[1].split("\r\n", 1)[0]
    return str(uuid.UUID(value))


def test_an_upload_after_the_session_ended_waits_for_sign_in_and_keeps_the_recording(page, pipeline_in_memory):
    project, item = caption_project(min_s=3, target_s=5)
    user = UserFactory()
    login(page, user)
    page.goto(f"/work/{project.pk}/")
    expect(page.locator("#workspace")).to_be_visible()
    record(page, 4.0)

    page.context.clear_cookies()  # the session ends (signed out elsewhere, or it expired)
    page.click("#submit")
    expect(page.locator("#relogin")).to_be_visible()
    expect(page.locator("#upload-state")).to_contain_text("sign in again")
    assert Recording.objects.count() == 0

    other_tab = page.context.new_page()
    login(other_tab, user)
    other_tab.close()
    # Back in the page, the focus event may already have sent it again (the retry button is then
    # hidden); otherwise the annotator presses Retry now. Decided in the page, in one step.
    page.evaluate("() => { const retry = document.getElementById('upload-retry'); if (!retry.hidden) retry.click(); }")
    expect(page.locator("#result")).to_be_visible(timeout=30_000)
    expect(page.locator("#relogin")).to_be_hidden()
    assert Recording.objects.get().work_item == item


def test_a_silent_microphone_raises_the_silence_warning(playwright, live_server, tmp_path):
    project, _ = caption_project(min_s=30, target_s=40)
    user = UserFactory()
    browser = launch_chromium(playwright, microphone_wav=make_silence(tmp_path / "silence.wav", seconds=20))
    try:
        with open_page(browser, live_server) as page:
            login(page, user)
            page.goto(f"/work/{project.pk}/")
            expect(page.locator("#workspace")).to_be_visible()
            page.click("#record")
            expect(page.locator("#silence")).to_be_hidden()
            expect(page.locator("#silence")).to_be_visible(timeout=10_000)  # after a few seconds of silence
            expect(page.locator("#submit")).to_be_disabled()
            screenshot(page, "caption-silence-warning")
            page.click("#stop")
            expect(page.locator("#silence")).to_be_hidden()
            expect(page.locator("#submit")).to_be_disabled()  # below the 30 s minimum
            expect(page.locator("#submit-hint")).to_contain_text("at least 0:30")
    finally:
        browser.close()
