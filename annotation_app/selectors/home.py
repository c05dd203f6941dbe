from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from annotation_app.models import Assignment, User
from annotation_app.models.work import AssignmentStatus
from annotation_app.selectors.projects import projects_open_to_work


def annotator_home(*, user: User) -> dict:
    """Projects the user may work in, with their open items, and today's server-measured work."""
    start_of_day = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    projects = projects_open_to_work(user=user).annotate(
        open_items=Count("items", filter=Q(items__open_slots__gt=0))
    )
    today = Assignment.objects.filter(annotator=user, claimed_at__gte=start_of_day)
    stats = today.aggregate(
        done=Count("id", filter=Q(status=AssignmentStatus.SUBMITTED)),
        active_seconds=Sum("active_seconds"),
    )
    return {
        "projects": projects,
        "done_today": stats["done"] or 0,
        "active_today": timedelta(seconds=round(stats["active_seconds"] or 0)),
    }
