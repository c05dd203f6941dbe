"""The pipeline page lists the queues each worker really consumes: a real Celery worker on its own
Redis writes them in its heartbeat, and they follow a queue cancelled at run time."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from annotation_app.models import WorkerHeartbeat
from devtools.servers import OwnRedis, database_url
from tests.annotation_app.test_pipeline_tasks import wait_for

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker process needs a shared database"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, so the worker takes no one else's messages."""
    server = OwnRedis(tmp_path).start()
    yield server.url
    server.stop()


@pytest.fixture
def worker(settings, own_redis, tmp_path):
    db = settings.DATABASES["default"]
    env = {**{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
           "DATABASE_URL": database_url(db),
           "CELERY_BROKER_URL": own_redis, "PIXMO_VAR_DIR": str(tmp_path / "var"),
           "PIXMO_WORKER_HEARTBEAT_SECONDS": "1"}
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below, after the worker
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "annotation_app", "worker", "-Q", "default,asr,llm",
         "--hostname", "queues-test@%h", "--pool", "solo", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield {"broker": own_redis, "env": env}
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)
    log.close()


def heartbeat_queues() -> list[str] | None:
    beat = WorkerHeartbeat.objects.filter(hostname__startswith="queues-test@").first()
    return beat.queues if beat else None


def workers_row(client) -> str:
    html = client.get(reverse("dashboard:pipeline")).content.decode()
    start = html.index("queues-test@")
    return html[start:html.index("</tr>", start)]


def test_the_page_shows_the_queues_a_worker_consumes_now(worker, settings, client, admin_user):
    settings.CELERY_BROKER_URL = worker["broker"]  # the page reads queue depths from the worker's Redis
    client.force_login(admin_user)
    wait_for(lambda: heartbeat_queues() == ["asr", "default", "llm"], timeout=90, what="the worker's first heartbeat")
    assert "<td>asr, default, llm</td>" in workers_row(client)

    name = WorkerHeartbeat.objects.get(hostname__startswith="queues-test@").hostname.rsplit("/", 1)[0]

    def cancel_asr() -> bool:  # the heartbeat starts before the worker listens for control messages
        result = subprocess.run([sys.executable, "-m", "celery", "-A", "annotation_app", "control", "cancel_consumer",
                                 "asr", "-d", name, "--timeout", "2"], cwd=ROOT, env=worker["env"],
                                check=False, capture_output=True, text=True, timeout=60)
        return "no longer consuming from" in result.stdout

    wait_for(cancel_asr, timeout=60, what="the worker to take control messages")
    wait_for(lambda: heartbeat_queues() == ["default", "llm"], timeout=20, what="a heartbeat without asr")
    assert "<td>default, llm</td>" in workers_row(client)
