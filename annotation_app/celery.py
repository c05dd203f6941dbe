"""The Celery app: queues `asr`, `llm`, `default`; settings come from Django's CELERY_* values."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotation_app.settings")

app = Celery("pixmo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("asr"), Queue("llm"))
app.autodiscover_tasks(["annotation_app"])


def _ensure_filesystem_broker_folders() -> None:
    # The embedded broker is a folder; kombu expects it to exist before the first message.
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)


@app.on_after_configure.connect
def _on_after_configure(sender, **kwargs) -> None:
    _ensure_filesystem_broker_folders()
