"""Reviewer decisions: accept, reject with a reason, or edit a caption (a new version)."""

from django.db import transaction
from django.db.models import Max

from annotation_app.errors import ServiceError
from annotation_app.models import AskThread, Caption, CaptionVersion, PointSet, Review, ReviewStatus, User
from annotation_app.models.captions import CaptionSource
from annotation_app.models.reviews import ReviewDecision
from annotation_app.services.audit import audit_log
from annotation_app.services.dispatch import pipeline_dispatch

STATUS_AFTER = {
    ReviewDecision.ACCEPT: ReviewStatus.ACCEPTED,
    ReviewDecision.EDIT: ReviewStatus.ACCEPTED,
    ReviewDecision.REJECT: ReviewStatus.REJECTED,
}


@transaction.atomic
def review_submit(
    *,
    reviewer: User,
    decision: str,
    caption: Caption | None = None,
    point_set: PointSet | None = None,
    ask_thread: AskThread | None = None,
    reason: str = "",
    edited_text: str = "",
) -> Review:
    targets = [t for t in (caption, point_set, ask_thread) if t is not None]
    if len(targets) != 1:
        raise ServiceError("review exactly one caption, point set or ask thread")
    if not reviewer.is_reviewer:
        raise ServiceError("only reviewers and admins review")
    if decision not in ReviewDecision.values:
        raise ServiceError(f"decision must be one of {', '.join(ReviewDecision.values)}")
    if decision == ReviewDecision.REJECT and not reason.strip():
        raise ServiceError("a rejection needs a reason")
    if decision == ReviewDecision.EDIT:
        if caption is None:
            raise ServiceError("only captions are edited in review")
        caption_edit(caption=caption, editor=reviewer, text=edited_text)
    target = targets[0]
    type(target).objects.filter(pk=target.pk).update(review_status=STATUS_AFTER[decision])
    review = Review.objects.create(
        reviewer=reviewer, decision=decision, reason=reason.strip(),
        caption=caption, point_set=point_set, ask_thread=ask_thread,
    )
    audit_log(actor=reviewer, action=f"review.{decision}", target=target, reason=reason.strip())
    if caption is not None and decision != ReviewDecision.REJECT:
        version_id = caption.versions.order_by("-number").values_list("pk", flat=True).first()
        pipeline_dispatch(target_type="caption_version", target_id=version_id)
    return review


def caption_edit(*, caption: Caption, editor: User, text: str) -> CaptionVersion:
    """A new version with the edited text; earlier versions stay as the history."""
    text = text.strip()
    if not text:
        raise ServiceError("the edited caption is empty")
    Caption.objects.select_for_update().filter(pk=caption.pk).first()
    number = (caption.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return CaptionVersion.objects.create(
        caption=caption, number=number, text=text, source=CaptionSource.EDIT, edited_by=editor
    )
