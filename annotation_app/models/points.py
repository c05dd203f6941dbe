from django.conf import settings
from django.db import models

from .projects import CollectionMethod
from .reviews import ReviewStatus


class PointSet(models.Model):
    """Every instance of one label in one image, as clicked by one annotator.

    `points` holds [{"x_px", "y_px", "x", "y"}]: pixels of the original image and 0–100 percent
    of its width and height. `not_present` is an explicit answer, different from a skip.
    """

    assignment = models.ForeignKey("annotation_app.Assignment", on_delete=models.PROTECT, related_name="point_sets")
    work_item = models.ForeignKey("annotation_app.WorkItem", on_delete=models.PROTECT, related_name="point_sets")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="point_sets")
    client_uuid = models.UUIDField(unique=True)
    label = models.CharField(max_length=300)
    points = models.JSONField(default=list)
    not_present = models.BooleanField(default=False)
    collection_method = models.CharField(
        max_length=16, choices=CollectionMethod.choices, default=CollectionMethod.POINTING
    )
    # Per-instance masks drawn by reviewers for pixmo-points-eval: run-length encoded.
    masks = models.JSONField(default=list, blank=True)
    review_status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="point_set_not_present_has_no_points",
                condition=~models.Q(not_present=True) | models.Q(points=[]),
            ),
        ]

    def __str__(self) -> str:
        return f"points '{self.label}' ×{self.count} on item {self.work_item_id}"

    @property
    def count(self) -> int:
        return len(self.points)
