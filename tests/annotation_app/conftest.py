import os

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


@pytest.fixture
def eager_celery():
    """Celery tasks run inline, inside the request that sends them (after commit)."""
    import annotation_app.tasks  # noqa: F401 - registers the tasks: eager mode runs only registered ones
    from annotation_app import celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api_for():
    return client_for


# One Playwright per test session: its sync API runs an event loop in this thread, and a second
# one started beside it (another test folder's browser) would refuse to start.
@pytest.fixture(scope="session")
def playwright():
    # Playwright's sync API keeps an event loop in this thread while it runs; the ORM calls the
    # tests make here between browser steps are still plain synchronous calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE")
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
