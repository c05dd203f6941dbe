"""Who is writing a release, and whether anyone still is: the export's side of "the job table is
the truth".

A background export is sent under a task id stored on the release row, like a pipeline job's.
The writer that starts takes the row under that id, and while it builds, a thread of its own
beats on the row every PIXMO_WORKER_HEARTBEAT_SECONDS. So the sweeper can tell:

- a queued export never sent (the broker was down) past the send grace;
- one sent whose task is in no broker queue and with no worker (taken by a worker that died
  before it started);
- one building whose writer has been silent for three beats (its process, main or pool child,
  died; or its machine did).

Each is sent again under a new task id. A writer whose id is no longer the row's stops at its
next progress report and never marks the row: at most one writer finishes a release. An export
run in the foreground (`pixmo export`) takes the row under a `local:` id, beats the same way,
and is never re-sent by the sweeper: a person stopped it, and running it again resumes it.
"""

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Self

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from annotation_app.errors import Conflict
from annotation_app.models import DatasetRelease
from annotation_app.models.releases import ReleaseStatus
from annotation_app.services.broker_queue import BrokerTasks, broker_tasks, queued_stuck_reason
from annotation_app.services.dispatch import release_export_dispatch
from annotation_app.worker_identity import worker_instance

logger = logging.getLogger("pixmo.releases")

LOCAL = "local:"  # the task id prefix of a foreground export


class ExportSuperseded(Exception):
    """A newer send owns the release; this writer stops without touching the row again."""


def release_export_queue(*, release_id: int, resend: bool = False) -> str:
    """Put the release's export on the queue under a new task id; it is sent after commit, and
    a refused send leaves the row queued with "not yet sent" noted for the sweeper."""
    task_id = str(uuid.uuid4())
    DatasetRelease.objects.filter(pk=release_id).update(
        status=ReleaseStatus.QUEUED, error="", task_id=task_id, queued_at=timezone.now(), sent_at=None,
        send_error="", worker="", beat_at=None, resends=F("resends") + int(resend))
    release_export_dispatch(release_id=release_id, task_id=task_id)
    return task_id


def _silent_after() -> timedelta:
    return timedelta(seconds=3 * settings.PIXMO_WORKER_HEARTBEAT_SECONDS)


def release_writer_live(release: DatasetRelease, *, now: datetime | None = None) -> bool:
    """A writer is building it and beat within three beats."""
    now = now or timezone.now()
    return (release.status == ReleaseStatus.BUILDING and release.beat_at is not None
            and release.beat_at >= now - _silent_after())


def release_stuck_reason(release: DatasetRelease, *, now: datetime, broker: BrokerTasks | None) -> str | None:
    """Why this queued or building export has no live writer behind it, in words; None when it has one
    (or is not the sweeper's: finished, failed, or never sent to a worker)."""
    if release.status == ReleaseStatus.QUEUED and release.task_id and not release.task_id.startswith(LOCAL):
        return queued_stuck_reason(task_id=release.task_id, queued_at=release.queued_at or release.created_at,
                                   sent_at=release.sent_at, now=now, broker=broker)
    if release.status == ReleaseStatus.BUILDING and not release_writer_live(release, now=now):
        last = release.beat_at or release.queued_at or release.created_at
        writer = f" ({release.worker})" if release.worker else ""
        return f"its writer{writer} stopped beating {(now - last).total_seconds():.0f} s ago"
    return None


def release_send_reason(release: DatasetRelease) -> str | None:
    """Why an unfinished release should be sent (again) to a worker, in words: it failed, was made
    for a foreground run that never started, or is stuck; None while a send or a writer is on it."""
    if release.status == ReleaseStatus.FAILED:
        return f"failed: {release.error}"
    if release.status == ReleaseStatus.QUEUED and not release.task_id:
        return "never sent to a worker"
    return release_stuck_reason(release, now=timezone.now(), broker=broker_tasks())


def release_exports_stuck(*, now: datetime | None = None) -> list[tuple[DatasetRelease, str]]:
    """Background exports with no live writer, with the reason (foreground ones are a person's)."""
    now = now or timezone.now()
    open_rows = list(DatasetRelease.objects.filter(status__in=[ReleaseStatus.QUEUED, ReleaseStatus.BUILDING])
                     .exclude(task_id="").exclude(task_id__startswith=LOCAL))
    if not open_rows:
        return []
    broker = broker_tasks()
    return [(row, why) for row in open_rows if (why := release_stuck_reason(row, now=now, broker=broker)) is not None]


