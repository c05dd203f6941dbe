"""One walk from the microphone to a checkpoint, the way the people who use the platform walk it.

Debian's Chromium with a fake microphone playing a ≥ 60 s espeak-ng description:
an annotator records and submits a spoken caption → a real Celery worker (its own process, on a
Redis of this test's own and the test's PostgreSQL) validates, transcribes it with Whisper and
refines it with the bundled LLM → a reviewer accepts it on the review page → an admin cuts a
release on the dashboard and waits for it → `./pixmo validate RELEASE` on the top-level folder →
`./pixmo train --config tiny --data RELEASE --steps 5 --out RUN` → `./pixmo infer --checkpoint
RUN --image IMAGE --prompt "Point to the person"`, each as its own process through the README's
launcher. Every page it passes through is saved as a screenshot (desktop and phone width).

The project asks for 25 s of speech rather than PixMo's 60–90 s so that the walk costs about
three minutes; the microphone still plays the whole description.
"""

import hashlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image as PILImage
from PIL import ImageDraw
from playwright.sync_api import expect

from annotation_app import celery_app
from annotation_app.models import Caption, DatasetRelease, Recording, ReviewStatus, Role
from devtools.servers import OwnRedis, database_url
from pixmo_builders.split import TRAIN, SplitPolicy, assign_split
from tests.annotation_app.browser.conftest import screenshot
from tests.annotation_app.browser_support import login, open_page
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory, WorkItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
MIN_S, TARGET_S = 25.0, 30.0
RELEASE = "journey-1"


def person_png() -> bytes:
    """A street scene with a person in it, whose hash puts it in the train split (the release's
    split follows the image's sha256, and training reads the train split)."""
    for shade in range(256):
        image = PILImage.new("RGB", (640, 480), (150, 190, 230))
        draw = ImageDraw.Draw(image)
        draw.rectangle([0, 320, 640, 480], fill=(90, 90, shade))
        draw.ellipse([300, 150, 340, 190], fill=(230, 190, 160))  # head
        draw.rectangle([305, 190, 335, 270], fill=(200, 40, 40))  # body
        draw.line([310, 270, 300, 330], fill=(40, 40, 90), width=8)  # legs
        draw.line([330, 270, 340, 330], fill=(40, 40, 90), width=8)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        data = buffer.getvalue()
        if assign_split(image_sha256=hashlib.sha256(data).hexdigest(), policy=SplitPolicy()) == TRAIN:
            return data
    raise AssertionError("no shade put the scene in the train split")


