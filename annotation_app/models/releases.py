from django.conf import settings
from django.db import models


class ReleaseStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Building"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"


class DatasetRelease(models.Model):
    """A dataset export: parquet + tar shards + manifest + data card, in a folder or on S3."""

    name = models.SlugField(max_length=120, unique=True)
    datasets = models.JSONField(default=list)  # ["pixmo-cap", "pixmo-points", ...]
    filters = models.JSONField(default=dict, blank=True)  # projects, dates, annotators, accepted-only
    uri = models.CharField(max_length=1024)
    status = models.CharField(max_length=16, choices=ReleaseStatus.choices, default=ReleaseStatus.QUEUED)
    progress = models.FloatField(default=0.0)  # 0–1
    counts = models.JSONField(default=dict, blank=True)
    manifest = models.JSONField(default=dict, blank=True)
    validation = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The export's liveness, as a pipeline job's: the task id of the latest send (a writer whose id
    # is no longer the row's stops), when it was sent, and the writer's own beat while it builds,
    # so the sweeper can tell a live export from one whose worker died.
    task_id = models.CharField(max_length=64, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # null: not yet sent
    send_error = models.CharField(max_length=500, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    beat_at = models.DateTimeField(null=True, blank=True)
    resends = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"release {self.name} ({self.status})"
