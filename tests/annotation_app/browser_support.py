"""What both browser suites (annotator pages, dashboard) share: Debian's Chromium, a page that fails
the test on any uncaught script error, and sign-in through the real login form."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run",
)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}
PASSWORD = "pw-for-tests"


def launch(playwright, *extra_args: str):
    """Debian's Chromium (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])


@contextmanager
def open_page(browser, live_server) -> Iterator:
    """A fresh context on the live server; the test fails if the page threw an uncaught error."""
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def login(page, user) -> None:
    """Sign in through the real login form."""
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    page.goto("/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: urlparse(url).path == "/")
