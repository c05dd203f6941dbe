"""What the broker holds: the ids of the tasks waiting in its queues or taken by a worker.

The sweeper asks this before it re-sends a job, so a job whose task is only waiting its turn in
a long queue is left alone. Readable for the two brokers we run (Redis and the embedded
filesystem broker); for any other, or a queue too long to read cheaply, the answer is None
("cannot tell") and the sweeper falls back to the job's age.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from kombu import Connection

logger = logging.getLogger("pixmo.dispatch")

QUEUES = ("default", "asr", "llm")
READ_LIMIT = 20_000  # messages per queue; a longer queue is not read (None)
REDIS_UNACKED = "unacked"  # kombu's Redis transport keeps delivered, unacknowledged messages here


@dataclass(frozen=True)
class BrokerTasks:
    waiting: frozenset[str]  # in a queue, for the next worker
    taken: frozenset[str] = frozenset()  # delivered to a worker, not acknowledged (it may have died)


def broker_tasks() -> BrokerTasks | None:
    """The task ids the broker holds, waiting and taken; None: cannot tell."""
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith("redis"):
            return _redis_task_ids()
        if url.startswith("filesystem"):
            return _folder_task_ids(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    except Exception as error:  # noqa: BLE001 - an unreachable broker is "cannot tell", never a crash
        logger.warning("broker.unreadable reason=%s: %s", type(error).__name__, error)
    return None


def queued_stuck_reason(*, task_id: str, queued_at: datetime, sent_at: datetime | None, now: datetime,
                        broker: BrokerTasks | None) -> str | None:
    """Why work queued under `task_id` (a pipeline job, a release export) has no task behind it, in
    words; None while its send may still be on its way, or its task waits in the broker or was
    taken by a worker about to start it. An unreadable broker (None) falls back to the age."""
    grace = timedelta(seconds=settings.PIXMO_JOB_SEND_GRACE_SECONDS)
    stuck_age = timedelta(seconds=settings.PIXMO_JOB_STUCK_SECONDS)
    if sent_at is None:
        return "never sent (the broker was unreachable)" if queued_at < now - grace else None
    if sent_at >= now - grace:
        return None
    if broker is not None:
        if task_id in broker.waiting or task_id in broker.taken:
            return None
        return "sent, but its task is in no broker queue and with no worker"
    return f"queued for over {stuck_age.total_seconds() / 60:.0f} minutes" if sent_at < now - stuck_age else None


def _redis_task_ids() -> BrokerTasks | None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as connection:
        client = connection.default_channel.client
        ids: set[str] = set()
        for queue in QUEUES:
            # kombu's priority steps store a queue under its name and name + separator + step
            for key in [queue, *client.keys(f"{queue}\x06\x16*")]:
                if client.llen(key) > READ_LIMIT:
                    return None
                ids |= {_message_id(raw) for raw in client.lrange(key, 0, -1)}
        if client.hlen(REDIS_UNACKED) > READ_LIMIT:
            return None
        taken = {_message_id(json.dumps(json.loads(raw)[0])) for raw in client.hvals(REDIS_UNACKED)}
    return BrokerTasks(waiting=frozenset(ids - {""}), taken=frozenset(taken - {""}))


def _folder_task_ids(folder: Path) -> BrokerTasks | None:
    # the filesystem broker removes a message's file when a worker takes it: all here are waiting
    if not folder.is_dir():
        return BrokerTasks(waiting=frozenset())
    files = list(folder.iterdir())
    if len(files) > READ_LIMIT:
        return None
    ids = set()
    for path in files:
        try:
            ids.add(_message_id(path.read_bytes()))
        except OSError:  # consumed between the listing and the read
            continue
    return BrokerTasks(waiting=frozenset(ids - {""}))


def _message_id(raw: bytes | str) -> str:
    try:
        return str(json.loads(raw).get("headers", {}).get("id", ""))
    except (ValueError, AttributeError):
        return ""
