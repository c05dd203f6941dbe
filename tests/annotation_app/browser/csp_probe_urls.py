"""The site's URLs plus one page that breaks the Content-Security-Policy, to show the browser
suites' watch catches it."""

from django.http import HttpResponse
from django.urls import include, path

PROBE = """<!doctype html><html><head><title>probe</title></head><body>
<script>document.title = "the inline script ran";</script>
<p style="color: red">styled inline</p>
<button type="button" onclick="document.title = 'the inline handler ran'">press</button>
</body></html>"""

urlpatterns = [
    path("csp-probe/", lambda request: HttpResponse(PROBE), name="csp-probe"),
    path("", include("annotation_app.urls")),
]
