from django.db.models import QuerySet

from annotation_app.errors import NotFound
from annotation_app.models import Assignment, User


def assignments_of(*, annotator: User) -> QuerySet[Assignment]:
    return Assignment.objects.filter(annotator=annotator).select_related(
        "project", "work_item__image", "work_item__compare"
    )


def assignment_get_own(*, annotator: User, assignment_id: int) -> Assignment:
    """An annotator sees only their own assignments; others' look like they do not exist."""
    assignment = assignments_of(annotator=annotator).filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFound(f"assignment {assignment_id} does not exist")
    return assignment
