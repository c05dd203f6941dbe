"""Every dashboard page: anonymous → login, annotator → 403, reviewer and admin → 200 with content."""

import pytest
from django.urls import reverse

PAGES = {
    "dashboard:overview": ({}, "Work per stage"),
    "dashboard:review-index": ({}, "Review queues"),
    "dashboard:review": ({"project_id": "caption_project"}, "Audio receipt"),
    "dashboard:annotators": ({}, "Recording durations"),
    "dashboard:annotators-csv": ({}, "username,role,active_hours"),
    "dashboard:pipeline": ({}, "Failed jobs"),
    "dashboard:quality": ({}, "Transcript agreement"),
    "dashboard:leaderboard": ({}, "How judgments count"),
    "dashboard:releases": ({}, "pixmo-cap-v1"),
}


def page_url(name, kwargs, seeded):
    return reverse(name, kwargs={k: seeded[v].pk for k, v in kwargs.items()})


def test_anonymous_is_sent_to_login(seeded, client_as):
    client = client_as(None)
    for name, (kwargs, _) in PAGES.items():
        response = client.get(page_url(name, kwargs, seeded))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login") + "?next="), name


def test_annotator_is_forbidden(seeded, client_as, annotator):
    client = client_as(annotator)
    for name, (kwargs, _) in PAGES.items():
        assert client.get(page_url(name, kwargs, seeded)).status_code == 403, name


@pytest.mark.parametrize("role", ["reviewer", "admin_user"])
def test_reviewer_and_admin_see_every_page(role, seeded, client_as, request):
    client = client_as(request.getfixturevalue(role))
    for name, (kwargs, marker) in PAGES.items():
        response = client.get(page_url(name, kwargs, seeded))
        assert response.status_code == 200, name
        assert marker in response.content.decode(), name


def test_admin_actions_are_forbidden_to_reviewers(seeded, client_as, reviewer):
    from annotation_app.models import DatasetRelease, PipelineJob

    failed = PipelineJob.objects.get(status="failed")
    client = client_as(reviewer)
    assert client.post(reverse("dashboard:pipeline-retry", args=[failed.pk])).status_code == 403
    assert client.post(reverse("dashboard:release-cut"), {"name": "x", "datasets": ["pixmo-cap"]}).status_code == 403
    assert PipelineJob.objects.get(pk=failed.pk).status == "failed"
    assert not DatasetRelease.objects.filter(name="x").exists()


def test_actions_need_post(seeded, client_as, admin_user):
    assert client_as(admin_user).get(reverse("dashboard:release-cut")).status_code == 405
