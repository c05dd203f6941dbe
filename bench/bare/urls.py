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

BARE_CLAIM_SQL = """
UPDATE annotation_app_workitem SET open_slots = open_slots - 1
WHERE id = (
    SELECT id FROM annotation_app_workitem
    WHERE project_id = %s AND open_slots > 0
    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
) RETURNING id
"""


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
