from django.conf import settings
from django.db import models

from .reviews import ReviewStatus


class RecordingStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    VALIDATED = "validated", "Audio checked"
    TRANSCRIBED = "transcribed", "Transcribed"
    REFINED = "refined", "Caption ready"
    FAILED = "failed", "Failed"


class Recording(models.Model):
    """The audio receipt: proof that a person, not a model, described the image."""

    assignment = models.ForeignKey("annotation_app.Assignment", on_delete=models.PROTECT, related_name="recordings")
    work_item = models.ForeignKey("annotation_app.WorkItem", on_delete=models.PROTECT, related_name="recordings")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="recordings")
    # Sent by the browser; a retried upload with the same UUID returns the first recording.
    client_uuid = models.UUIDField(unique=True)
    file = models.FileField(upload_to="recordings/", max_length=255, db_index=True)  # /media/ looks rows up by it
    # The same audio packets in a file whose header states the length, for players: Chromium's
    # MediaRecorder writes WebM with no duration. Empty when the received file states its length.
    # `file` and `sha256` stay the receipt, byte for byte as received.
    playback_file = models.FileField(upload_to="recordings/", max_length=255, db_index=True, blank=True)
    sha256 = models.CharField(max_length=64)
    mime = models.CharField(max_length=64)
    byte_size = models.PositiveIntegerField()
    duration_s = models.FloatField(null=True, blank=True)  # measured on the server after decoding
    client_duration_s = models.FloatField(null=True, blank=True)  # as the browser reported it
    status = models.CharField(max_length=16, choices=RecordingStatus.choices, default=RecordingStatus.RECEIVED)
    # Audio checks: loudness, speech ratio, speaking rate, language, and the policy flags raised.
    checks = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=list, blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"recording {self.id} ({self.status})"


class Transcript(models.Model):
    """Whisper's text for one recording; one row per (recording, model + decoding parameters)."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="transcripts")
    model_key = models.CharField(max_length=128)  # model identity + parameter hash
    text = models.TextField()
    segments = models.JSONField(default=list)  # [{start, end, text, words: [{start, end, word, p}]}]
    language = models.CharField(max_length=8, blank=True)
    provenance = models.ForeignKey("annotation_app.ModelProvenance", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recording", "model_key"], name="transcript_once_per_model"),
        ]

    def __str__(self) -> str:
        return f"transcript {self.id} of recording {self.recording_id}"


class Caption(models.Model):
    """The caption of one work item, refined from one or several transcripts; text is versioned."""

    work_item = models.ForeignKey("annotation_app.WorkItem", on_delete=models.CASCADE, related_name="captions")
    transcripts = models.ManyToManyField(Transcript, related_name="captions")
    # Key of the refinement (transcript ids, LLM, prompt hash); a re-run stores no second caption.
    refine_key = models.CharField(max_length=200, unique=True)
    is_merged = models.BooleanField(default=False)
    review_status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    # Guard verdicts of the refinement: non-empty means a reviewer must look.
    guard_flags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"caption {self.id} of item {self.work_item_id}"

    @property
    def current(self) -> "CaptionVersion | None":
        """The newest version that is the caption's text (an LLM draft the guards rejected never is)."""
        return self.versions.exclude(source="llm_rejected").order_by("-number").first()


class CaptionSource(models.TextChoices):
    LLM = "llm", "LLM rewrite"
    CLEANUP = "cleanup", "Deterministic clean-up"
    LLM_REJECTED = "llm_rejected", "LLM attempt that failed the guards (kept, not current)"
    EDIT = "edit", "Reviewer edit"


class CaptionVersion(models.Model):
    """One version of a caption's text: the edit history, oldest first."""

    caption = models.ForeignKey(Caption, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField()
    source = models.CharField(max_length=16, choices=CaptionSource.choices)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provenance = models.ForeignKey(
        "annotation_app.ModelProvenance", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    guard_report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["caption", "number"]
        constraints = [
            models.UniqueConstraint(fields=["caption", "number"], name="caption_version_number"),
        ]

    def __str__(self) -> str:
        return f"caption {self.caption_id} v{self.number} ({self.source})"
