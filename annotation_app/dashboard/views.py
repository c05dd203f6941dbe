"""Review pages and the admin dashboard: parse the request, call a selector or service, render."""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from annotation_app.dashboard import charts
from annotation_app.dashboard.access import admin_required, reviewer_required
from annotation_app.errors import NotFound, ServiceError
from annotation_app.models import AskThread, Caption, DatasetRelease, PipelineJob, PointSet, Project
from annotation_app.models.releases import ReleaseStatus
from annotation_app.selectors.dashboard import (
    ANNOTATOR_SORT_KEYS,
    STAGES,
    annotator_stats,
    dashboard_overview,
    duration_bin_labels,
)
from annotation_app.selectors.dashboard_evaluation import evaluation_page
from annotation_app.selectors.dashboard_leaderboard import leaderboard
from annotation_app.selectors.dashboard_pipeline import pipeline_health
from annotation_app.selectors.dashboard_quality import quality_report
from annotation_app.selectors.dashboard_releases import release_local_file, releases_page
from annotation_app.selectors.dashboard_review import review_page, review_projects
from annotation_app.selectors.export import ExportFilters
from annotation_app.selectors.projects import project_slugs
from annotation_app.services.pipeline_jobs import pipeline_job_retry
from annotation_app.services.quality import POINT_MATCH_THRESHOLD
from annotation_app.services.release_runs import release_export_retry
from annotation_app.services.releases import EXPORTABLE, release_request
from annotation_app.services.reviews import review_submit

REVIEW_TARGET = {"caption": Caption, "points": PointSet, "ask": AskThread}
# What a reviewed output is called on the page: "Point set 12", never the model's "Pointset".
REVIEW_KIND_NAME = {"caption": "Caption", "points": "Point set", "ask": "Ask thread"}


@reviewer_required
def overview(request: HttpRequest) -> HttpResponse:
    data = dashboard_overview(days=_int(request.GET.get("days"), default=30, low=7, high=180))
    stage_series = {stage: [row["stages"][stage] for row in data["stages"]] for stage in STAGES}
    throughput, audio, backlog = data["throughput"], data["audio"], data["backlog"]
    data["charts"] = {
        "chart-stages": charts.bar_chart(labels=[r["project"].name for r in data["stages"]], series=stage_series,
                                         stacked=True, horizontal=True),
        "chart-throughput": charts.bar_chart(labels=throughput["days"], series=throughput["series"], stacked=True,
                                             y_title="items submitted"),
        "chart-audio": charts.bar_chart(labels=audio["days"], series={"audio hours": audio["hours"]},
                                        y_title="hours"),
        "chart-backlog": charts.line_chart(labels=backlog["days"], series={"awaiting review": backlog["backlog"]},
                                           y_title="outputs"),
    }
    return render(request, "annotation_app/dashboard/overview.html", {**data, "stage_names": STAGES})


@reviewer_required
def review_index(request: HttpRequest) -> HttpResponse:
    return render(request, "annotation_app/dashboard/review_index.html", {"projects": review_projects()})


@reviewer_required
def review(request: HttpRequest, project_id: int, target_id: int | None = None) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id)
    try:
        page = review_page(project=project, target_id=target_id)
    except NotFound as error:
        raise Http404(str(error)) from None
    return render(request, "annotation_app/dashboard/review.html", {**page, "kind_name": REVIEW_KIND_NAME.get(project.kind, "")})


@require_POST
@reviewer_required
def review_decide(request: HttpRequest, project_id: int, target_id: int) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id)
    model = REVIEW_TARGET.get(project.kind)
    if model is None:
        raise Http404("this project has nothing to review")
    target = get_object_or_404(model, pk=target_id, work_item__project=project)
    field = {Caption: "caption", PointSet: "point_set", AskThread: "ask_thread"}[model]
    try:
        review_submit(
            reviewer=request.user, decision=request.POST.get("decision", ""), reason=request.POST.get("reason", ""),
            edited_text=request.POST.get("edited_text", ""), **{field: target},
        )
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("dashboard:review-item", project_id=project.pk, target_id=target.pk)
    messages.success(request, f"{request.POST['decision'].capitalize()}ed {field.replace('_', ' ')} {target.pk}.")
    next_id = request.POST.get("next", "")
    if next_id.isdigit():
        return redirect("dashboard:review-item", project_id=project.pk, target_id=int(next_id))
    return redirect("dashboard:review", project_id=project.pk)


