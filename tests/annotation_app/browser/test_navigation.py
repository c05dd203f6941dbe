"""In Debian's Chromium: a reviewer reaches the dashboard from the top bar, and no page asks for
anything that is not there (the favicon included)."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotation_app.models import Role
from tests.annotation_app.browser_support import NARROW, launch, login, open_page
from tests.annotation_app.factories import ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="module")
def chromium(playwright):
    browser = launch(playwright)
    yield browser
    browser.close()


def test_a_reviewer_reaches_the_dashboard_from_the_top_bar_and_nothing_is_missing(chromium, live_server):
    ProjectFactory(kind="caption", name="Kitchens")
    with open_page(chromium, live_server) as page:
        missing = []
        page.on("response", lambda r: missing.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        login(page, UserFactory(role=Role.REVIEWER))
        page.locator("header.topbar nav").get_by_role("link", name="Dashboard").click()
        page.wait_for_url("**/dashboard/")
        expect(page.locator(".dash-nav [aria-current=page]")).to_have_text("Overview")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SHOTS / "topbar-reviewer-dashboard.png")
        page.set_viewport_size(NARROW)  # the longer top bar still fits a phone
        page.screenshot(path=SHOTS / "topbar-reviewer-dashboard-narrow.png")
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
        icon = page.request.get("/favicon.ico")  # follows the redirect to the static file
        assert icon.ok and icon.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")
        svg = page.request.get(page.locator("link[rel=icon][type='image/svg+xml']").get_attribute("href"))
        assert svg.ok and svg.headers["content-type"].startswith("image/svg+xml")
    assert missing == []
