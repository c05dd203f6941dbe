"""Pages under the Content-Security-Policy in Debian's Chromium: the API docs (Swagger UI from our
static files), the admin, login and home run with no violation and no request to another host;
and a page that breaks the policy is caught."""

import pytest
from playwright.sync_api import expect

from annotation_app.models import Role
from tests.annotation_app.browser.conftest import login
from tests.annotation_app.browser_support import open_page
from tests.annotation_app.factories import ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_swagger_ui_under_the_policy(page):
    login(page, UserFactory(role=Role.REVIEWER))
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("PixMo Studio API")
    expect(page.locator(".opblock-tag").first).to_be_visible()
    page.locator(".opblock-summary").first.click()  # an operation opens, its icons and code render
    expect(page.locator(".opblock-body").first).to_be_visible()


def test_login_home_and_admin_pages_run_under_the_policy(page, django_user_model):
    project = ProjectFactory(kind="caption", name="Kitchens")
    admin = django_user_model.objects.create(username="site-admin", role=Role.ADMIN, is_staff=True,
                                             is_superuser=True)
    login(page, admin)
    expect(page.locator("main")).to_contain_text("Kitchens")
    for path in ["/admin/", "/admin/annotation_app/project/", f"/admin/annotation_app/project/{project.pk}/change/",
                 "/admin/annotation_app/user/add/"]:
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()
    page.goto("/admin/annotation_app/project/")
    page.locator("#action-toggle").check()  # the admin's own scripts run: the counter follows
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")


@pytest.mark.urls("tests.annotation_app.browser.csp_probe_urls")
def test_a_page_with_inline_script_style_and_handler_fails_the_test(browser, live_server):
    with pytest.raises(AssertionError) as failure, open_page(browser, live_server) as page:
        page.goto("/csp-probe/")
        page.click("button")
        for _ in range(50):  # page.evaluate runs outside the page's policy; wait_for_function would not
            if page.evaluate("window.__cspViolations.length") >= 3:
                break
            page.wait_for_timeout(100)
        title = page.title()
    assert title == "probe"  # neither the inline script nor the inline handler ran
    message = str(failure.value)
    assert "eval" not in message  # only what the page itself did
    assert "CSP violation: script-src-elem blocked inline" in message
    assert "CSP violation: style-src-attr blocked inline" in message
    assert "CSP violation: script-src-attr blocked inline" in message


def test_a_request_to_another_host_fails_the_test(browser, live_server):
    other_host = live_server.url.replace("localhost", "127.0.0.1")
    assert other_host != live_server.url
    caught = pytest.raises(AssertionError, match=rf"request to another host: GET {other_host}/login/")
    with caught, open_page(browser, live_server) as page:
        page.goto(f"{other_host}/login/")
