"""Server-rendered pages: login, the annotator home, and login-protected local media."""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from annotation_app.selectors.home import annotator_home


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "annotation_app/home.html", annotator_home(user=request.user))


@login_required
def protected_media(request: HttpRequest, path: str) -> FileResponse:
    """Local media only for signed-in users; on S3 the browser gets presigned URLs instead."""
    root = Path(settings.MEDIA_ROOT).resolve()
    file_path = (root / path).resolve()
    if root not in file_path.parents or not file_path.is_file():
        raise Http404("no such file")
    if path.startswith("recordings/") and not request.user.is_reviewer:
        from annotation_app.models import Recording

        if not Recording.objects.filter(file=path, annotator=request.user).exists():
            raise Http404("no such file")
    content_type = mimetypes.guess_type(file_path.name)[0] or "application/octet-stream"
    return FileResponse(open(file_path, "rb"), content_type=content_type)
