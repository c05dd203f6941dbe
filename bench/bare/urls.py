"""The real URLs plus two bare views, the baselines of bench/upload.py.

`bare-upload/` parses the same multipart body and writes the same bytes to the same storage,
with no authentication, checks, rows or jobs; `bare-claim/<project>/` runs one indexed
`UPDATE … RETURNING` that takes a slot and nothing else.
"""

from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from annotation_app.urls import urlpatterns as platform_urls
from bench.bare.sql import BARE_CLAIM_SQL


@csrf_exempt
def bare_upload(request):
    audio = request.FILES["audio"]
    name = default_storage.save(f"bench/{audio.name}", audio)
    return JsonResponse({"file": name}, status=201)


@csrf_exempt
def bare_claim(request, project_id: int):
    with connection.cursor() as cursor:
        cursor.execute(BARE_CLAIM_SQL, [project_id])
        row = cursor.fetchone()
    return JsonResponse({"id": row[0] if row else None}, status=200 if row else 404)


urlpatterns = [
    path("bench/bare-upload/", bare_upload),
    path("bench/bare-claim/<int:project_id>/", bare_claim),
    *platform_urls,
]
