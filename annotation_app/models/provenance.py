from django.db import models


class ModelKind(models.TextChoices):
    ASR = "asr", "Speech recognition"
    LLM = "llm", "Text-only LLM"
    OCR = "ocr", "OCR"


class ModelProvenance(models.Model):
    """Which model, prompt and parameters produced a stored output, from which rows, when."""

    kind = models.CharField(max_length=8, choices=ModelKind.choices)
    model_name = models.CharField(max_length=300)
    model_revision = models.CharField(max_length=128, blank=True)  # revision or hash of the files
    prompt_id = models.CharField(max_length=100, blank=True)
    prompt_hash = models.CharField(max_length=64, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    input_refs = models.JSONField(default=dict, blank=True)  # {"recording": [12], "transcript": [3, 4]}
    timings_ms = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.model_name} {self.prompt_id}".strip()
