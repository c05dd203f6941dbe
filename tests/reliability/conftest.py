"""The reliability tests use the app suite's fixtures: users by role, API clients, a media folder;
`gunicorn_env` is what a gunicorn of theirs needs to serve the test database."""

import pytest

from devtools.servers import database_url
from tests.annotation_app.conftest import (  # noqa: F401
    admin_user,
    annotator,
    api_for,
    media_root,
    other_annotator,
    reviewer,
)


@pytest.fixture
def gunicorn_env(settings, tmp_path) -> dict:
    """The test database, media folder and a scratch var folder; pipeline jobs go to a
    filesystem broker there (no worker runs, nothing reaches the suite's Redis)."""
    return {
        "DATABASE_URL": database_url(settings.DATABASES["default"]),
        "PIXMO_MEDIA_ROOT": settings.MEDIA_ROOT,
        "PIXMO_VAR_DIR": str(tmp_path / "var"),
        "CELERY_BROKER_URL": "filesystem://",
    }
