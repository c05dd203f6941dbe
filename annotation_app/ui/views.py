"""Thin views: each renders a task page; the page's script talks to the REST API."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from annotation_app import errors
from annotation_app.selectors.ui import task_page_context


@login_required
def task_page(request: HttpRequest, project_id: int) -> HttpResponse:
    try:
        context = task_page_context(user=request.user, project_id=project_id)
    except errors.NotFound as error:
        raise Http404(str(error)) from None
    except errors.PermissionDenied as error:
        raise PermissionDenied(str(error)) from None
    return render(request, context["template_name"], context)
