from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PipelineJob(models.Model):
    """One pipeline stage for one row: what the dashboard shows and what a retry restarts."""

    stage = models.CharField(max_length=32)  # validate | transcribe | refine | answer | capqa | export
    target_type = models.CharField(max_length=32)
    target_id = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    timings_ms = models.JSONField(default=dict, blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The broker is a doorbell: these say whether (and as which task) the job was rung in, and
    # which worker picked it up, so the sweeper can tell a live job from a stranded one.
    task_id = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # null: not yet sent
    send_error = models.CharField(max_length=500, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    resends = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-queued_at"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "target_type", "target_id"], name="pipeline_job_once"),
        ]
        indexes = [models.Index(fields=["status", "stage"], name="pipeline_job_status")]

    def __str__(self) -> str:
        return f"{self.stage} {self.target_type}:{self.target_id} ({self.status})"


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker (by hostname) reported in; the dashboard shows its age."""

    hostname = models.CharField(max_length=200, unique=True)
    queues = models.JSONField(default=list)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} at {self.seen_at:%H:%M:%S}"