def release_exports_sweep(*, now: datetime | None = None) -> int:
    """Send every stranded background export again (beat runs this with the job sweep); returns how many."""
    sent = 0
    for release, why in release_exports_stuck(now=now):
        with transaction.atomic():
            locked = DatasetRelease.objects.select_for_update(skip_locked=True).filter(
                pk=release.pk, status=release.status, task_id=release.task_id).first()
            if locked is None:  # it moved on, or another sweeper has it
                continue
            release_export_queue(release_id=locked.pk, resend=True)
        sent += 1
        logger.warning("release.resent release=%s reason=%s", release.name, why)
    return sent


@dataclass
class ExportRun:
    """The writer's hold on a release: its task id, and the beat that keeps the hold alive."""

    release_id: int
    task_id: str
    superseded: threading.Event = field(default_factory=threading.Event)
    stopped: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def check(self) -> None:
        """Called at each progress report: stop if a newer send owns the release."""
        if self.superseded.is_set() or (self.thread is None and not self._still_ours()):
            raise ExportSuperseded(f"release {self.release_id} is now written under task {self._owner()}")

    def _still_ours(self) -> bool:
        return DatasetRelease.objects.filter(pk=self.release_id, task_id=self.task_id).exists()

    def _owner(self) -> str:
        return DatasetRelease.objects.filter(pk=self.release_id).values_list("task_id", flat=True).first() or "?"

    def __enter__(self) -> Self:
        # Beat from a thread only when the export's writes are visible to others (it does not run
        # inside a caller's transaction); inside one, nobody else can see the row to judge it.
        if not connection.in_atomic_block:
            self.thread = threading.Thread(target=self._beat, name=f"pixmo-export-beat-{self.release_id}", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(timeout=10)

    def _beat(self) -> None:
        while not self.stopped.wait(settings.PIXMO_WORKER_HEARTBEAT_SECONDS):
            try:
                if not DatasetRelease.objects.filter(pk=self.release_id, task_id=self.task_id).update(beat_at=timezone.now()):
                    self.superseded.set()
                    return
            except Exception as error:  # noqa: BLE001 - the database is away for a moment; beat again later
                logger.warning("release.beat_failed release=%s reason=%s: %s", self.release_id, type(error).__name__, error)
            finally:
                connections.close_all()


def release_export_take(*, release: DatasetRelease, task_id: str | None) -> ExportRun | None:
    """Take the release for this writer: the background task under the id it was sent with, the
    foreground under a new `local:` id. None: nothing to write (complete, or a newer send owns it).

    A foreground run refuses a release a live writer is building; it takes over a stopped one."""
    owner = task_id or f"{LOCAL}{socket.gethostname()}/{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with transaction.atomic():
        row = DatasetRelease.objects.select_for_update().get(pk=release.pk)
        if row.status == ReleaseStatus.COMPLETE:
            return None
        if task_id is not None and row.task_id != task_id:
            logger.info("release.superseded release=%s task=%s owner=%s", row.name, task_id, row.task_id)
            return None
        if task_id is None and release_writer_live(row):
            raise Conflict(f"release '{row.name}' is being written now by {row.worker or 'a worker'} "
                           f"({row.progress:.0%} done, last beat {(timezone.now() - row.beat_at).total_seconds():.0f} s ago); "
                           "wait for it to finish, or run this again once it has stopped")
        # The worker and the process writing (a pool child's pid differs from the worker's).
        worker = f"{worker_instance()} pid {os.getpid()}" if worker_instance() else \
            f"{socket.gethostname()}/{os.getpid()} (pixmo export)"
        DatasetRelease.objects.filter(pk=row.pk).update(status=ReleaseStatus.BUILDING, error="", task_id=owner,
                                                         worker=worker, beat_at=timezone.now(), send_error="")
    return ExportRun(release_id=release.pk, task_id=owner)


@transaction.atomic
def release_export_retry(*, release: DatasetRelease) -> DatasetRelease:
    """Send a failed or stuck background export again now (the dashboard's button); the new
    writer resumes from the committed shards."""
    row = DatasetRelease.objects.select_for_update().get(pk=release.pk)
    if row.status == ReleaseStatus.COMPLETE:
        raise Conflict(f"release '{row.name}' is complete; there is nothing to send")
    if (why := release_send_reason(row)) is None:
        state = (f"being written by {row.worker} ({row.progress:.0%} done)" if release_writer_live(row)
                 else "queued and on its way to a worker")
        raise Conflict(f"release '{row.name}' is {state}; only a failed or stuck export is sent again")
    release_export_queue(release_id=row.pk, resend=True)
    logger.warning("release.retried release=%s reason=%s", row.name, why)
    return DatasetRelease.objects.get(pk=row.pk)
