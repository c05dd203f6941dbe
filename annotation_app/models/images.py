from django.conf import settings
from django.db import models


class Image(models.Model):
    """One image, stored once by the sha256 of its bytes (after EXIF orientation is applied)."""

    sha256 = models.CharField(max_length=64, unique=True)
    file = models.FileField(upload_to="images/", max_length=255, db_index=True)  # /media/ looks rows up by it
    mime = models.CharField(max_length=32)
    byte_size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()  # px, after EXIF orientation
    height = models.PositiveIntegerField()  # px, after EXIF orientation
    source_url = models.URLField(max_length=2048, blank=True)
    source_name = models.CharField(max_length=512, blank=True)  # file name or S3 key it came from
    license = models.CharField(max_length=128, blank=True)
    attribution = models.CharField(max_length=512, blank=True)
    topics = models.JSONField(default=list, blank=True)
    # Held out of every training split (pixmo-points-eval images).
    is_eval_holdout = models.BooleanField(default=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"image {self.id} {self.sha256[:12]} {self.width}x{self.height}"
