"""Pipeline health: broker queue depths, job states, failures, worker heartbeats, throughput."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Avg, Count, F
from django.db.models.functions import TruncHour
from django.utils import timezone

from annotation_app.models import PipelineJob, WorkerHeartbeat
from annotation_app.models.jobs import JobStatus
from annotation_app.services.pipeline_jobs import pipeline_jobs_stuck
from annotation_app.services.release_runs import release_exports_stuck

logger = logging.getLogger("pixmo.dashboard")

QUEUES = ("asr", "llm", "default")
# Which stages run on which model family, for the throughput chart.
STAGE_FAMILY = {"validate": "ASR", "transcribe": "ASR", "refine": "LLM", "answer": "LLM", "capqa": "LLM"}
FAILED_SHOWN = 100


def broker_queue_depths(*, queues: tuple[str, ...] = QUEUES) -> dict:
    """Messages waiting per queue, read from the broker; {"reachable": False, ...} when it is not."""
    from redis.exceptions import RedisError

    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://")):
            depths = _redis_depths(url, queues)
        elif url.startswith("filesystem"):
            depths = _filesystem_depths(queues)
        else:
            return {"reachable": False, "reason": f"queue depth is not read from a '{url.split(':')[0]}' broker",
                    "depths": {}}
    except (RedisError, OSError, KeyError) as error:  # shown on the page instead of breaking it
        logger.warning("broker not reachable: %s", error)
        return {"reachable": False, "reason": f"the broker did not answer ({type(error).__name__})", "depths": {}}
    return {"reachable": True, "reason": "", "depths": depths}


def _redis_depths(url: str, queues: tuple[str, ...]) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        # Celery's Redis transport keeps each queue as a list named after it.
        return {queue: int(client.llen(queue)) for queue in queues}
    finally:
        client.close()


def _filesystem_depths(queues: tuple[str, ...]) -> dict[str, int]:
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    # kombu's filesystem transport names each message file "<time>_<uuid>.<queue>.msg".
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return {queue: sum(1 for name in names if name.endswith(f".{queue}.msg")) for queue in queues}


def job_state_counts() -> dict:
    """{stage: {status: n}} with every status present."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(JobStatus.values, 0))
    for row in PipelineJob.objects.values("stage", "status").annotate(n=Count("id")):
        counts[row["stage"]][row["status"]] = row["n"]
    return dict(sorted(counts.items()))


def failed_jobs(*, limit: int = FAILED_SHOWN) -> list[PipelineJob]:
    return list(PipelineJob.objects.filter(status=JobStatus.FAILED).order_by("-finished_at", "-queued_at")[:limit])


def running_jobs(*, limit: int = 50) -> list[PipelineJob]:
    return list(PipelineJob.objects.filter(status=JobStatus.RUNNING).order_by("started_at")[:limit])


def worker_heartbeats(*, now: datetime | None = None) -> list[dict]:
    now = now or timezone.now()
    return [
        {"hostname": hb.hostname, "queues": hb.queues, "seen_at": hb.seen_at,
         "age_s": (now - hb.seen_at).total_seconds(),
         "stale": (now - hb.seen_at).total_seconds() > 3 * settings.PIXMO_WORKER_HEARTBEAT_SECONDS}
        for hb in WorkerHeartbeat.objects.order_by("-seen_at")
    ]


def model_throughput(*, hours: int = 48, now: datetime | None = None) -> dict:
    """Jobs finished per hour and their mean run time (s), for the ASR and LLM families."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    window = [now - timedelta(hours=n) for n in range(hours - 1, -1, -1)]
    rows = (
        PipelineJob.objects.filter(status=JobStatus.DONE, finished_at__gte=window[0], stage__in=list(STAGE_FAMILY))
        .annotate(hour=TruncHour("finished_at"))
        .values("hour", "stage")
        .annotate(n=Count("id"), mean=Avg(F("finished_at") - F("started_at")))
    )
    done = {family: dict.fromkeys(window, 0) for family in ("ASR", "LLM")}
    seconds: dict[str, dict] = {family: defaultdict(list) for family in ("ASR", "LLM")}
    for row in rows:
        family = STAGE_FAMILY[row["stage"]]
        done[family][row["hour"]] = done[family].get(row["hour"], 0) + row["n"]
        if row["mean"] is not None:
            seconds[family][row["hour"]].append((row["mean"].total_seconds(), row["n"]))
    return {
        "hours": window,
        "done": {family: [by_hour.get(h, 0) for h in window] for family, by_hour in done.items()},
        "mean_seconds": {family: [_weighted(by_hour.get(h)) for h in window] for family, by_hour in seconds.items()},
    }


def _weighted(pairs: list[tuple[float, int]] | None) -> float | None:
    if not pairs:
        return None
    return sum(s * n for s, n in pairs) / sum(n for _, n in pairs)


def pipeline_health() -> dict:
    return {
        "broker": broker_queue_depths(),
        "states": job_state_counts(),
        "running": running_jobs(),
        "failed": failed_jobs(),
        "stuck": pipeline_jobs_stuck(),
        "stuck_releases": release_exports_stuck(),
        "sweep_every_s": settings.CELERY_BEAT_SCHEDULE["pipeline-jobs-sweep"]["schedule"],
        "workers": worker_heartbeats(),
        "throughput": model_throughput(),
    }
