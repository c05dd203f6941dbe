import pytest
from django.test import Client

from tests.annotation_app.dashboard.factories import seed_collection


@pytest.fixture
def seeded(db):
    return seed_collection()


@pytest.fixture
def client_as():
    def make(user) -> Client:
        client = Client()
        if user is not None:
            # The user factory sets the password without saving it; log in the stored row so the
            # session's password hash matches the database.
            client.force_login(type(user).objects.get(pk=user.pk))
        return client

    return make


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Seeded users get passwords; the production hasher costs half a second each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
