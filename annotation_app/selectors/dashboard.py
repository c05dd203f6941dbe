"""Dashboard overview and annotator statistics: grouped queries, a fixed number per page."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from annotation_app.models import (
    AskThread,
    Assignment,
    Caption,
    CaptionVersion,
    PointSet,
    PreferenceJudgment,
    Project,
    Recording,
    Review,
    ReviewStatus,
    User,
)
from annotation_app.models.ask import AskThreadStatus
from annotation_app.models.captions import CaptionSource, RecordingStatus
from annotation_app.models.work import AssignmentStatus

# Stages a unit of work passes through, in order; each project reports a count per stage.
STAGES = ("open", "in progress", "processing", "failed", "awaiting review", "accepted", "rejected")
# Recording-duration histogram bins, seconds (the last bin is open-ended).
DURATION_BINS = (0, 30, 60, 90, 120, 180)
RECORDING_FLAGS = ("silent", "too_short", "too_long", "mostly_non_speech", "wrong_language",
                   "speaking_rate_out_of_range")


def days_back(*, days: int, today: date | None = None) -> list[date]:
    today = today or timezone.localdate()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def open_items_count() -> Count:
    """Images of a project that still want an annotation (an item with an open slot): the annotator
    home's 'open items'. The overview's 'open' stage counts the slots themselves."""
    return Count("items", filter=Q(items__open_slots__gt=0))


def overview_stages() -> list[dict]:
    """Per project, how many units of work sit in each stage (see STAGES); `open_items` per project
    counts images, as the annotator home does."""
    projects = list(Project.objects.order_by("id").annotate(open=Sum("items__open_slots"), open_items=open_items_count()))
    stages = {p.pk: dict.fromkeys(STAGES, 0) for p in projects}
    for p in projects:
        stages[p.pk]["open"] = p.open or 0
    for row in Assignment.objects.filter(status=AssignmentStatus.ACTIVE).values("project").annotate(n=Count("id")):
        stages[row["project"]]["in progress"] += row["n"]
    for row in Recording.objects.exclude(status=RecordingStatus.REFINED).values(
        "work_item__project", "status"
    ).annotate(n=Count("id")):
        stage = "failed" if row["status"] == RecordingStatus.FAILED else "processing"
        stages[row["work_item__project"]][stage] += row["n"]
    review_stage = {ReviewStatus.PENDING: "awaiting review", ReviewStatus.ACCEPTED: "accepted",
                    ReviewStatus.REJECTED: "rejected"}
    for queryset in _reviewable_querysets():
        for row in queryset.values("work_item__project", "review_status").annotate(n=Count("id")):
            stages[row["work_item__project"]][review_stage[row["review_status"]]] += row["n"]
    for row in PreferenceJudgment.objects.values("compare_item__work_item__project").annotate(n=Count("id")):
        stages[row["compare_item__work_item__project"]]["accepted"] += row["n"]
    return [{"project": p, "stages": stages[p.pk], "total": sum(stages[p.pk].values())} for p in projects]


def _reviewable_querysets():
    return (Caption.objects.all(), PointSet.objects.all(), AskThread.objects.filter(status=AskThreadStatus.ACCEPTED))


def throughput_per_day(*, days: int, today: date | None = None) -> dict:
    """Submitted assignments per day per project over the last `days` days."""
    window = days_back(days=days, today=today)
    rows = (
        Assignment.objects.filter(status=AssignmentStatus.SUBMITTED, finished_at__date__gte=window[0])
        .annotate(day=TruncDate("finished_at"))
        .values("day", "project__name")
        .annotate(n=Count("id"))
    )
    series: dict[str, dict[date, int]] = defaultdict(dict)
    for row in rows:
        series[row["project__name"]][row["day"]] = row["n"]
    return {"days": window, "series": {name: [by_day.get(d, 0) for d in window] for name, by_day in sorted(series.items())}}


def audio_hours(*, days: int, today: date | None = None) -> dict:
    """Hours of audio received in total and per day (server-measured durations)."""
    window = days_back(days=days, today=today)
    total = Recording.objects.aggregate(s=Sum("duration_s"))["s"] or 0.0
    rows = (
        Recording.objects.filter(created_at__date__gte=window[0])
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(s=Sum("duration_s"))
    )
    by_day = {row["day"]: (row["s"] or 0.0) / 3600 for row in rows}
    return {"total_hours": total / 3600, "days": window, "hours": [by_day.get(d, 0.0) for d in window]}


def backlog_trend(*, days: int, today: date | None = None) -> dict:
    """Outputs awaiting review at the end of each day: created so far minus those first reviewed."""
    window = days_back(days=days, today=today)
    created: Counter = Counter()
    reviewed: Counter = Counter()
    targets = (("caption", Caption.objects.all()), ("point_set", PointSet.objects.all()),
               ("ask_thread", AskThread.objects.filter(status=AskThreadStatus.ACCEPTED)))
    for field, queryset in targets:
        for row in queryset.annotate(day=TruncDate("created_at")).values("day").annotate(n=Count("id")):
            created[row["day"]] += row["n"]
        first_review = Review.objects.filter(**{field: OuterRef("pk")}).order_by("created_at").values("created_at")[:1]
        rows = (
            queryset.annotate(first=Subquery(first_review)).filter(first__isnull=False)
            .annotate(day=TruncDate("first")).values("day").annotate(n=Count("id"))
        )
        for row in rows:
            reviewed[row["day"]] += row["n"]
    backlog = []
    for day in window:
        backlog.append(sum(n for d, n in created.items() if d <= day) - sum(n for d, n in reviewed.items() if d <= day))
    return {"days": window, "backlog": backlog, "current": backlog[-1] if backlog else 0}


def dashboard_overview(*, days: int = 30, today: date | None = None) -> dict:
    return {
        "stages": overview_stages(),
        "throughput": throughput_per_day(days=days, today=today),
        "audio": audio_hours(days=days, today=today),
        "backlog": backlog_trend(days=days, today=today),
        "days": days,
    }


ANNOTATOR_SORT_KEYS = ("username", "active_hours", "items", "items_per_hour", "mean_words", "recordings",
                       "audio_minutes", "acceptance_rate", "flags_total")


def annotator_stats(*, sort: str = "items", descending: bool = True) -> list[dict]:
    """One row per person who did any work: time, throughput, caption length, acceptance, flags."""
    rows: dict[int, dict] = defaultdict(_empty_annotator_row)
    for row in Assignment.objects.values("annotator").annotate(
        seconds=Sum("active_seconds"), items=Count("id", filter=Q(status=AssignmentStatus.SUBMITTED))
    ):
        rows[row["annotator"]]["active_hours"] = (row["seconds"] or 0.0) / 3600
        rows[row["annotator"]]["items"] = row["items"]
    for annotator_id, duration, flags in Recording.objects.values_list("annotator", "duration_s", "flags"):
        row = rows[annotator_id]
        row["recordings"] += 1
        if duration is not None:
            row["durations"].append(duration)
        row["flags"].update(flag for flag in flags or [] if isinstance(flag, str))
    _add_caption_stats(rows)
    _add_review_counts(rows)
    users = User.objects.in_bulk(list(rows))
    result = [_finish_annotator_row(users[pk], row) for pk, row in rows.items() if pk in users]
    key = sort if sort in ANNOTATOR_SORT_KEYS else "items"
    return sorted(result, key=lambda r: (r[key] is None, r[key] if r[key] is not None else 0), reverse=descending)


def _empty_annotator_row() -> dict:
    return {"active_hours": 0.0, "items": 0, "recordings": 0, "durations": [], "flags": Counter(),
            "caption_words": [], "accepted": 0, "rejected": 0}


def _add_caption_stats(rows: dict[int, dict]) -> None:
    """Words of each caption's current text, credited to every annotator whose transcript fed it."""
    current_text = (
        CaptionVersion.objects.filter(caption=OuterRef("pk")).exclude(source=CaptionSource.LLM_REJECTED)
        .order_by("-number").values("text")[:1]
    )
    captions = (
        Caption.objects.annotate(annotator=F("transcripts__recording__annotator"), text=Subquery(current_text))
        .filter(annotator__isnull=False).values("annotator", "text", "guard_flags", "review_status").distinct()
    )
    for caption in captions:
        row = rows[caption["annotator"]]
        row["caption_words"].append(len((caption["text"] or "").split()))
        if caption["guard_flags"]:
            row["flags"]["refinement_guard"] += 1
        _count_review(row, caption["review_status"])


