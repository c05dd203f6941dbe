"""What both browser suites (annotator pages, dashboard) share: Debian's Chromium, a page that fails
the test on any uncaught script error, any Content-Security-Policy violation and any request to a
host other than the live server, and sign-in through the real login form."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Error as PlaywrightError

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run",
)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}
PASSWORD = "pw-for-tests"
# Runs before any page script in every document: records each CSP violation in
# window.__cspViolations and hands it to the test at once (a later navigation loses the window).
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const violation = `${event.effectiveDirective} blocked ${event.blockedURI || "(inline)"}`
    + ` at ${event.sourceFile || event.documentURI}:${event.lineNumber} ${event.sample || ""}`.trimEnd();
  window.__cspViolations.push(violation);
  window.__pixmoCspViolation(violation);
}, true);
"""
LOCAL_SCHEMES = ("data:", "blob:", "about:")


def launch(playwright, *extra_args: str):
    """Debian's Chromium (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])


class PageWatch:
    """What went wrong in a browser context: uncaught errors, CSP violations, outside requests."""

    def __init__(self, context, origin: str):
        self.errors, self.violations, self.outside = [], [], []
        self.origin = origin
        context.expose_function("__pixmoCspViolation", self._violation)
        context.add_init_script(CSP_RECORDER)
        context.on("request", self._request)
        context.on("console", self._console)

    def watch(self, page) -> None:
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _violation(self, violation: str) -> None:
        if violation not in self.violations:
            self.violations.append(violation)

    def _request(self, request) -> None:
        url = request.url
        if not url.startswith(LOCAL_SCHEMES) and _origin(url) != self.origin:
            self.outside.append(f"{request.method} {url}")

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self._violation(f"console: {message.text}")

    def collect(self, pages) -> None:
        """Violations still only in a page's window.__cspViolations (the last moments before now)."""
        for page in pages:
            try:
                for violation in page.evaluate("window.__cspViolations || []"):
                    self._violation(violation)
            except PlaywrightError:  # a page mid-navigation or closed: its events were handed over already
                continue

    def problems(self) -> list[str]:
        return ([f"uncaught error: {e}" for e in self.errors]
                + [f"CSP violation: {v}" for v in self.violations]
                + [f"request to another host: {r}" for r in self.outside])


def _origin(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}"


@contextmanager
def open_page(browser, live_server) -> Iterator:
    """A fresh context on the live server. The test fails if a page threw an uncaught error,
    violated the Content-Security-Policy, or sent a request to any host but the live server."""
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    watch = PageWatch(context, _origin(live_server.url))
    context.on("page", watch.watch)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
        watch.collect(context.pages)
    finally:
        context.close()
    problems = watch.problems()
    assert not problems, "the pages went wrong:\n" + "\n".join(problems)


def login(page, user) -> None:
    """Sign in through the real login form."""
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    page.goto("/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: urlparse(url).path == "/")
