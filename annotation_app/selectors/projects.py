from django.db.models import Q, QuerySet

from annotation_app.errors import NotFound, PermissionDenied
from annotation_app.models import Project, User


def _open_to(user: User) -> Q:
    """A project with no members is open to everyone; one with members to its members alone."""
    return Q(members__isnull=True) | Q(members=user)


def projects_visible_to(*, user: User) -> QuerySet[Project]:
    """Reviewers and admins see every project; annotators the active ones open to them."""
    if user.is_reviewer:
        return Project.objects.all()
    return projects_open_to_work(user=user)


def projects_open_to_work(*, user: User) -> QuerySet[Project]:
    """The active projects the user may claim work in, whatever their role: reviewers and admins
    see every project, but do a members-only project's work only where they are members."""
    return Project.objects.filter(is_active=True).filter(_open_to(user)).distinct()


def project_open_to(*, user: User, project: Project) -> bool:
    """Whether the project is open to the user's work (active or not). One query."""
    return Project.objects.filter(pk=project.pk).filter(_open_to(user)).exists()


def project_get_visible(*, user: User, project_id: int) -> Project:
    project = projects_visible_to(user=user).filter(pk=project_id).first()
    if project is None:
        raise NotFound(f"project {project_id} does not exist or is not open to you")
    return project


def project_get_workable(*, user: User, project_id: int) -> Project:
    """The project, for a page that claims its work: NotFound when the user may not see it,
    PermissionDenied when they see it (a reviewer, an admin) but are not one of its members."""
    project = project_get_visible(user=user, project_id=project_id)
    if not project_open_to(user=user, project=project):
        raise PermissionDenied(not_a_member_message(project=project))
    return project


def not_a_member_message(*, project: Project) -> str:
    return f"project '{project.slug}' is open to its members only, and you are not one of them; an admin can add you"


def project_slugs(*, project_ids: list[int]) -> tuple[str, ...]:
    """The slugs of these projects, sorted (unknown ids are left out)."""
    return tuple(sorted(Project.objects.filter(pk__in=project_ids).values_list("slug", flat=True)))