def _add_review_counts(rows: dict[int, dict]) -> None:
    for queryset in (PointSet.objects.all(), AskThread.objects.filter(status=AskThreadStatus.ACCEPTED)):
        for row in queryset.values("annotator", "review_status").annotate(n=Count("id")):
            _count_review(rows[row["annotator"]], row["review_status"], row["n"])


def _count_review(row: dict, status: str, n: int = 1) -> None:
    if status == ReviewStatus.ACCEPTED:
        row["accepted"] += n
    elif status == ReviewStatus.REJECTED:
        row["rejected"] += n


def _finish_annotator_row(user: User, row: dict) -> dict:
    decided = row["accepted"] + row["rejected"]
    words = row["caption_words"]
    return {
        "user_id": user.pk,
        "username": user.username,
        "role": user.role,
        "active_hours": row["active_hours"],
        "items": row["items"],
        "items_per_hour": row["items"] / row["active_hours"] if row["active_hours"] > 0 else None,
        "mean_words": sum(words) / len(words) if words else None,
        "captions": len(words),
        "recordings": row["recordings"],
        "audio_minutes": sum(row["durations"]) / 60,
        "duration_histogram": duration_histogram(row["durations"]),
        "accepted": row["accepted"],
        "rejected": row["rejected"],
        "acceptance_rate": row["accepted"] / decided if decided else None,
        "flags": dict(row["flags"]),
        "flags_total": sum(row["flags"].values()),
    }


def duration_histogram(durations: list[float]) -> list[int]:
    """Counts per DURATION_BINS bin; the last bin holds everything from its lower edge up."""
    counts = [0] * len(DURATION_BINS)
    for duration in durations:
        index = sum(1 for edge in DURATION_BINS[1:] if duration >= edge)
        counts[index] += 1
    return counts


def duration_bin_labels() -> list[str]:
    edges = DURATION_BINS
    return [f"{edges[i]}–{edges[i + 1]} s" for i in range(len(edges) - 1)] + [f"≥ {edges[-1]} s"]
