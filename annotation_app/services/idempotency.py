"""Submit-by-client-UUID: a browser's retried submission returns the first result.

One rule for every submission kind (recordings, ask threads, judgments, point sets): a duplicate
client UUID — sent again later, or racing the first request — returns the stored row with
created=False, and a UUID another annotator used is a Conflict. Under concurrency the second
request either hits the unique constraint or, having waited on the assignment's row lock, finds
the assignment already finished; either way it looks again and returns what the first stored.
"""

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction

from annotation_app.errors import Conflict, ServiceError
from annotation_app.models import User

T = TypeVar("T")


def submit_once(*, find: Callable[[], T | None], create: Callable[[], T], annotator: User) -> tuple[T, bool]:
    """`find` returns the stored result for the client UUID(s) or None; `create` stores a new one
    in its own transaction (savepoint). Returns (result, created)."""
    stored = _owned(find(), annotator)
    if stored is not None:
        return stored, False
    try:
        with transaction.atomic():
            return create(), True
    except (IntegrityError, ServiceError):
        stored = _owned(find(), annotator)
        if stored is None:
            raise
        return stored, False


def _owned(stored, annotator: User):
    if stored is None:
        return None
    rows = stored if isinstance(stored, list) else [stored]
    if not rows:
        return None
    if any(row.annotator_id != annotator.pk for row in rows):
        raise Conflict("this client UUID was already used by another annotator")
    return stored
