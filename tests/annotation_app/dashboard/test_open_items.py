"""The annotator home and the overview agree on a project's open items, and say what each number counts."""

import re

import pytest
from django.urls import reverse

from annotation_app.models import Role
from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory

pytestmark = pytest.mark.django_db


def test_home_and_overview_show_the_same_open_items_and_name_the_units(client_as):
    project = ProjectFactory(name="Kitchens", kind="points", overlap_k=3)
    for slots in (3, 3, 1, 0):  # two untouched images, one with one slot left, one done
        WorkItemFactory(project=project, open_slots=slots)
    home = client_as(UserFactory(role=Role.ANNOTATOR)).get("/").content.decode()
    row = re.search(r"<td>Kitchens</td><td>Pointing</td><td>(\d+)</td>", home)
    assert row and row.group(1) == "3"
    assert "Open items: the images of a project that still want an annotation." in home

    response = client_as(UserFactory(role=Role.REVIEWER)).get(reverse("dashboard:overview"))
    overview = response.content.decode()
    assert 'data-open-items="3">· 3 open items</span>' in overview
    assert response.context["stages"][0]["stages"]["open"] == 7  # annotations still wanted: 3 + 3 + 1
    assert "Stages count annotations, not images" in overview
