from django.conf import settings
from django.db import models

from .reviews import ReviewStatus


class AskThreadStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted by the annotator"
    ABANDONED = "abandoned", "Abandoned"


class AskThread(models.Model):
    """An annotator's question about an image and the rounds with the text-only LLM."""

    assignment = models.ForeignKey("annotation_app.Assignment", on_delete=models.PROTECT, related_name="ask_threads")
    work_item = models.ForeignKey("annotation_app.WorkItem", on_delete=models.PROTECT, related_name="ask_threads")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ask_threads")
    client_uuid = models.UUIDField(unique=True)
    question = models.TextField()
    # Pointed places the answer should refer to (point-explanations): [{"x", "y", "x_px", "y_px"}].
    points = models.JSONField(default=list, blank=True)
    # The non-VLM context the LLM answered from.
    ocr_text = models.TextField(blank=True)
    context_caption = models.TextField(blank=True)
    final_answer = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=AskThreadStatus.choices, default=AskThreadStatus.OPEN)
    review_status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"ask thread {self.id} ({self.status})"


class AskTurnRole(models.TextChoices):
    QUESTION = "question", "Annotator question"
    ANSWER = "answer", "LLM answer"
    FEEDBACK = "feedback", "Annotator feedback"
    EDIT = "edit", "Annotator edit"


class AskTurnStatus(models.TextChoices):
    READY = "ready", "Ready"
    PENDING = "pending", "Waiting for the model"
    FAILED = "failed", "Failed"


class AskTurn(models.Model):
    """One turn of an ask thread, numbered from 0; every turn is kept."""

    thread = models.ForeignKey(AskThread, on_delete=models.CASCADE, related_name="turns")
    index = models.PositiveIntegerField()
    role = models.CharField(max_length=16, choices=AskTurnRole.choices)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=AskTurnStatus.choices, default=AskTurnStatus.READY)
    failure_reason = models.TextField(blank=True)
    provenance = models.ForeignKey(
        "annotation_app.ModelProvenance", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A model answer's guard verdict (pipelines.answer_guards): failed checks as "guard:<name>"
    # (non-empty: the annotator sees the answer flagged), and the verdict with its reasons in words
    # and the number of attempts. Empty on the annotator's turns.
    guard_flags = models.JSONField(default=list, blank=True)
    guard_report = models.JSONField(default=dict, blank=True)
    # The browser's key of a feedback turn: a retried feedback answers with the stored thread.
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["thread", "index"]
        constraints = [models.UniqueConstraint(fields=["thread", "index"], name="ask_turn_index")]

    def __str__(self) -> str:
        return f"turn {self.index} of thread {self.thread_id} ({self.role})"


class CapQADialogue(models.Model):
    """Question–answer turns a text-only LLM wrote from an accepted caption (never the image)."""

    caption_version = models.ForeignKey(
        "annotation_app.CaptionVersion", on_delete=models.CASCADE, related_name="capqa_dialogues"
    )
    generate_key = models.CharField(max_length=200, unique=True)
    turns = models.JSONField(default=list)  # [{"question", "answer"}]
    provenance = models.ForeignKey("annotation_app.ModelProvenance", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"capqa {self.id} ({len(self.turns)} turns)"
