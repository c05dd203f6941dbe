"""Django is set up only for the commands that need the database."""

import os
from contextlib import contextmanager


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotation_app.settings")
    import django

    django.setup()


@contextmanager
def database_errors_as_sentences():
    """A database the command cannot use (unreachable, or its tables not created yet) becomes one
    sentence naming the database and what to do. Diagnosed only after an error, so a command
    that works pays nothing for it."""
    from django.db import DatabaseError

    from pixmo_cli.main import CommandError

    try:
        yield
    except DatabaseError as error:
        raise CommandError(_database_sentence(error)) from None


def _database_sentence(error: Exception) -> str:
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    where = _database_name(connection.settings_dict)
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    try:
        connection.close()
        executor = MigrationExecutor(connection)
        missing = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as reach_error:
        reason = str(reach_error).strip().splitlines()[0] if str(reach_error).strip() else first_line
        return f"cannot reach the database {where} ({reason}); check DATABASE_URL and that the server runs"
    if missing:
        return (
            f"the database {where} lacks {len(missing)} migration(s) (tables not created yet); "
            "run `python manage.py migrate` first"
        )
    return f"the database {where} refused the command ({first_line})"


def _database_name(settings: dict) -> str:
    """Engine, host, port and name; never the password."""
    engine = settings.get("ENGINE", "").rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite:{settings.get('NAME')}"
    host = settings.get("HOST") or "localhost"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"{engine}://{host}{port}/{settings.get('NAME')}"
