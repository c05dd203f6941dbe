from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    REVIEWER = "reviewer", "Reviewer"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    """A person: annotators record and point, reviewers accept, admins run the collection."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)

    def __str__(self) -> str:
        return f"{self.username} ({self.role})"

    @property
    def is_reviewer(self) -> bool:
        return self.role in (Role.REVIEWER, Role.ADMIN) or self.is_superuser

    @property
    def is_pixmo_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser
