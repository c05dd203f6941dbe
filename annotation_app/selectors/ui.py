"""What the annotator task pages need to start: the project's settings and the API routes."""

from django.db.models import Count, Q
from django.urls import reverse

from annotation_app.models import AskThread, Assignment, Project, User, WorkItem
from annotation_app.selectors.projects import project_get_workable

# The seven guiding questions of the spoken-caption protocol; they stay on screen.
CAPTION_QUESTIONS = (
    "What is the image at first glance?",
    "What are the objects and their counts?",
    "What does the text say?",
    "What are the positions of the objects?",
    "What subtle details are noticeable?",
    "What is in the background?",
    "What is the style and color?",
)


def task_page_context(*, user: User, project_id: int) -> dict:
    """Template context of a task page (the page claims the project's work); raises NotFound when
    the user may not see the project, PermissionDenied when they may not work in it."""
    project = project_get_workable(user=user, project_id=project_id)
    return {
        "project": project,
        "questions": CAPTION_QUESTIONS,
        "task_config": task_config(project=project),
        "template_name": f"annotation_app/ui/{project.kind}.html",
    }


def task_config(*, project: Project) -> dict:
    """The JSON the page's script starts from (rendered with json_script, so it stays escaped)."""
    return {
        "project": {
            "id": project.pk,
            "name": project.name,
            "kind": project.kind,
            "min_duration_s": project.min_duration_s,
            "target_duration_s": project.target_duration_s,
            "max_duration_s": project.max_duration_s,
            "labels": list(project.labels or []),
            "collection_method": project.collection_method,
        },
        "urls": {
            "next": reverse("api-project-next", args=[project.pk]),
            "home": reverse("home"),
            "login": reverse("login"),
        },
    }


def ask_thread_of_assignment(*, assignment: Assignment) -> AskThread | None:
    """The assignment's newest ask thread with its turns, so a reloaded page picks up the thread."""
    return AskThread.objects.filter(assignment=assignment).prefetch_related("turns").order_by("-created_at").first()


def assignment_item_position(*, assignment: Assignment) -> dict:
    """Where the assignment's item stands in its project, items in the order they were added:
    {"position": 3, "total": 40} (1-based), for "item 3 of 40" on the task page. One query."""
    return WorkItem.objects.filter(project_id=assignment.project_id).aggregate(
        position=Count("id", filter=Q(pk__lte=assignment.work_item_id)), total=Count("id"),
    )
