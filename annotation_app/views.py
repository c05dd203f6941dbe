"""Server-rendered pages: login, the annotator home, login-protected local media, the favicon."""

import re

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
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
    return _ranged(request, FileResponse(media.file, content_type=media.content_type))


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _ranged(request: HttpRequest, response: FileResponse) -> HttpResponse:
    """Answer one `Range: bytes=a-b` with 206 and those bytes, so audio players can seek; several
    ranges, or none, get the whole file. A range past the end is 416 naming the size."""
    response["Accept-Ranges"] = "bytes"
    size = int(response.get("Content-Length") or 0)
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if not match or not size or match.group(1) == match.group(2) == "":
        return response
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        response.file_to_stream.close()  # not response.close(): that signals the request's end
        refused = HttpResponse(f"the range asked for is outside the file's {size} bytes", status=416,
                               content_type="text/plain; charset=utf-8")
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    handle = response.file_to_stream
    handle.seek(start)
    partial = StreamingHttpResponse(_chunks(handle, end - start + 1), status=206, content_type=response["Content-Type"])
    partial["Content-Length"] = str(end - start + 1)
    partial["Content-Range"] = f"bytes {start}-{end}/{size}"
    partial["Accept-Ranges"] = "bytes"
    return partial


def _chunks(handle, length: int, chunk: int = 64 * 1024):
    try:
        while length > 0:
            data = handle.read(min(chunk, length))
            if not data:
                return
            length -= len(data)
            yield data
    finally:
        handle.close()


@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers and tools ask for /favicon.ico whatever the page links; send them to the static one."""
    return redirect(static("annotation_app/favicon.ico"))
