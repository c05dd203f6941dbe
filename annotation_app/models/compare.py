from django.conf import settings
from django.db import models


class CompareItem(models.Model):
    """A prompt about an image with two models' answers, for human preference evaluation."""

    work_item = models.OneToOneField("annotation_app.WorkItem", on_delete=models.CASCADE, related_name="compare")
    prompt = models.TextField()
    category = models.CharField(max_length=64, blank=True)
    model_a = models.CharField(max_length=200)
    response_a = models.TextField()
    model_b = models.CharField(max_length=200)
    response_b = models.TextField()

    def __str__(self) -> str:
        return f"{self.model_a} vs {self.model_b} on item {self.work_item_id}"


class Preference(models.TextChoices):
    A = "a", "A is better"
    B = "b", "B is better"
    TIE = "tie", "Tie (both good)"
    TIE_BAD = "tie_bad", "Tie (both bad)"
    DONT_KNOW = "dont_know", "Don't know"


class PreferenceJudgment(models.Model):
    """One rater's choice; `winner` is in model terms (a/b of CompareItem), not screen sides."""

    compare_item = models.ForeignKey(CompareItem, on_delete=models.CASCADE, related_name="judgments")
    assignment = models.OneToOneField("annotation_app.Assignment", on_delete=models.PROTECT, related_name="judgment")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="judgments")
    client_uuid = models.UUIDField(unique=True)
    # True when model B's answer was shown on the left; the order is drawn per assignment.
    swapped = models.BooleanField()
    winner = models.CharField(max_length=16, choices=Preference.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"judgment {self.id}: {self.winner}"
