"""Every submit-by-client-UUID service has one race behaviour: concurrent duplicates of the same
submission store one row and every request gets that row back."""

import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from annotation_app.errors import Conflict
from annotation_app.models import AskThread, PointSet, PreferenceJudgment, Recording
from annotation_app.services.ask import ask_thread_start
from annotation_app.services.assignments import assignment_claim
from annotation_app.services.compare import judgment_submit
from annotation_app.services.points import PointSetInput, point_sets_submit
from annotation_app.services.recordings import recording_submit
from tests.annotation_app.factories import (
    CompareItemFactory,
    ProjectFactory,
    UserFactory,
    WorkItemFactory,
    wav_bytes,
)

COPIES = 6


def _caption_submit(assignment, user, key):
    audio = SimpleUploadedFile("take.wav", wav_bytes(), content_type="audio/wav")
    return recording_submit(assignment=assignment, annotator=user, audio=audio, client_uuid=key)


SUBMITS = {
    "caption": (Recording, _caption_submit),
    "ask": (AskThread, lambda a, u, key: ask_thread_start(assignment=a, annotator=u, question="What is it?",
                                                          client_uuid=key)),
    "compare": (PreferenceJudgment, lambda a, u, key: judgment_submit(assignment=a, annotator=u, choice="left",
                                                                      client_uuid=key)),
    "points": (PointSet, lambda a, u, key: point_sets_submit(
        assignment=a, annotator=u, point_sets=[PointSetInput(client_uuid=key, label="cat", points_px=[(3.0, 4.0)])]
    )),
}


def _assignment(kind: str, user):
    if kind == "compare":
        project = CompareItemFactory().work_item.project
    else:
        project = ProjectFactory(kind=kind)
        WorkItemFactory(project=project)
    return assignment_claim(annotator=user, project=project)


def _pks(result) -> tuple:
    rows = result if isinstance(result, list) else [result]
    return tuple(row.pk for row in rows)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL")
@pytest.mark.parametrize("kind", sorted(SUBMITS))
def test_concurrent_duplicates_store_one_row_and_all_return_it(kind, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    model, submit = SUBMITS[kind]
    user = UserFactory()
    assignment = _assignment(kind, user)
    key = uuid.uuid4()
    barrier = threading.Barrier(COPIES)
    outcomes, errors = [], []

    def send():
        barrier.wait()
        try:
            outcomes.append(submit(assignment, user, key))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert model.objects.count() == 1
    assert len({_pks(result) for result, _ in outcomes}) == 1 and len(outcomes) == COPIES
    assert sorted(created for _, created in outcomes) == [False] * (COPIES - 1) + [True]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(SUBMITS))
def test_a_client_uuid_of_another_annotator_is_a_conflict(kind, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    _, submit = SUBMITS[kind]
    first, second = UserFactory(), UserFactory()
    key = uuid.uuid4()
    submit(_assignment(kind, first), first, key)
    with pytest.raises(Conflict, match="another annotator"):
        submit(_assignment(kind, second), second, key)
