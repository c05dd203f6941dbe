from typing import Any

from django.db import models

from annotation_app.models import AuditEvent


def audit_log(*, actor, action: str, target: models.Model | None = None, **data: Any) -> AuditEvent:
    """Record who did what; call inside the service's transaction so both land or neither does."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data,
    )
