"""PostgreSQL restarts while annotators upload over HTTP: every acknowledged upload is stored once.

gunicorn (several workers) serves annotators who claim an item and upload a recording, over and
over. Mid-way the test restarts the PostgreSQL server under them (`pg_ctl restart -m fast`:
sessions cut, new connections refused for 2 s). A request that meets the outage gets a
503 with Retry-After and is retried with the same client UUID, as the browser does. At the end:
every upload was acknowledged, each client UUID is one recording row with one file and its
pipeline jobs, no answer was a 500, and a write that committed was never answered with an error
and then stored again.
"""

import functools
import os
import shlex
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection, connections
from rest_framework.authtoken.models import Token

from annotation_app.models import PipelineJob, Recording
from devtools.servers import Gunicorn, TokenClient, multipart_body
from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory, wav_bytes

ANNOTATORS = 12
UPLOADS_EACH = 4

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="restarts a PostgreSQL server"),
]


def _server_control() -> tuple[list[str], str] | None:
    """(command prefix to run pg_ctl as the server's owner, data directory), when this machine runs it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('data_directory'), current_setting('server_version_num')::int")
        data_directory, version = cursor.fetchone()
    pg_ctl = Path(f"/usr/lib/postgresql/{version // 10000}/bin/pg_ctl")
    if not pg_ctl.exists() or not Path(data_directory).exists():
        return None
    owner = Path(data_directory).owner()
    as_owner = ["runuser", "-u", owner, "--"] if os.geteuid() == 0 and owner != "root" else []
    return [*as_owner, str(pg_ctl)], data_directory


def restart_postgres(*, down_s: float = 2.0) -> float:
    """Stop the server (`-m fast`: sessions cut), keep it down `down_s`, start it again with the
    options it was started with (postmaster.opts). Returns the seconds it was unreachable. If it
    does not come back the test fails, after one more start so the rest of the suite keeps it."""
    command, data_directory = _server_control()
    data = Path(data_directory)
    argv = shlex.split((data / "postmaster.opts").read_text())[1:]
    options = [arg for i, arg in enumerate(argv) if arg != "-D" and (i == 0 or argv[i - 1] != "-D")]
    log = data / "restart.log"  # the server's owner can write there
    start_command = [*command, "-D", data_directory, "-l", str(log), "-o", shlex.join(options), "-w", "-t", "60",
                     "start"]
    connections.close_all()
    began = time.monotonic()
    subprocess.run([*command, "-D", data_directory, "-m", "fast", "-w", "-t", "60", "stop"], check=True,
                   capture_output=True, timeout=90)
    time.sleep(down_s)
    started = subprocess.run(start_command, check=False, capture_output=True, text=True, timeout=90)
    if started.returncode != 0:
        subprocess.run(start_command, check=False, capture_output=True, timeout=90)
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise AssertionError(f"PostgreSQL did not start again: {started.stdout}{started.stderr}\n{tail}")
    return time.monotonic() - began


@pytest.fixture
def server(gunicorn_env, tmp_path):
    if _server_control() is None:
        pytest.skip("the PostgreSQL server is not run by this machine's pg_ctl")
    with Gunicorn(folder=tmp_path, env=gunicorn_env, workers=3, threads=4) as gunicorn:
        yield gunicorn


def retrying(client: TokenClient, tally: Counter, call) -> tuple[int, object]:
    """The call until it is answered with anything but 503 (the outage), as the browser retries."""
    deadline = time.monotonic() + 120
    while True:
        try:
            status, body, _ = call()
        except OSError:  # the connection itself failed: the same as no answer
            status, body = None, None
            client.close()
        tally[status] += 1
        if status not in (503, None) or time.monotonic() > deadline:
            return status, body
        time.sleep(0.3)


def annotate(base_url: str, project_id: int, token: str, audio: bytes, out: dict) -> None:
    client = TokenClient(base_url, token, timeout=60)
    try:
        for _ in range(UPLOADS_EACH):
            status, body = retrying(client, out["statuses"], functools.partial(
                client.json, "POST", f"/api/projects/{project_id}/next/"))
            if status != 200:
                out["errors"].append(("claim", status, body))
                return
            recordings_url = f"/api/assignments/{body['id']}/recordings/"
            client_uuid = str(uuid.uuid4())
            payload, content_type = multipart_body({"client_uuid": client_uuid, "client_duration_s": "3.0"},
                                                   {"audio": ("take.wav", "audio/wav", audio)})
            status, body = retrying(client, out["statuses"], functools.partial(
                client.json, "POST", recordings_url, body=payload, content_type=content_type))
            if status not in (200, 201):
                out["errors"].append(("upload", status, body))
                return
            out["acknowledged"].append((client_uuid, body["id"]))
    finally:
        client.close()


@pytest.mark.timeout(600)
def test_postgres_restart_during_uploads_loses_and_doubles_nothing(server, settings, tmp_path):
    project = ProjectFactory(kind="caption", min_duration_s=1.0, target_duration_s=2.0, max_duration_s=60.0)
    for _ in range(ANNOTATORS * UPLOADS_EACH):
        WorkItemFactory(project=project)
    tokens = [Token.objects.create(user=UserFactory(username=f"restart-{i}")).key for i in range(ANNOTATORS)]
    audio = wav_bytes(3.0, sample_rate=16000)
    results = [{"statuses": Counter(), "errors": [], "acknowledged": []} for _ in tokens]
    threads = [threading.Thread(target=annotate, args=(server.url, project.pk, token, audio, out))
               for token, out in zip(tokens, results, strict=True)]
    for thread in threads:
        thread.start()
    # Restart once about a quarter of the uploads are in, while the rest are in flight.
    total = ANNOTATORS * UPLOADS_EACH
    deadline = time.monotonic() + 120
    while sum(len(out["acknowledged"]) for out in results) < total // 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    before = sum(len(out["acknowledged"]) for out in results)
    outage_s = restart_postgres()
    for thread in threads:
        thread.join()
    connections.close_all()

    statuses = sum((out["statuses"] for out in results), Counter())
    errors = [error for out in results for error in out["errors"]]
    acknowledged = [pair for out in results for pair in out["acknowledged"]]
    print(f"\nPostgreSQL down {outage_s:.1f} s after {before}/{total} uploads; "
          f"{len(acknowledged)}/{total} acknowledged; answers {dict(statuses)}")

    assert errors == [], errors[:5]
    assert statuses[500] == 0 and not any(status and status >= 500 and status != 503 for status in statuses)
    assert statuses[503] > 0, "no request met the outage: the restart came too late to test anything"
    assert len(acknowledged) == total
    uuids = [client_uuid for client_uuid, _ in acknowledged]
    assert len(set(uuids)) == total
    rows = Recording.objects.filter(assignment__project=project)
    assert rows.count() == total  # every acknowledged upload once, nothing besides
    by_uuid = {str(r.client_uuid): r for r in rows}
    assert set(by_uuid) == set(uuids)
    for client_uuid, recording_id in acknowledged:
        recording = by_uuid[client_uuid]
        assert recording.pk == recording_id  # the answer named the row that is stored
        assert Path(recording.file.path).stat().st_size == len(audio)
    stored_files = [path for path in (Path(settings.MEDIA_ROOT) / "recordings").rglob("*") if path.is_file()]
    assert len(stored_files) == total, "a refused attempt left a file behind"
    jobs = PipelineJob.objects.filter(target_type="recording", target_id__in=[r.pk for r in rows])
    assert jobs.count() == 3 * total
