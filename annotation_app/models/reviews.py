from django.conf import settings
from django.db import models


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class ReviewDecision(models.TextChoices):
    ACCEPT = "accept", "Accept"
    REJECT = "reject", "Reject"
    EDIT = "edit", "Edit and accept"


class Review(models.Model):
    """A reviewer's decision on one caption, point set or ask thread (exactly one is set)."""

    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=8, choices=ReviewDecision.choices)
    reason = models.TextField(blank=True)
    caption = models.ForeignKey(
        "annotation_app.Caption", null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    point_set = models.ForeignKey(
        "annotation_app.PointSet", null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    ask_thread = models.ForeignKey(
        "annotation_app.AskThread", null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="review_exactly_one_target",
                condition=(
                    models.Q(caption__isnull=False, point_set__isnull=True, ask_thread__isnull=True)
                    | models.Q(caption__isnull=True, point_set__isnull=False, ask_thread__isnull=True)
                    | models.Q(caption__isnull=True, point_set__isnull=True, ask_thread__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="review_reject_has_reason",
                condition=~models.Q(decision="reject") | ~models.Q(reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"review {self.id}: {self.decision}"
