"""Page content on a seeded collection, with bounded query counts on the hot pages."""

import csv
import io
import json

import pytest
from django.urls import reverse

from annotation_app.models import Caption, CaptionVersion
from tests.annotation_app.dashboard.factories import (
    CaptionFactory,
    CaptionVersionFactory,
    RecordingFactory,
    TranscriptFactory,
)


def chart(response, chart_id):
    html = response.content.decode()
    start = html.index(f'<script id="{chart_id}" type="application/json">') + len(f'<script id="{chart_id}" type="application/json">')
    return json.loads(html[start:html.index("</script>", start)])


def test_overview_counts_stages_and_draws_charts(seeded, client_as, django_assert_max_num_queries):
    client = client_as(seeded["reviewer"])
    with django_assert_max_num_queries(20):
        response = client.get(reverse("dashboard:overview"))
    stages = response.context["stages"]
    by_name = {row["project"].name: row["stages"] for row in stages}
    assert by_name["Spoken captions"]["awaiting review"] == 1
    assert by_name["Spoken captions"]["accepted"] == 1
    assert (by_name["Pointing"]["awaiting review"], by_name["Pointing"]["accepted"]) == (2, 1)
    assert (by_name["Model arena"]["open"], by_name["Pointing"]["open"]) == (0, 1)
    assert by_name["Model arena"]["accepted"] == 18
    stage_chart = chart(response, "chart-stages")
    assert stage_chart["data"]["labels"] == [row["project"].name for row in stages]
    assert {d["label"] for d in stage_chart["data"]["datasets"]} >= {"awaiting review", "accepted"}
    throughput = chart(response, "chart-throughput")
    assert sum(sum(d["data"]) for d in throughput["data"]["datasets"]) == 2 + 3 + 1 + 18
    assert chart(response, "chart-audio")["data"]["datasets"][0]["data"][-1] == pytest.approx((72 + 95) / 3600)
    assert chart(response, "chart-backlog")["data"]["datasets"][0]["data"][-1] == 4  # 1 caption, 2 point sets, 1 thread
    assert "vendor/chart-4.6.1.umd.min.js" in response.content.decode()


def test_annotators_table_sorts_and_downloads_csv(seeded, client_as, django_assert_max_num_queries):
    client = client_as(seeded["reviewer"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("dashboard:annotators") + "?sort=username&dir=asc")
    rows = response.context["rows"]
    assert [r["username"] for r in rows] == ["seed-anna", "seed-otto"]
    anna = rows[0]
    assert anna["recordings"] == 1 and anna["duration_histogram"][2] == 1  # 72 s falls in 60–90 s
    assert anna["flags"] == {"too_short": 1, "refinement_guard": 1}
    assert anna["mean_words"] == 9  # the merged caption's current text
    assert anna["items_per_hour"] == pytest.approx(anna["items"] / anna["active_hours"])
    assert (anna["accepted"], anna["rejected"], anna["acceptance_rate"]) == (1, 0, 1.0)
    descending = client.get(reverse("dashboard:annotators") + "?sort=username&dir=desc").context["rows"]
    assert [r["username"] for r in descending] == ["seed-otto", "seed-anna"]
    download = client.get(reverse("dashboard:annotators-csv"))
    assert download["Content-Disposition"] == 'attachment; filename="annotators.csv"'
    table = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert {row["username"] for row in table} == {"seed-anna", "seed-otto"}
    assert next(r for r in table if r["username"] == "seed-anna")["flags"] == "refinement_guard=1;too_short=1"


def test_pipeline_page_shows_failures_workers_and_throughput(seeded, client_as, admin_user, settings,
                                                             django_assert_max_num_queries):
    settings.CELERY_BROKER_URL = "memory://"
    client = client_as(admin_user)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("dashboard:pipeline"))
    html = response.content.decode()
    assert "LLM endpoint timed out after 120 s" in html
    assert "asr-worker-1" in html
    assert ">Retry</button>" in html
    assert "Queue depth unavailable" in html
    done = chart(response, "chart-model-done")
    by_family = {d["label"]: sum(d["data"]) for d in done["data"]["datasets"]}
    assert by_family == {"ASR": 1, "LLM": 1}
    seconds = chart(response, "chart-model-seconds")
    assert max(v for d in seconds["data"]["datasets"] for v in d["data"] if v is not None) == pytest.approx(12, abs=0.5)


def test_reviewers_see_no_retry_button(seeded, client_as):
    html = client_as(seeded["reviewer"]).get(reverse("dashboard:pipeline")).content.decode()
    assert "LLM endpoint timed out" in html and ">Retry</button>" not in html


def test_leaderboard_ranks_the_seeded_models_and_states_the_rules(seeded, client_as, django_assert_max_num_queries):
    client = client_as(seeded["reviewer"])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("dashboard:leaderboard"))
    names = [r.name for r in response.context["board"].ratings]
    assert names == ["molmo-7b-d", "molmo-1b", "baseline"]
    html = response.content.decode()
    assert "half a win for each model" in html and "Don&#x27;t know&#x27; judgments are dropped" in html
    assert chart(response, "chart-elo")["data"]["labels"] == names


def test_quality_page(seeded, client_as, django_assert_max_num_queries):
    client = client_as(seeded["reviewer"])
    with django_assert_max_num_queries(10):
        response = client.get(reverse("dashboard:quality"))
    html = response.content.decode()
    assert "seed-anna" in html and "Hungarian" in html
    assert len(chart(response, "chart-wer")["data"]["labels"]) == 1


def test_review_queue_scales_without_extra_queries(seeded, client_as, django_assert_max_num_queries):
    project = seeded["caption_project"]
    for n in range(5):
        rec = RecordingFactory(assignment__work_item__project=project)
        caption = CaptionFactory(work_item=rec.work_item, transcripts=[TranscriptFactory(recording=rec)])
        CaptionVersionFactory(caption=caption, text=f"caption {n}")
    client = client_as(seeded["reviewer"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("dashboard:review", args=[project.pk]))
    assert len(response.context["pending"]) == 6


def test_user_text_is_escaped(seeded, client_as):
    caption = seeded["caption"]
    CaptionVersion.objects.create(caption=caption, number=2, text='<script>alert("x")</script> table', source="edit")
    html = client_as(seeded["reviewer"]).get(
        reverse("dashboard:review-item", args=[seeded["caption_project"].pk, caption.pk])
    ).content.decode()
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert Caption.objects.get(pk=caption.pk).review_status == "pending"
