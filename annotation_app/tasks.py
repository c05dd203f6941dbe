"""Celery tasks: thin wrappers that load rows by id, call a service or a pipeline step, store.

A task returns early when its row is gone or its output already exists, so a re-run is harmless.
"""

import logging
import socket

from celery import shared_task
from django.utils import timezone

from annotation_app.models import WorkerHeartbeat
from annotation_app.services.assignments import assignments_expire

logger = logging.getLogger("pixmo.tasks")


@shared_task(name="annotation_app.tasks.assignments_expire_task", ignore_result=True)
def assignments_expire_task() -> int:
    return assignments_expire()


@shared_task(name="annotation_app.tasks.worker_heartbeat_task", ignore_result=True)
def worker_heartbeat_task() -> None:
    WorkerHeartbeat.objects.update_or_create(
        hostname=socket.gethostname(), defaults={"seen_at": timezone.now(), "queues": ["default"]}
    )
