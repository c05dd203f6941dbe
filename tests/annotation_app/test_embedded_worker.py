"""The embedded default (SQLite, the filesystem broker) runs its worker without forking: a pool
child that closed the SQLite connection it inherited deleted the write-ahead log under the other
processes, and every task after it found the database locked for good."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def embedded_env(tmp_path: Path) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DATABASE_", "CELERY_", "PIXMO_"))}
    return {**env, "PIXMO_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "annotation_app.settings",
            "PIXMO_JOB_SWEEP_SECONDS": "2", "PIXMO_JOB_SEND_GRACE_SECONDS": "1", "PIXMO_WORKER_HEARTBEAT_SECONDS": "1",
            "PIXMO_LEASE_SWEEP_SECONDS": "3600", "PIXMO_RELEASES_URI": str(tmp_path / "releases")}


def manage(env: dict, *args: str, stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], check=False, cwd=ROOT, env=env, input=stdin, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_embedded_settings_run_the_worker_in_threads(tmp_path):
    env = embedded_env(tmp_path)
    ask = "from django.conf import settings; print(getattr(settings, 'CELERY_WORKER_POOL', 'prefork'))"
    assert manage(env, "shell", "-v", "0", "-c", ask) == "threads"
    on_postgres = {**env, "DATABASE_URL": "postgres://pixmo@127.0.0.1:1/pixmo"}
    assert manage(on_postgres, "shell", "-v", "0", "-c", ask) == "prefork"


def test_a_forking_worker_on_sqlite_is_refused_with_a_sentence():
    from celery.concurrency.prefork import TaskPool
    from celery.exceptions import ImproperlyConfigured

    from annotation_app.celery import refuse_forking_on_sqlite

    for pool in ("prefork", TaskPool):
        with pytest.raises(ImproperlyConfigured, match="the worker cannot fork on SQLite"):
            refuse_forking_on_sqlite(pool, engine="django.db.backends.sqlite3")
    refuse_forking_on_sqlite("threads", engine="django.db.backends.sqlite3")
    refuse_forking_on_sqlite(TaskPool, engine="django.db.backends.postgresql")


@pytest.mark.timeout(300)
def test_the_embedded_worker_and_its_sweeper_finish_a_stranded_release(tmp_path):
    env = embedded_env(tmp_path)
    manage(env, "migrate", "-v", "0")
    # A release cut while the broker was unreachable: queued, never sent.
    manage(env, "shell", "-v", "0", stdin=(
        "from annotation_app.models import DatasetRelease\n"
        "from django.utils import timezone\n"
        f"DatasetRelease.objects.create(name='stranded', datasets=['pixmo-cap'], uri='{tmp_path / 'releases' / 'stranded'}',"
        " task_id='never-sent', queued_at=timezone.now())\n"))
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(  # --pool prefork as a user might write it: the setting keeps it in threads
        [sys.executable, "-m", "celery", "-A", "annotation_app", "worker", "-B", "-Q", "default,asr,llm", "--pool", "prefork",
         "--concurrency", "2", "--without-mingle", "--without-gossip", "--loglevel", "INFO",
         "--schedule", str(tmp_path / "beat-schedule")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    ask = ("from annotation_app.models import DatasetRelease as D; "
           "r = D.objects.get(name='stranded'); print(r.status, r.resends)")
    try:
        deadline, state = time.monotonic() + 180, ""
        while time.monotonic() < deadline:
            state = manage(env, "shell", "-v", "0", "-c", ask)
            if state.startswith(("complete", "failed")):
                break
            time.sleep(2)
    finally:
        os.killpg(worker.pid, 9)
        worker.wait(timeout=20)
        log.close()
    text = (tmp_path / "worker.log").read_text()
    assert state == "complete 1", f"{state}\n{text[-3000:]}"
    assert "(thread)" in text and "database is locked" not in text
