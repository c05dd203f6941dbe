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



# Held by the heartbeat thread while it has a database connection open, and by a fork: a child
# must not inherit a connection in mid-use (it would close or reuse what the parent still holds).
BEAT_LOCK = threading.Lock()
os.register_at_fork(before=BEAT_LOCK.acquire, after_in_parent=BEAT_LOCK.release, after_in_child=BEAT_LOCK.release)


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
            with BEAT_LOCK:  # a pool child is never forked while this thread holds a connection
                try:
                    WorkerHeartbeat.objects.update_or_create(
                        hostname=worker_instance(), defaults={"seen_at": timezone.now(), "queues": consumed_queues(worker)})
                except Exception as error:  # noqa: BLE001 - the database is away for a moment; beat again later
                    logger.warning("heartbeat.failed reason=%s: %s", type(error).__name__, error)
                finally:
                    connection.close()
            if self.stopped.wait(settings.PIXMO_WORKER_HEARTBEAT_SECONDS):
                return


class NoForkOnSqlite(bootsteps.Step):
    """Stops a worker built with a prefork pool on SQLite before it starts (see below)."""

    def __init__(self, worker, **kwargs):
        from django.conf import settings

        refuse_forking_on_sqlite(worker.pool_cls, engine=settings.DATABASES["default"]["ENGINE"])
        super().__init__(worker, **kwargs)


def refuse_forking_on_sqlite(pool, *, engine: str) -> None:
    """A prefork pool on SQLite would lose the database to its children (see CELERY_WORKER_POOL
    in the settings, which the command line's --pool does not override): a worker built with one
    by hand does not start, and says why."""
    from celery.exceptions import ImproperlyConfigured

    name = pool if isinstance(pool, str) else f"{pool.__module__}.{pool.__name__}"
    if engine.endswith("sqlite3") and "prefork" in name:
        raise ImproperlyConfigured(
            "the worker cannot fork on SQLite (a pool child would break the database for every process): "
            "run it with the threads pool (the default on SQLite), or set DATABASE_URL to PostgreSQL")


def consumed_queues(worker) -> list[str]:
    """The queues the worker's consumer takes tasks from now, as `celery inspect active_queues`
    answers (`-Q`, and add_consumer / cancel_consumer at run time); before its consumer has
    started (or while it reconnects), the queues it was told to consume, else all the app's."""
    task_consumer = getattr(getattr(worker, "consumer", None), "task_consumer", None)
    if task_consumer is not None:
        return sorted(queue.name for queue in task_consumer.queues)
    return sorted(worker.app.amqp.queues.consume_from or worker.app.amqp.queues)


app.steps["worker"].add(NoForkOnSqlite)
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

