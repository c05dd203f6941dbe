import pytest
from rest_framework.test import APIClient

from annotation_app.models import Role
from tests.annotation_app.factories import UserFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def annotator(db):
    return UserFactory(role=Role.ANNOTATOR, username="anna")


@pytest.fixture
def other_annotator(db):
    return UserFactory(role=Role.ANNOTATOR, username="otto")


@pytest.fixture
def reviewer(db):
    return UserFactory(role=Role.REVIEWER, username="rita")


@pytest.fixture
def admin_user(db):
    return UserFactory(role=Role.ADMIN, username="adam")


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api_for():
    return client_for