ANNOTATOR_COLUMNS = (
    ("username", "Annotator"), ("active_hours", "Active time"), ("items", "Items"), ("items_per_hour", "Items / hour"),
    ("mean_words", "Mean words / caption"), ("recordings", "Recordings"), ("audio_minutes", "Audio (min)"),
    ("acceptance_rate", "Acceptance"), ("flags_total", "Flags"),
)


def _annotator_sort(request: HttpRequest) -> tuple[str, bool]:
    sort = request.GET.get("sort", "items")
    return (sort if sort in ANNOTATOR_SORT_KEYS else "items"), request.GET.get("dir", "desc") != "asc"


@reviewer_required
def annotators(request: HttpRequest) -> HttpResponse:
    sort, descending = _annotator_sort(request)
    rows = annotator_stats(sort=sort, descending=descending)
    histogram = charts.bar_chart(
        labels=duration_bin_labels(), series={r["username"]: r["duration_histogram"] for r in rows if r["recordings"]},
        stacked=True, y_title="recordings",
    )
    return render(request, "annotation_app/dashboard/annotators.html", {
        "rows": rows, "sort": sort, "descending": descending, "columns": ANNOTATOR_COLUMNS,
        "charts": {"chart-durations": histogram},
    })


CSV_COLUMNS = ("username", "role", "active_hours", "items", "items_per_hour", "mean_words", "captions",
               "recordings", "audio_minutes", "accepted", "rejected", "acceptance_rate", "flags_total")


