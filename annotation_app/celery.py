"""The Celery app: queues `asr`, `llm`, `default`; settings come from Django's CELERY_* values."""

import logging
import os
import threading

from celery import Celery, bootsteps
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotation_app.settings")

app = Celery("pixmo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("asr"), Queue("llm"))
app.autodiscover_tasks(["annotation_app"])

logger = logging.getLogger("pixmo.worker")



class Heartbeat(bootsteps.StartStopStep):
    """Each worker writes its heartbeat row from a thread of its own, every
    PIXMO_WORKER_HEARTBEAT_SECONDS, also while a long task holds the worker's main loop (solo
    pool); the sweeper takes a worker silent for three beats for dead."""

    def __init__(self, worker, **kwargs):
        from annotation_app.worker_identity import worker_instance_set

        super().__init__(worker, **kwargs)
        worker_instance_set(f"{worker.hostname}/{os.getpid()}")
        self.stopped = threading.Event()
        self.thread = None

    def start(self, worker):
        self.thread = threading.Thread(target=self._run, args=(worker,), name="pixmo-heartbeat", daemon=True)
        self.thread.start()

    def stop(self, worker):
        self.stopped.set()

    def _run(self, worker) -> None:
        from django.conf import settings
        from django.db import connection
        from django.utils import timezone

        from annotation_app.models import WorkerHeartbeat
        from annotation_app.worker_identity import worker_instance

        while True:
            try:
                WorkerHeartbeat.objects.update_or_create(
                    hostname=worker_instance(), defaults={"seen_at": timezone.now(), "queues": consumed_queues(worker)})
            except Exception as error:  # noqa: BLE001 - the database is away for a moment; beat again later
                logger.warning("heartbeat.failed reason=%s: %s", type(error).__name__, error)
            finally:
                connection.close()
            if self.stopped.wait(settings.PIXMO_WORKER_HEARTBEAT_SECONDS):
                return


def consumed_queues(worker) -> list[str]:
    """The queues the worker's consumer takes tasks from now, as `celery inspect active_queues`
    answers (`-Q`, and add_consumer / cancel_consumer at run time); before its consumer has
    started (or while it reconnects), the queues it was told to consume, else all the app's."""
    task_consumer = getattr(getattr(worker, "consumer", None), "task_consumer", None)
    if task_consumer is not None:
        return sorted(queue.name for queue in task_consumer.queues)
    return sorted(worker.app.amqp.queues.consume_from or worker.app.amqp.queues)


app.steps["worker"].add(Heartbeat)


def _ensure_filesystem_broker_folders() -> None:
    # The embedded broker is a folder; kombu expects it to exist before the first message.
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)


@app.on_after_configure.connect
def _on_after_configure(sender, **kwargs) -> None:
    _ensure_filesystem_broker_folders()
