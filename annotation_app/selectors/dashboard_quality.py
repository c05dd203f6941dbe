"""Quality page rows: agreement on overlapping items and scores on hidden gold items."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import OuterRef, Subquery

from annotation_app.models import PointSet, PreferenceJudgment, Recording, Transcript, User, WorkItem
from annotation_app.services.quality import (
    gold_caption_score,
    gold_compare_score,
    gold_points_score,
    point_sets_agreement,
    transcripts_agreement,
)

ROWS_SHOWN = 200


def _newest_transcripts(**filters):
    """(work item, project name, annotator, text) of each recording's newest transcript."""
    newest = Transcript.objects.filter(recording=OuterRef("pk")).order_by("-created_at").values("text")[:1]
    return (
        Recording.objects.filter(**filters).annotate(text=Subquery(newest)).filter(text__isnull=False)
        .values_list("work_item", "work_item__project__name", "annotator", "text")
    )


def caption_agreement() -> list[dict]:
    """Mean pairwise WER between transcripts of the same image, items with overlap > 1 only."""
    by_item: dict[int, dict] = {}
    for item_id, project, _annotator, text in _newest_transcripts(work_item__project__overlap_k__gt=1):
        by_item.setdefault(item_id, {"project": project, "texts": []})["texts"].append(text)
    rows = [
        {"work_item": item_id, "project": v["project"], "transcripts": len(v["texts"]),
         "wer": transcripts_agreement(texts=v["texts"])}
        for item_id, v in sorted(by_item.items())
        if len(v["texts"]) > 1
    ]
    return rows[:ROWS_SHOWN]


def point_agreement() -> list[dict]:
    """Per (item, label): Hungarian-matched distance, share within threshold, count difference."""
    groups: dict[tuple, dict] = {}
    point_sets = PointSet.objects.filter(work_item__project__overlap_k__gt=1).values_list(
        "work_item", "work_item__project__name", "label", "points", "not_present"
    )
    for item_id, project, label, points, not_present in point_sets:
        group = groups.setdefault((item_id, label.strip().lower()), {"project": project, "label": label, "sets": []})
        group["sets"].append({"points": points, "not_present": not_present})
    rows = []
    for (item_id, _), group in sorted(groups.items()):
        agreement = point_sets_agreement(sets=group["sets"])
        if agreement is not None:
            rows.append({"work_item": item_id, "project": group["project"], "label": group["label"],
                         "sets": len(group["sets"]), **agreement})
    return rows[:ROWS_SHOWN]


def honeypot_scores() -> dict:
    """Each annotator's mean score on gold items, and the gold items with their answer counts."""
    gold = dict(WorkItem.objects.filter(is_gold=True).exclude(gold_answer=None).values_list("id", "gold_answer"))
    scores: dict[int, list[float]] = defaultdict(list)
    per_item: dict[int, list[float]] = defaultdict(list)

    def add(annotator_id: int, item_id: int, score: float) -> None:
        scores[annotator_id].append(score)
        per_item[item_id].append(score)

    for item_id, annotator_id, label, points, not_present in PointSet.objects.filter(
        work_item__in=list(gold)
    ).values_list("work_item", "annotator", "label", "points", "not_present"):
        answer = gold[item_id]
        if answer.get("label") and answer["label"].strip().lower() != label.strip().lower():
            continue
        add(annotator_id, item_id, gold_points_score(gold=answer, points=points, not_present=not_present))
    for item_id, _project, annotator_id, text in _newest_transcripts(work_item__in=list(gold)):
        add(annotator_id, item_id, gold_caption_score(gold=gold[item_id], transcript=text))
    for item_id, annotator_id, winner in PreferenceJudgment.objects.filter(
        compare_item__work_item__in=list(gold)
    ).values_list("compare_item__work_item", "annotator", "winner"):
        add(annotator_id, item_id, gold_compare_score(gold=gold[item_id], winner=winner))
    users = User.objects.in_bulk(list(scores))
    annotators = sorted(
        ({"username": users[pk].username, "answers": len(s), "score": sum(s) / len(s)} for pk, s in scores.items()),
        key=lambda row: (row["score"], row["username"]),
    )
    return {"gold_items": len(gold), "annotators": annotators,
            "items": [{"work_item": pk, "answers": len(s), "mean_score": sum(s) / len(s)}
                      for pk, s in sorted(per_item.items())][:ROWS_SHOWN]}


def quality_report() -> dict:
    captions = caption_agreement()
    points = point_agreement()
    return {"captions": captions, "points": points, "honeypots": honeypot_scores()}
