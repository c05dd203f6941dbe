"""Every dashboard page in Debian's Chromium with seeded data: charts drawn, keys work, screenshots."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotation_app.models import Caption, CaptionVersion, DatasetRelease, PointSet
from tests.annotation_app.browser_support import SCREENSHOTS, launch, login, open_page
from tests.annotation_app.dashboard.factories import seed_collection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots")

@pytest.fixture(scope="module")
def chromium(playwright):
    browser = launch(playwright)
    yield browser
    browser.close()


@pytest.fixture
def page(chromium, live_server):
    with open_page(chromium, live_server) as page:
        yield page


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"dashboard-{name}.png", full_page=True)


def charts_drawn(page, expected: int) -> None:
    """Chart.js ran: each canvas got its datasets and has non-blank pixels."""
    expect(page.locator("canvas[data-drawn]")).to_have_count(expected)
    inked = page.evaluate("""() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
        return false; })""")
    assert inked == [True] * expected


def test_every_page_with_seeded_data(page, django_user_model):
    from annotation_app.models import Role

    seeded = seed_collection()
    admin = django_user_model.objects.create(username="seed-admin", role=Role.ADMIN)
    login(page, admin)
    pages = [("overview", "/dashboard/", 4), ("annotators", "/dashboard/annotators/", 1),
             ("pipeline", "/dashboard/pipeline/", 2), ("quality", "/dashboard/quality/", 2),
             ("review-index", "/dashboard/review/", 0), ("leaderboard", "/dashboard/leaderboard/", 1)]
    for name, url, charts in pages:
        page.goto(url)
        charts_drawn(page, charts)
        shoot(page, name)
    expect(page.locator("#leaderboard tbody tr").first).to_contain_text("molmo-7b-d")
    page.select_option("select[data-autosubmit]", index=1)  # choosing a project filters the board
    page.wait_for_url("**/dashboard/leaderboard/?project=*")
    charts_drawn(page, 1)

    page.goto("/dashboard/releases/")
    page.locator("details summary").first.click()
    expect(page.locator("#releases")).to_contain_text("ab" * 32)
    shoot(page, "releases")
    # The page follows a build: the bar moves, and the list reloads when the build completes.
    building = DatasetRelease.objects.get(name="pixmo-points-v1")
    DatasetRelease.objects.filter(pk=building.pk).update(progress=0.8)
    expect(page.locator(f'tr[data-release-id="{building.pk}"] .percent')).to_have_text("80 %")
    DatasetRelease.objects.filter(pk=building.pk).update(status="complete", progress=1.0)
    expect(page.locator(f'tr[data-release-id="{building.pk}"]')).to_contain_text("Complete")

    page.goto(f"/dashboard/review/{seeded['ask_project'].pk}/")
    expect(page.locator("#ask-turns li")).to_have_count(2)
    shoot(page, "review-ask")

    page.goto(f"/dashboard/review/{seeded['caption_project'].pk}/")
    expect(page.locator("#caption-text mark").first).to_be_visible()
    expect(page.locator("audio")).to_have_count(2)
    shoot(page, "review-caption")
    # Keyboard: e opens the editor, Ctrl+Enter saves a new version and accepts.
    page.keyboard.press("e")
    expect(page.locator("#edited-text")).to_be_focused()
    page.fill("#edited-text", "A red square on a white oak table.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".messages")).to_contain_text("Edited caption")
    caption = Caption.objects.get(pk=seeded["caption"].pk)
    assert caption.review_status == "accepted"
    assert CaptionVersion.objects.filter(caption=caption).count() == 2

    points_project = seeded["points_project"]
    page.goto(f"/dashboard/review/{points_project.pk}/")
    expect(page.locator("#pointed-image circle.point").first).to_be_visible()
    shoot(page, "review-points")
    # Keyboard: r without a reason focuses the reason box instead of rejecting.
    first = page.locator("#review-queue li.current a").get_attribute("data-target")
    page.keyboard.press("r")
    expect(page.locator("#reason")).to_be_focused()
    page.locator("#reason").blur()
    page.keyboard.press("a")
    expect(page.locator(".messages")).to_contain_text("Accepted point set")
    accepted_id = int(first)
    assert PointSet.objects.get(pk=accepted_id).review_status == "accepted"
    expect(page.locator("#review-queue li")).to_have_count(1)


def test_the_overview_table_fits_its_card(page, django_user_model):
    """At 1280 px the stage table sits inside its card; on a phone it scrolls inside the card."""
    from annotation_app.models import Role
    from tests.annotation_app.browser_support import NARROW
    from tests.annotation_app.factories import ProjectFactory

    seed_collection()
    ProjectFactory(name="A project with a rather long name for the table", kind="caption")
    login(page, django_user_model.objects.create(username="fit-admin", role=Role.ADMIN))
    page.goto("/dashboard/")
    charts_drawn(page, 4)
    fits = """() => { const table = document.getElementById('stages'), box = table.closest('.card');
        const card = box.getBoundingClientRect(), pad = parseFloat(getComputedStyle(box).paddingRight);
        return [table.getBoundingClientRect().right, card.right - pad + 0.5, table.scrollWidth, table.parentElement.clientWidth]; }"""
    right, inner_right, width, room = page.evaluate(fits)
    assert right <= inner_right and width <= room, (right, inner_right, width, room)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "overview-1280.png", full_page=True)
    page.set_viewport_size(NARROW)
    page.wait_for_timeout(150)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    scroller = page.evaluate("() => { const s = document.querySelector('.table-scroll'); return [s.scrollWidth, s.clientWidth]; }")
    assert scroller[0] > scroller[1]  # the table is wider than a phone: it scrolls in its box
    page.screenshot(path=SHOTS / "overview-narrow.png", full_page=True)
