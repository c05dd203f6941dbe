"""Human preference: one rater's choice between two models' answers, shown in a recorded order."""

import hashlib
import uuid

from django.conf import settings

from annotation_app.errors import ServiceError
from annotation_app.models import Assignment, PreferenceJudgment, ProjectKind, User
from annotation_app.models.compare import Preference
from annotation_app.services.assignments import assignment_finish, assignment_lock_for_submission
from annotation_app.services.audit import audit_log
from annotation_app.services.idempotency import submit_once

SCREEN_CHOICES = ("left", "right", "tie", "tie_bad", "dont_know")


def compare_is_swapped(*, assignment: Assignment) -> bool:
    """Whether model B is shown on the left: drawn per assignment, reproducible on the server."""
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:compare:{assignment.pk}".encode()).digest()
    return bool(digest[0] & 1)


def judgment_submit(
    *, assignment: Assignment, annotator: User, choice: str, client_uuid: uuid.UUID
) -> tuple[PreferenceJudgment, bool]:
    if assignment.project.kind != ProjectKind.COMPARE:
        raise ServiceError("judgments belong to compare projects only")
    if choice not in SCREEN_CHOICES:
        raise ServiceError(f"choice must be one of {', '.join(SCREEN_CHOICES)}")
    return submit_once(
        find=PreferenceJudgment.objects.filter(client_uuid=client_uuid).first, annotator=annotator,
        create=lambda: _store(assignment=assignment, annotator=annotator, choice=choice, client_uuid=client_uuid),
    )


def _store(*, assignment, annotator, choice, client_uuid) -> PreferenceJudgment:
    assignment = assignment_lock_for_submission(assignment=assignment, annotator=annotator)
    swapped = compare_is_swapped(assignment=assignment)
    judgment = PreferenceJudgment.objects.create(
        compare_item=assignment.work_item.compare,
        assignment=assignment,
        annotator=annotator,
        client_uuid=client_uuid,
        swapped=swapped,
        winner=_winner(choice, swapped),
    )
    assignment_finish(assignment=assignment)
    audit_log(actor=annotator, action="judgment.submit", target=judgment, winner=judgment.winner)
    return judgment


def _winner(choice: str, swapped: bool) -> str:
    """Screen side → model: left shows A unless swapped."""
    if choice == "left":
        return Preference.B if swapped else Preference.A
    if choice == "right":
        return Preference.A if swapped else Preference.B
    return choice
