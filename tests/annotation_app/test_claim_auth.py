"""The claim endpoint reads a token's user with one query (`OneQueryTokenAuthentication`); it
answers every credential exactly as DRF's `TokenAuthentication` does on the other endpoints."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory

pytestmark = pytest.mark.django_db


def _post_both(header: str | None, project) -> list[tuple[int, dict, str | None]]:
    """(status, body, WWW-Authenticate) from the claim endpoint and from one on DRF's own class."""
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    answers = []
    for response in (client.post(f"/api/projects/{project.pk}/next/"), client.get("/api/me/")):
        answers.append((response.status_code, response.json(), response.get("WWW-Authenticate")))
    return answers


def test_a_valid_token_claims(annotator):
    item = WorkItemFactory(project=ProjectFactory(kind="points", labels=["person"]))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=annotator).key}")
    response = client.post(f"/api/projects/{item.project_id}/next/")
    assert response.status_code == 200, response.content
    assert response.json()["image"]["id"] == item.image_id


@pytest.mark.parametrize("case", ["none", "unknown", "deleted", "inactive", "malformed", "other scheme"])
def test_bad_credentials_get_drfs_answer(case):
    project = WorkItemFactory(project=ProjectFactory(kind="points", labels=["person"])).project
    user = UserFactory(is_active=case != "inactive")
    token = Token.objects.create(user=user)
    headers = {
        "none": None,
        "unknown": "Token " + "0" * 40,
        "deleted": f"Token {token.key}",
        "inactive": f"Token {token.key}",
        "malformed": f"Token {token.key} extra",
        "other scheme": f"Bearer {token.key}",
    }
    if case == "deleted":
        token.delete()
    claim, drf = _post_both(headers[case], project)
    assert claim[0] in (401, 403) and claim[0] == drf[0]
    assert claim[1:] == drf[1:]


def test_a_session_claims_and_keeps_its_csrf_check(annotator):
    item = WorkItemFactory(project=ProjectFactory(kind="points", labels=["person"]))
    strict = APIClient(enforce_csrf_checks=True)
    strict.force_login(annotator)
    refused = strict.post(f"/api/projects/{item.project_id}/next/")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    client = APIClient()
    client.force_login(annotator)
    assert client.post(f"/api/projects/{item.project_id}/next/").status_code == 200
