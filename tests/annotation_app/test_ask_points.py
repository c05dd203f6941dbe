"""Point-explanations: an ask thread that starts with the annotator's points, an answer that refers
to them with point tags, and the pixmo-point-explanations row that an accepted thread becomes."""

import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from annotation_app.models import AskThread, AskTurn
from annotation_app.selectors.export import ExportFilters
from annotation_app.services.releases import release_export, release_request
from pipelines.qa import MAX_POINTS
from pixmo_builders.schemas import POINT_EXPLANATIONS
from tests.annotation_app.factories import ImageFactory, ProjectFactory, WorkItemFactory

pytestmark = pytest.mark.django_db

QUESTION = "Which of these says when the shop opens?"
SIGN = '<point x="25.0" y="12.5" alt="white sign">The white sign</point>'
DOOR = '<point x="62.5" y="70.0" alt="door">the door</point>'


@pytest.fixture
def ask_assignment(api_for, annotator):
    image = ImageFactory(width=640, height=480)
    item = WorkItemFactory(project=ProjectFactory(kind="ask", slug="explain"), image=image)
    response = api_for(annotator).post(f"/api/projects/{item.project.pk}/next/")
    assert response.status_code == 200, response.content
    return response.json()


def start(client, assignment, points):
    body = {"client_uuid": str(uuid.uuid4()), "question": QUESTION, "points": points}
    return client.post(f"/api/assignments/{assignment['id']}/ask/", body, format="json")


@pytest.mark.parametrize(("points", "message"), [
    ([{"x": 101, "y": 5}], "point 1: x is percent of the image width, 0 to 100"),
    ([{"x": 5, "y": 5}, {"x": 5, "y": -0.1}], "point 2: y is percent of the image height, 0 to 100"),
    ([{"y": 5}], "point 1: x: This field is required."),
    ([{"x": 5, "y": 5, "label": "l" * 101}], "point 1: label: Ensure this field has no more than 100 characters."),
    ([{"x": i, "y": 1} for i in range(MAX_POINTS + 1)], f"at most {MAX_POINTS} points per question"),
    ([{"x": 5.01, "y": 5}, {"x": 5.04, "y": 5}], "points 1 and 2 are at the same place (x 5.0, y 5.0)"),
])
def test_bad_points_are_refused_with_the_limit_named(api_for, annotator, ask_assignment, points, message):
    response = start(api_for(annotator), ask_assignment, points)
    assert response.status_code == 400
    assert message in str(response.json())
    assert not AskThread.objects.exists()


def test_points_are_stored_in_percent_and_pixels_with_their_labels(api_for, annotator, ask_assignment):
    response = start(api_for(annotator), ask_assignment, [{"x": 25.04, "y": 12.5, "label": " white sign "},
                                                          {"x": 62.5, "y": 70}])
    assert response.status_code == 201, response.content
    assert response.json()["points"] == [
        {"x": 25.04, "y": 12.5, "x_px": 160.26, "y_px": 60.0, "label": "white sign"},  # percent 3 decimals, px 2
        {"x": 62.5, "y": 70.0, "x_px": 400.0, "y_px": 336.0, "label": ""},
    ]


def test_an_edited_answer_may_point_only_at_the_annotators_points(api_for, annotator, ask_assignment):
    client = api_for(annotator)
    thread = start(client, ask_assignment, [{"x": 25, "y": 12.5}, {"x": 62.5, "y": 70}]).json()
    url = f"/api/ask-threads/{thread['id']}/accept/"
    invented = client.post(url, {"edited_answer": 'The <point x="50.0" y="50.0" alt="x">sign</point>.'}, format="json")
    assert invented.status_code == 400 and "not one of your points" in invented.json()["detail"]
    accepted = client.post(url, {"edited_answer": f"{SIGN} says 9-5, beside {DOOR}."}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"


def test_an_accepted_point_explanation_becomes_a_release_row(api_for, annotator, ask_assignment, tmp_path):
    client = api_for(annotator)
    thread = start(client, ask_assignment, [{"x": 25, "y": 12.5, "label": "white sign"}, {"x": 62.5, "y": 70}]).json()
    AskTurn.objects.filter(thread_id=thread["id"], index=1).update(text="It opens at nine.", status="ready")
    answer = f"{SIGN} says it opens at 9, next to {DOOR}."
    client.post(f"/api/ask-threads/{thread['id']}/accept/", {"edited_answer": answer}, format="json")
    AskThread.objects.filter(pk=thread["id"]).update(review_status="accepted")

    release = release_request(name="pe", datasets=["pixmo-point-explanations", "pixmo-ask-model-anything"],
                             filters=ExportFilters(), uri=str(tmp_path / "pe")).release
    release = release_export(release=release)
    assert release.status == "complete" and release.validation == {"ok": True, "problems": []}
    data = Path(release.uri) / "pixmo-point-explanations" / "data"
    rows = [row for f in sorted(data.glob("*.parquet")) for row in pq.read_table(f).to_pylist()]
    assert len(rows) == 1 and set(rows[0]) == set(POINT_EXPLANATIONS.arrow.names)
    row = rows[0]
    assert row["question"] == QUESTION and row["response"] == answer
    assert row["parsed_response"] == "<|POINT|> says it opens at 9, next to <|POINT|>."
    assert row["alt_text"] == ["white sign", "door"] and row["inline_text"] == ["The white sign", "the door"]
    assert row["points"] == [[{"x": 25.0, "y": 12.5}], [{"x": 62.5, "y": 70.0}]]
    assert sum(release.counts.get("pixmo-ask-model-anything", {}).values()) == 0  # not released twice


def test_a_pointed_thread_accepted_without_tags_is_released_as_ask_model_anything(
    api_for, annotator, ask_assignment, tmp_path
):
    client = api_for(annotator)
    thread = start(client, ask_assignment, [{"x": 25, "y": 12.5}]).json()
    client.post(f"/api/ask-threads/{thread['id']}/accept/", {"edited_answer": "It opens at nine."}, format="json")
    AskThread.objects.filter(pk=thread["id"]).update(review_status="accepted")
    release = release_export(release=release_request(
        name="untagged", datasets=["pixmo-point-explanations", "pixmo-ask-model-anything"],
        filters=ExportFilters(), uri=str(tmp_path / "untagged")).release)
    assert sum(release.counts.get("pixmo-point-explanations", {}).values()) == 0
    data = Path(release.uri) / "pixmo-ask-model-anything" / "data"
    rows = [row for f in sorted(data.glob("*.parquet")) for row in pq.read_table(f).to_pylist()]
    assert [(row["question"], row["answer"]) for row in rows] == [(QUESTION, "It opens at nine.")]