@pytest.fixture
def worker(settings, tmp_path):
    """A Celery worker process consuming every queue, as scripts/up.sh runs one, on a Redis of
    this test's own (so it takes no one else's messages) and the test database; this process's
    sends (the live server's) go to that Redis."""
    redis = OwnRedis(tmp_path).start()
    settings.PIXMO_RELEASES_URI = str(tmp_path / "releases")
    previous = celery_app.conf.broker_write_url
    celery_app.conf.broker_write_url = redis.url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    env = {**{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
           "DATABASE_URL": database_url(settings.DATABASES["default"]), "CELERY_BROKER_URL": redis.url,
           "PIXMO_MEDIA_ROOT": settings.MEDIA_ROOT, "PIXMO_VAR_DIR": str(tmp_path / "var"),
           "PIXMO_RELEASES_URI": settings.PIXMO_RELEASES_URI}
    (tmp_path / "var").mkdir()
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "annotation_app", "worker", "-Q", "default,asr,llm", "--pool", "solo",
             "--concurrency", "1", "--without-mingle", "--without-gossip", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait(timeout=20)
        redis.stop()
        celery_app.conf.broker_write_url = previous
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        print("worker log, last lines:\n" + log_path.read_text()[-6000:])  # shown when the test fails


def pixmo(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """The README's launcher, as a user types it after the first command."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return subprocess.run([str(ROOT / "pixmo"), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def player_seconds(page, selector: str) -> float:
    """The length the audio player knows (waits until it knows one)."""
    page.wait_for_function(
        """(selector) => { const a = document.querySelector(selector);
             return a && Number.isFinite(a.duration) && a.duration > 0; }""", arg=selector, timeout=30_000)
    return page.evaluate("(selector) => document.querySelector(selector).duration", selector)


def test_from_the_microphone_to_a_checkpoint(browser, live_server, worker, settings, tmp_path, capsys):
    picture = person_png()
    project = ProjectFactory(kind="caption", name="Street scenes", min_duration_s=MIN_S, target_duration_s=TARGET_S,
                             max_duration_s=120.0, instructions="Describe the scene out loud.")
    item = WorkItemFactory(project=project, image=ImageFactory(width=640, height=480, content=picture,
                                                               byte_size=len(picture)))
    annotator = UserFactory(username="ada")
    reviewer = UserFactory(username="rui", role=Role.REVIEWER)
    admin = UserFactory(username="ama", role=Role.ADMIN)
    timings = {}
    started = time.monotonic()

    # -- the annotator records and submits ------------------------------------------------------
    with open_page(browser, live_server) as page:
        login(page, annotator)
        screenshot(page, "journey-01-annotator-home")
        page.click(f"a[data-project='{project.pk}']")
        expect(page.locator("#workspace")).to_be_visible()
        page.click("#record")
        expect(page.locator("#stop")).to_be_visible()
        recording_started = time.monotonic()
        page.wait_for_timeout(3000)
        screenshot(page, "journey-02-recording")
        page.wait_for_timeout((MIN_S + 2 - (time.monotonic() - recording_started)) * 1000)
        page.click("#stop")
        recorded_s = time.monotonic() - recording_started
        expect(page.locator("#submit")).to_be_enabled()
        heard_s = player_seconds(page, "#playback")  # MediaRecorder's WebM states no length
        assert heard_s == pytest.approx(recorded_s + 0.5, abs=2.0)
        screenshot(page, "journey-03-recorded")
        page.click("#submit")
        expect(page.locator("#result")).to_be_visible(timeout=60_000)
        stored_s = player_seconds(page, "#stored-audio")
        assert stored_s == pytest.approx(heard_s, abs=0.5)
        pipeline_started = time.monotonic()
        expect(page.locator("#caption")).not_to_have_text("Waiting for the clean-up…", timeout=600_000)
        timings["worker: validate, transcribe, refine"] = time.monotonic() - pipeline_started
        screenshot(page, "journey-04-captioned")

    recording = Recording.objects.get(work_item=item)
    assert recording.playback_file, "the stored WebM states no length; players get the remuxed copy"
    caption = Caption.objects.get(work_item=item)
    assert caption.current is not None and caption.current.text.strip()
    transcript = recording.transcripts.get().text
    assert len(transcript.split()) >= 20, transcript

    # -- the reviewer accepts it on the review page ---------------------------------------------
    with open_page(browser, live_server) as page:
        login(page, reviewer)
        page.click("nav >> text=Dashboard")
        expect(page).to_have_url(f"{live_server.url}/dashboard/")
        screenshot(page, "journey-05-dashboard")
        page.goto("/dashboard/review/")
        screenshot(page, "journey-06-review-index")
        page.click(f"a[href='/dashboard/review/{project.pk}/']")
        expect(page.locator("#caption-text")).to_contain_text(caption.current.text.split()[0])
        assert player_seconds(page, "#review-detail audio") == pytest.approx(stored_s, abs=0.5)
        screenshot(page, "journey-07-review")
        page.click("#accept")
        expect(page.locator("#review-detail")).to_contain_text("Nothing to review")
        screenshot(page, "journey-08-reviewed")
    caption.refresh_from_db()
    assert caption.review_status == ReviewStatus.ACCEPTED

    # -- the admin cuts a release and waits for it ----------------------------------------------
    with open_page(browser, live_server) as page:
        login(page, admin)
        page.goto("/dashboard/releases/")
        page.fill("#release-cut input[name=name]", RELEASE)
        page.check("#release-cut input[name=datasets][value='pixmo-cap']")
        screenshot(page, "journey-09-release-form")
        cut_started = time.monotonic()
        page.click("#release-cut button[type=submit]")
        row = page.locator(f"tr.release[data-release='{RELEASE}']")
        expect(row).to_be_visible()
        screenshot(page, "journey-10-release-building")
        expect(row).to_contain_text("Complete", timeout=300_000)  # the page reloads itself when done
        expect(row.locator(".ok")).to_have_text("valid")
        timings["worker: release"] = time.monotonic() - cut_started
        screenshot(page, "journey-11-release-complete")
    release = DatasetRelease.objects.get(name=RELEASE)
    location = Path(release.uri)
    assert (location / "manifest.json").is_file() and (location / "pixmo-cap").is_dir()

    # -- the ML engineer: validate, train, infer on what the dashboard wrote ---------------------
    checked = pixmo("validate", str(location))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Traceback" not in checked.stderr
    run = tmp_path / "run"
    train_started = time.monotonic()
    trained = pixmo("train", "--config", "tiny", "--data", str(location), "--steps", "5", "--out", str(run))
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert "step 5: loss" in trained.stdout
    timings["pixmo train (5 steps)"] = time.monotonic() - train_started
    image = tmp_path / "street.png"
    image.write_bytes(picture)
    answered = pixmo("infer", "--checkpoint", str(run), "--image", str(image), "--prompt", "Point to the person",
                     "--max-new-tokens", "8")  # fmt: skip
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert answered.stdout.strip(), "infer says its answer (or that there was none) in words"

    with capsys.disabled():
        steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
        print(f"\njourney: recorded {recorded_s:.1f} s (player {heard_s:.1f} s, stored copy {stored_s:.1f} s); "
              f"{len(transcript.split())}-word transcript; caption {caption.current.get_source_display()}; {steps}; "
              f"{time.monotonic() - started:.0f} s in all")
