"""Who may open the dashboard: reviewers and admins; actions that change the collection: admins."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def reviewer_required(view):
    """Anonymous visitors go to the login page; signed-in annotators get 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_reviewer:
            raise PermissionDenied("the dashboard is for reviewers and admins")
        return view(request, *args, **kwargs)

    return wrapped


def admin_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_pixmo_admin:
            raise PermissionDenied("this action is for admins")
        return view(request, *args, **kwargs)

    return wrapped
