"""The top bar: who gets which link; the favicon every page links and /favicon.ico."""

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

from annotation_app.models import Role
from tests.annotation_app.factories import UserFactory

pytestmark = pytest.mark.django_db

DASHBOARD_LINK = '<a href="/dashboard/">Dashboard</a>'


@pytest.mark.parametrize(("role", "sees_dashboard"), [(Role.ANNOTATOR, False), (Role.REVIEWER, True), (Role.ADMIN, True)])
def test_the_top_bar_links_the_dashboard_for_reviewers_and_admins(client, role, sees_dashboard):
    client.force_login(UserFactory(role=role))
    for path in ("/", "/dashboard/") if sees_dashboard else ("/",):
        page = client.get(path).content.decode()
        assert (DASHBOARD_LINK in page) is sees_dashboard, path


def test_every_page_links_a_local_favicon(client):
    page = client.get("/login/").content.decode()
    assert '<link rel="icon" href="/static/annotation_app/favicon.svg" type="image/svg+xml">' in page
    assert '<link rel="icon" href="/static/annotation_app/favicon.ico"' in page
    svg = finders.find("annotation_app/favicon.svg")
    assert svg and open(svg).read().startswith("<svg")
    with Image.open(finders.find("annotation_app/favicon.ico")) as ico:
        assert ico.format == "ICO" and (32, 32) in ico.info["sizes"]


def test_favicon_ico_answers_without_signing_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/annotation_app/favicon.ico"
    assert "max-age=86400" in response["Cache-Control"]
