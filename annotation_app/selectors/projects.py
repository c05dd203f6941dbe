from django.db.models import Q, QuerySet

from annotation_app.errors import NotFound
from annotation_app.models import Project, User


def projects_visible_to(*, user: User) -> QuerySet[Project]:
    """Reviewers and admins see every project; annotators the active ones open to them."""
    if user.is_reviewer:
        return Project.objects.all()
    return Project.objects.filter(is_active=True).filter(Q(members__isnull=True) | Q(members=user)).distinct()


def project_get_visible(*, user: User, project_id: int) -> Project:
    project = projects_visible_to(user=user).filter(pk=project_id).first()
    if project is None:
        raise NotFound(f"project {project_id} does not exist or is not open to you")
    return project


def project_slugs(*, project_ids: list[int]) -> tuple[str, ...]:
    """The slugs of these projects, sorted (unknown ids are left out)."""
    return tuple(sorted(Project.objects.filter(pk__in=project_ids).values_list("slug", flat=True)))
