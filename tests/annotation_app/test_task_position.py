"""GET /api/assignments/<id>/position/: the item's place in its project ("item 3 of 40"), for its annotator only."""

import pytest

from annotation_app.services.assignments import assignment_claim
from tests.annotation_app.factories import ProjectFactory, WorkItemFactory

pytestmark = pytest.mark.django_db


def test_the_position_counts_the_project_items_not_global_ids(api_for, annotator, other_annotator, django_assert_num_queries):
    WorkItemFactory.create_batch(4)  # other projects' items take lower global ids
    project = ProjectFactory(kind="points")
    items = WorkItemFactory.create_batch(3, project=project)
    assignment = assignment_claim(annotator=annotator, project=project)
    client = api_for(annotator)
    with django_assert_num_queries(2):  # the own assignment, one count
        response = client.get(f"/api/assignments/{assignment.pk}/position/")
    assert response.status_code == 200
    assert response.json() == {"position": [i.pk for i in items].index(assignment.work_item_id) + 1, "total": 3}
    assert assignment.work_item_id > 3  # so "item N" with the id would have said something else

    refused = api_for(other_annotator).get(f"/api/assignments/{assignment.pk}/position/")
    assert refused.status_code == 404 and "does not exist" in refused.json()["detail"]
