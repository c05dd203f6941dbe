"""Real-browser fixtures: Debian's Chromium driven by Playwright, a fake microphone that plays an
espeak-ng description of a scene, the Django live server on the real database.
"""

import io
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from PIL import Image as PILImage
from PIL import ImageDraw

from annotation_app import celery_app
from devtools.speech import make_scene_speech
from tests.annotation_app.browser_support import DESKTOP, NARROW, SCREENSHOTS, launch, login, open_page

__all__ = ["DESKTOP", "launch_chromium", "login", "scene_png", "screenshot"]


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory) -> Path:
    return make_scene_speech(tmp_path_factory.mktemp("speech") / "scene.wav", seconds_min=60, sample_rate=48_000)


def launch_chromium(playwright, *, microphone_wav: Path):
    """Debian's Chromium with a fake microphone that plays `microphone_wav`."""
    return launch(
        playwright,
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone_wav}", "--autoplay-policy=no-user-gesture-required",
    )


@pytest.fixture(scope="session")
def browser(playwright, speech_wav):
    browser = launch_chromium(playwright, microphone_wav=speech_wav)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, live_server):
    with open_page(browser, live_server) as page:
        yield page


@pytest.fixture
def pipeline_eager(eager_celery):
    """Run the Celery pipeline inline, inside the request that enqueues it (after commit)."""


@pytest.fixture
def pipeline_in_memory():
    """Queue Celery messages in this process's memory, where no worker takes them; tests run the
    task they mean to with `.apply()`. No message reaches a shared broker."""
    previous = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    celery_app.conf.broker_url = "memory://"
    celery_app.conf.task_always_eager = False
    _forget_broker_connections()
    yield
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = previous
    _forget_broker_connections()


def _forget_broker_connections() -> None:
    # The app caches its connection pools on first use; drop them so the next message goes to
    # the broker URL configured now (kombu keeps one pool per URL, so nothing is leaked).
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def scene_png(width: int, height: int, *, circles: list[tuple[int, int]] = ()) -> ContentFile:
    """A picture with a sky, a ground, a sign with text, and red circles at the given pixels."""
    image = PILImage.new("RGB", (width, height), (150, 190, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, height * 2 // 3, width, height], fill=(90, 140, 70))
    draw.rectangle([width // 20, height // 10, width // 20 + 160, height // 10 + 50], fill=(250, 250, 240))
    draw.text((width // 20 + 12, height // 10 + 18), "OPEN 9-5", fill=(20, 20, 20))
    for x, y in circles:
        draw.ellipse([x - 14, y - 14, x + 14, y + 14], fill=(210, 30, 30), outline=(80, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name="scene.png")


def screenshot(page, name: str) -> None:
    """Save the page at 1280×800 and on a narrow phone screen; the narrow page must not scroll sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=SCREENSHOTS / f"{name}-1280x800.png", full_page=True)
    page.set_viewport_size(NARROW)
    page.wait_for_timeout(150)  # the viewer refits on resize
    page.screenshot(path=SCREENSHOTS / f"{name}-narrow.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(150)
    assert overflow <= 1, f"{name}: the page is {overflow}px wider than a narrow screen"
