from annotation_app.models import AskThread, Caption, PointSet, ReviewStatus

QUEUE_LIMIT = 100


def review_queue(*, project_id: int | None = None) -> dict:
    """Pending captions, point sets and ask threads, oldest first, flagged captions first."""
    captions = Caption.objects.filter(review_status=ReviewStatus.PENDING).select_related("work_item")
    point_sets = PointSet.objects.filter(review_status=ReviewStatus.PENDING)
    threads = AskThread.objects.filter(review_status=ReviewStatus.PENDING, status="accepted")
    if project_id is not None:
        captions = captions.filter(work_item__project_id=project_id)
        point_sets = point_sets.filter(work_item__project_id=project_id)
        threads = threads.filter(work_item__project_id=project_id)
    return {
        "captions": [
            {"id": c.pk, "work_item": c.work_item_id, "text": c.current.text if c.current else "", "flags": c.guard_flags}
            for c in captions.order_by("created_at")[:QUEUE_LIMIT]
        ],
        "point_sets": [
            {"id": p.pk, "work_item": p.work_item_id, "label": p.label, "count": p.count, "not_present": p.not_present}
            for p in point_sets.order_by("created_at")[:QUEUE_LIMIT]
        ],
        "ask_threads": [
            {"id": t.pk, "work_item": t.work_item_id, "question": t.question, "answer": t.final_answer}
            for t in threads.order_by("created_at")[:QUEUE_LIMIT]
        ],
    }
