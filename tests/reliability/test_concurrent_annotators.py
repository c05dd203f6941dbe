"""Fifty annotators at once over HTTP: gunicorn (several workers) on PostgreSQL, token API.

Each annotator loops claim → submit (a point set) until the project has no work left for them.
With overlap k = 1 and k = 2 and 2,000 claims each, the table must show no item given to more
annotators than k, no annotator given one item twice, every submitted claim stored once, and no
5xx; p50/p99 of both calls are printed.
"""

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count
from rest_framework.authtoken.models import Token

from annotation_app.models import Assignment, PointSet, WorkItem
from devtools.servers import Gunicorn, TokenClient, latency_summary
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory

ANNOTATORS = 50
CLAIMS = 2000

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="gunicorn workers need a shared database"),
]


@pytest.fixture
def server(gunicorn_env, tmp_path):
    with Gunicorn(folder=tmp_path, env=gunicorn_env, workers=3, threads=8) as gunicorn:
        yield gunicorn


def seed(k: int):
    project = ProjectFactory(kind="points", overlap_k=k, labels=["person"])
    image = ImageFactory(width=640, height=480)
    WorkItem.objects.bulk_create(
        [WorkItem(project=project, image=image, variant=v, open_slots=k) for v in range(CLAIMS // k)])
    annotators = [UserFactory(username=f"load-{k}-{i}") for i in range(ANNOTATORS)]
    tokens = [Token.objects.create(user=user).key for user in annotators]
    return project, tokens


def annotate(base_url: str, project_id: int, token: str, out: dict) -> None:
    client = TokenClient(base_url, token)
    try:
        while True:
            status, body, seconds = client.json("POST", f"/api/projects/{project_id}/next/")
            out["claim_s"].append(seconds)
            out["statuses"][status] += 1
            if status == 404:  # nothing left for this annotator
                return
            if status != 200:
                out["errors"].append(("claim", status, body))
                return
            payload = {"point_sets": [{"client_uuid": str(uuid.uuid4()), "label": "person",
                                       "points": [{"x_px": 320, "y_px": 240}]}]}
            status, body, seconds = client.json("POST", f"/api/assignments/{body['id']}/points/", payload)
            out["submit_s"].append(seconds)
            out["statuses"][status] += 1
            if status != 201:
                out["errors"].append(("submit", status, body))
                return
            out["submitted"] += 1
    finally:
        client.close()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("k", [1, 2])
def test_fifty_annotators_claim_and_submit_without_overlap(server, k):
    project, tokens = seed(k)
    results = [{"claim_s": [], "submit_s": [], "statuses": Counter(), "errors": [], "submitted": 0}
               for _ in tokens]
    threads = [threading.Thread(target=annotate, args=(server.url, project.pk, token, out))
               for token, out in zip(tokens, results, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    errors = [error for out in results for error in out["errors"]]
    statuses = sum((out["statuses"] for out in results), Counter())
    claim_s = [s for out in results for s in out["claim_s"]]
    submit_s = [s for out in results for s in out["submit_s"]]
    submitted = sum(out["submitted"] for out in results)

    assignments = Assignment.objects.filter(project=project)
    over_assigned = (WorkItem.objects.filter(project=project).annotate(n=Count("assignments"))
                     .filter(n__gt=k).count())
    twice = (assignments.values("work_item", "annotator").annotate(n=Count("id")).filter(n__gt=1).count())
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    print(f"\n{ANNOTATORS} annotators, k={k}: {submitted} claims submitted over gunicorn (3 workers × 8 threads); "
          f"claim {latency_summary(claim_s)}; submit {latency_summary(submit_s)}; "
          f"over-assigned {over_assigned}, given twice {twice}, 5xx {server_errors}; statuses {dict(statuses)}")

    assert errors == [], errors[:5]
    assert server_errors == 0
    assert submitted == CLAIMS
    assert over_assigned == 0
    assert twice == 0
    assert assignments.filter(status="submitted").count() == CLAIMS
    assert PointSet.objects.filter(assignment__project=project).count() == CLAIMS
    assert not WorkItem.objects.filter(project=project, open_slots__gt=0).exists()
