"""The reliability tests use the app suite's fixtures: users by role, API clients, a media folder."""

from tests.annotation_app.conftest import (  # noqa: F401
    admin_user,
    annotator,
    api_for,
    media_root,
    other_annotator,
    reviewer,
)
