"""Celery: Redis in production; a filesystem broker that needs no server by default."""

from .database import DATABASES
from .env import VAR_DIR, env_bool, env_int, env_str

_broker_dir = VAR_DIR / "broker"

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # kombu keeps its exchange tables here; its default, "control", is relative to the cwd
        # and used to land in the repository root.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    # A message a dead worker took comes back after this many seconds; it must outlast the longest
    # model task (CELERY_TASK_TIME_LIMIT), or a slow task would be handed out twice.
    else {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900)}
)
# A send while the broker is down gives up after about a second; the job row keeps the work and
# the sweeper sends it when the broker is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 2)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A SQLite connection must never cross a fork: a pool child that closes the one it inherited
# deletes the database's write-ahead log under the other processes, and from then on sees the
# database locked for good. On the embedded default the worker runs its tasks in threads (the
# Heartbeat, the beat and the tasks share no connection); on PostgreSQL it forks, as usual.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    CELERY_WORKER_POOL = "threads"
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 720)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "annotation_app.tasks.recording_validate_task": {"queue": "asr"},
    "annotation_app.tasks.recording_transcribe_task": {"queue": "asr"},
    "annotation_app.tasks.caption_refine_task": {"queue": "llm"},
    "annotation_app.tasks.ask_answer_task": {"queue": "llm"},
    "annotation_app.tasks.capqa_generate_task": {"queue": "llm"},
}
CELERY_BEAT_SCHEDULE = {
    "assignments-expire": {
        "task": "annotation_app.tasks.assignments_expire_task",
        "schedule": env_int("PIXMO_LEASE_SWEEP_SECONDS", 60),
    },
    "pipeline-jobs-sweep": {
        "task": "annotation_app.tasks.pipeline_jobs_sweep_task",
        "schedule": env_int("PIXMO_JOB_SWEEP_SECONDS", 60),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# The job table is the truth and the broker a doorbell. Every worker writes a heartbeat row every
# PIXMO_WORKER_HEARTBEAT_SECONDS; one silent for three beats is taken for dead. The sweeper (beat,
# every PIXMO_JOB_SWEEP_SECONDS) re-sends a job that is
#   - queued and never sent (the broker was down) for PIXMO_JOB_SEND_GRACE_SECONDS,
#   - queued, sent that long ago, and its task is in no broker queue and with no worker,
#   - running on a worker that is dead, or running past CELERY_TASK_TIME_LIMIT + 60 s,
#   - queued or running for PIXMO_JOB_STUCK_SECONDS on a broker whose queues cannot be read.
# A job re-sent twice still produces one result: every stage stores under a unique key.
# A release export is swept the same way (services/release_runs.py): never sent, sent but in no
# queue, or building while its writer's own beat on the release row is three beats old; a writer
# whose task id is no longer the row's stops, so one writer finishes a release.
PIXMO_WORKER_HEARTBEAT_SECONDS = env_int("PIXMO_WORKER_HEARTBEAT_SECONDS", 20)
PIXMO_JOB_SEND_GRACE_SECONDS = env_int("PIXMO_JOB_SEND_GRACE_SECONDS", 60)
PIXMO_JOB_STUCK_SECONDS = env_int("PIXMO_JOB_STUCK_SECONDS", 30 * 60)

# Work leases: an assignment lives this long unless a heartbeat renews it.
PIXMO_LEASE_SECONDS = env_int("PIXMO_LEASE_SECONDS", 15 * 60)
