from django.conf import settings
from django.db import models


class ProjectKind(models.TextChoices):
    CAPTION = "caption", "Spoken caption"
    POINTS = "points", "Pointing"
    ASK = "ask", "Ask model anything"
    COMPARE = "compare", "Side-by-side preference"


class CollectionMethod(models.TextChoices):
    POINTING = "pointing", "Pointing"
    COUNTING = "counting", "Counting"


class Project(models.Model):
    """A collection campaign of one kind over a set of images."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=16, choices=ProjectKind.choices)
    instructions = models.TextField(blank=True)
    # How many different annotators work on each item (PixMo-Cap early phase: 3).
    overlap_k = models.PositiveSmallIntegerField(default=1)
    # Caption duration policy, in seconds of audio.
    min_duration_s = models.FloatField(default=60.0)
    target_duration_s = models.FloatField(default=90.0)
    max_duration_s = models.FloatField(default=300.0)
    min_speech_ratio = models.FloatField(default=0.5)
    language = models.CharField(max_length=8, default="en")
    # Pointing: the label list offered to annotators (empty: free referring expressions).
    labels = models.JSONField(default=list, blank=True)
    collection_method = models.CharField(
        max_length=16, choices=CollectionMethod.choices, default=CollectionMethod.POINTING
    )
    is_active = models.BooleanField(default=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="projects")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(overlap_k__gte=1), name="project_overlap_k_positive"),
            models.CheckConstraint(
                condition=models.Q(min_duration_s__lte=models.F("max_duration_s")),
                name="project_duration_window_ordered",
                violation_error_message="the minimum duration must not exceed the maximum duration",
            ),
            models.CheckConstraint(
                condition=models.Q(min_duration_s__lte=models.F("target_duration_s"),
                                   target_duration_s__lte=models.F("max_duration_s")),
                name="project_duration_target_in_window",
                violation_error_message="the target duration must lie between the minimum and maximum durations",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"