@reviewer_required
def annotators_csv(request: HttpRequest) -> HttpResponse:
    sort, descending = _annotator_sort(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="annotators.csv"'
    writer = csv.writer(response)
    writer.writerow([*CSV_COLUMNS, "flags"])
    for row in annotator_stats(sort=sort, descending=descending):
        flags = ";".join(f"{name}={n}" for name, n in sorted(row["flags"].items()))
        writer.writerow([_csv_value(row[c]) for c in CSV_COLUMNS] + [flags])
    return response


def _csv_value(value):
    if value is None:
        return ""
    return f"{value:.3f}" if isinstance(value, float) else value


@reviewer_required
def pipeline(request: HttpRequest) -> HttpResponse:
    data = pipeline_health()
    throughput = data["throughput"]
    data["charts"] = {
        "chart-model-done": charts.line_chart(labels=throughput["hours"], series=throughput["done"],
                                              y_title="jobs finished per hour"),
        "chart-model-seconds": charts.line_chart(labels=throughput["hours"], series=throughput["mean_seconds"],
                                                 y_title="mean seconds per job"),
    }
    return render(request, "annotation_app/dashboard/pipeline.html", data)


@require_POST
@admin_required
def pipeline_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(PipelineJob, pk=job_id)
    try:
        pipeline_job_retry(job=job)
        messages.success(request, f"Job {job.pk} ({job.stage}) queued again.")
    except ServiceError as error:
        messages.error(request, str(error))
    return redirect("dashboard:pipeline")


@reviewer_required
def quality(request: HttpRequest) -> HttpResponse:
    data = quality_report()
    honeypots = data["honeypots"]["annotators"]
    data["charts"] = {
        "chart-wer": charts.bar_chart(labels=[f"item {r['work_item']}" for r in data["captions"]],
                                      series={"mean pairwise WER": [round(r["wer"], 3) for r in data["captions"]]},
                                      y_title="WER"),
        "chart-honeypots": charts.bar_chart(labels=[r["username"] for r in honeypots],
                                            series={"gold score": [round(r["score"], 3) for r in honeypots]},
                                            y_title="mean score (0–1)"),
    }
    return render(request, "annotation_app/dashboard/quality.html", {**data, "threshold": POINT_MATCH_THRESHOLD})


@reviewer_required
def leaderboard_view(request: HttpRequest) -> HttpResponse:
    project = request.GET.get("project", "")
    data = leaderboard(project_id=int(project) if project.isdigit() else None)
    ratings = data["board"].ratings
    data["charts"] = {"chart-elo": charts.interval_chart(
        names=[r.name for r in ratings], centres=[round(r.elo, 1) for r in ratings],
        lows=[round(r.low, 1) for r in ratings], highs=[round(r.high, 1) for r in ratings],
    )}
    return render(request, "annotation_app/dashboard/leaderboard.html", data)


@reviewer_required
def evaluation(request: HttpRequest) -> HttpResponse:
    data = evaluation_page(runs_dir=settings.PIXMO_RUNS_DIR)
    charts_shown = {}
    if data["runs"]:
        runs = [run for run in data["runs"] if run.average is not None]
        labels = [run.name for run in runs] + [f"{row['model']} (published)" for row in data["published"]]
        charts_shown["chart-average"] = charts.bar_chart(
            labels=labels, stacked=True, y_title="average score (%)",
            series={"our runs (re-run here)": [round(run.average, 1) for run in runs] + [None] * len(data["published"]),
                    "published, not re-run": [None] * len(runs) + [row["average"] for row in data["published"]]})
        if data["benchmark_names"]:
            charts_shown["chart-benchmarks"] = charts.bar_chart(
                labels=data["benchmark_titles"], y_title="score (%)",
                series={run.name: [round(run.benchmarks[name]["score"], 1) if name in run.benchmarks else None
                                   for name in data["benchmark_names"]] for run in runs})
    return render(request, "annotation_app/dashboard/evaluation.html", {**data, "charts": charts_shown})


@reviewer_required
def releases(request: HttpRequest) -> HttpResponse:
    filters = {key: request.GET.get(key, "").strip() for key in ("status", "dataset", "name")}
    data = releases_page(**filters)
    return render(request, "annotation_app/dashboard/releases.html", {
        **data, "filters": filters, "statuses": ReleaseStatus.choices, "datasets": list(EXPORTABLE),
        "sweep_every_s": settings.CELERY_BEAT_SCHEDULE["pipeline-jobs-sweep"]["schedule"],
        "projects": Project.objects.exclude(kind="compare").order_by("name"),
    })


@require_POST
@admin_required
def release_cut(request: HttpRequest) -> HttpResponse:
    project_ids = [int(p) for p in request.POST.getlist("projects") if p.isdigit()]
    filters = ExportFilters(projects=project_slugs(project_ids=project_ids),
                            accepted_only=request.POST.get("accepted_only") == "on")
    try:
        requested = release_request(
            actor=request.user, name=request.POST.get("name", ""), datasets=request.POST.getlist("datasets"),
            filters=filters, in_background=True,
        )
        if requested.running:
            messages.info(request, f"Release {requested.release.name} is being written now "
                                   f"({requested.release.progress:.0%} done); its progress shows below.")
        elif requested.resumed:
            messages.success(request, f"Release {requested.release.name} carries on from where it stopped; "
                                      "its progress shows below.")
        else:
            messages.success(request, f"Release {requested.release.name} queued; its progress shows below.")
    except ServiceError as error:
        messages.error(request, str(error))
    return redirect("dashboard:releases")


@require_POST
@admin_required
def release_retry(request: HttpRequest, release_id: int) -> HttpResponse:
    release = get_object_or_404(DatasetRelease, pk=release_id)
    try:
        release_export_retry(release=release)
        messages.success(request, f"Release {release.name} sent again; it carries on from its committed shards.")
    except ServiceError as error:
        messages.error(request, str(error))
    return redirect("dashboard:releases")


@reviewer_required
def release_file(request: HttpRequest, release_id: int, key: str) -> FileResponse:
    release = get_object_or_404(DatasetRelease, pk=release_id)
    try:
        path = release_local_file(release=release, key=key)
    except NotFound as error:
        raise Http404(str(error)) from None
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name)


def _int(value: str | None, *, default: int, low: int, high: int) -> int:
    return min(max(int(value), low), high) if value and value.isdigit() else default
