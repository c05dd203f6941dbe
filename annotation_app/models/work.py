from django.conf import settings
from django.db import models


class WorkItem(models.Model):
    """One unit of work in a project: an image (and, for compare, one prompt with two answers).

    `open_slots` is the project's overlap k minus the live-or-finished assignments; it changes
    only under the item's row lock (see services/assignments.py), so an item is never
    over-assigned.
    """

    project = models.ForeignKey("annotation_app.Project", on_delete=models.CASCADE, related_name="items")
    image = models.ForeignKey("annotation_app.Image", on_delete=models.PROTECT, related_name="work_items")
    variant = models.PositiveIntegerField(default=0)  # several compare prompts may share an image
    open_slots = models.PositiveSmallIntegerField()
    finished_count = models.PositiveSmallIntegerField(default=0)
    # Hidden gold item (honeypot): an answer known in advance, used to score annotators.
    is_gold = models.BooleanField(default=False)
    gold_answer = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "image", "variant"], name="work_item_unique_image"),
        ]
        indexes = [
            models.Index(
                fields=["project", "id"], name="work_item_open", condition=models.Q(open_slots__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.id} of project {self.project_id}"


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUBMITTED = "submitted", "Submitted"
    EXPIRED = "expired", "Expired"
    SKIPPED = "skipped", "Skipped"


# Statuses that hold one of the item's overlap slots.
SLOT_HOLDING_STATUSES = (AssignmentStatus.ACTIVE, AssignmentStatus.SUBMITTED)


class Assignment(models.Model):
    """A lease on a work item for one annotator; it expires unless its heartbeat renews it."""

    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="assignments")
    project = models.ForeignKey("annotation_app.Project", on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.ACTIVE)
    claimed_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # Server-measured: the sum of heartbeat intervals, each capped, so an idle tab does not count.
    active_seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-claimed_at"]
        constraints = [
            # An annotator never gets the same item twice.
            models.UniqueConstraint(fields=["work_item", "annotator"], name="assignment_once_per_annotator"),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="assignment_lease"),
            models.Index(fields=["annotator", "project", "status"], name="assignment_annotator"),
        ]

    def __str__(self) -> str:
        return f"assignment {self.id} item {self.work_item_id} to {self.annotator_id} ({self.status})"


class ProblemReport(models.Model):
    """An annotator's report that an image cannot be annotated (broken, offensive, unclear)."""

    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="problem_reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"problem with item {self.work_item_id}"
