"""Django is set up only for the commands that need the database."""

import os


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotation_app.settings")
    import django

    django.setup()
