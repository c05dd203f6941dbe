"""Celery: Redis in production; a filesystem broker that needs no server by default."""

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
    else {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
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
    "worker-heartbeat": {
        "task": "annotation_app.tasks.worker_heartbeat_task",
        "schedule": 30,
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Work leases: an assignment lives this long unless a heartbeat renews it.
PIXMO_LEASE_SECONDS = env_int("PIXMO_LEASE_SECONDS", 15 * 60)
