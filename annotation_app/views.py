"""Server-rendered pages: login, the annotator home, login-protected local media, the favicon."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control

from annotation_app.errors import NotFound
from annotation_app.selectors.home import annotator_home
from annotation_app.selectors.media import media_file_open_visible


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "annotation_app/home.html", annotator_home(user=request.user))


@login_required
def protected_media(request: HttpRequest, path: str) -> FileResponse:
    """Local media only for signed-in users; on S3 the browser gets presigned URLs instead."""
    try:
        media = media_file_open_visible(user=request.user, path=path)
    except NotFound as error:
        raise Http404(str(error)) from None
    return FileResponse(media.file, content_type=media.content_type)


@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers and tools ask for /favicon.ico whatever the page links; send them to the static one."""
    return redirect(static("annotation_app/favicon.ico"))
