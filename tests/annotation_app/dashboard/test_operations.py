"""Pipeline retry, broker queue depth, release listing, downloads and cutting a release."""

import json
import uuid

import pytest
import redis
from django.urls import reverse

from annotation_app.models import DatasetRelease, PipelineJob
from annotation_app.selectors.dashboard_pipeline import broker_queue_depths
from tests.annotation_app.dashboard.factories import ReleaseFactory


def test_admin_retries_a_failed_job(seeded, client_as, admin_user, django_capture_on_commit_callbacks):
    job = PipelineJob.objects.get(status="failed")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_as(admin_user).post(reverse("dashboard:pipeline-retry", args=[job.pk]), follow=True)
    assert f"Job {job.pk} (refine) queued again." in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.error) == ("queued", "")
    assert len(callbacks) == 1  # the re-enqueue, sent only after commit
    again = client_as(admin_user).post(reverse("dashboard:pipeline-retry", args=[job.pk]), follow=True)
    assert "only failed or stuck jobs are retried" in again.content.decode()


def test_queue_depth_is_read_from_redis(settings):
    url = settings.CELERY_BROKER_URL if settings.CELERY_BROKER_URL.startswith("redis") else "redis://127.0.0.1:6379/0"
    settings.CELERY_BROKER_URL = url.rsplit("/", 1)[0] + "/15"  # a database no worker reads
    queue = f"dashboard-test-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis server to read a queue from")
    client.rpush(queue, "m1", "m2", "m3")
    try:
        assert broker_queue_depths(queues=(queue, "dashboard-test-empty")) == {
            "reachable": True, "reason": "", "depths": {queue: 3, "dashboard-test-empty": 0}}
    finally:
        client.delete(queue)
        client.close()


def test_queue_depth_from_the_filesystem_broker_and_an_unreachable_one(settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    for name in ("1_a.asr.msg", "2_b.asr.msg", "3_c.llm.msg"):
        (tmp_path / name).write_text("{}")
    assert broker_queue_depths()["depths"] == {"asr": 2, "llm": 1, "default": 0}
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    assert broker_queue_depths() == {"reachable": False, "reason": "the broker did not answer (ConnectionError)",
                                     "depths": {}}


def test_release_filters_counts_checksums_and_validation(seeded, client_as):
    client = client_as(seeded["reviewer"])
    html = client.get(reverse("dashboard:releases")).content.decode()
    assert "train: 1200" in html and "ab" * 32 in html and ">valid<" in html
    assert '<progress max="1" value="0.400">' in html
    assert "releases.js" in html and "data-building" in html  # a build is running: the page follows it
    building = client.get(reverse("dashboard:releases") + "?status=building").context["rows"]
    assert [row["release"].name for row in building] == ["pixmo-points-v1"]
    by_dataset = client.get(reverse("dashboard:releases") + "?dataset=pixmo-cap").context["rows"]
    assert [row["release"].name for row in by_dataset] == ["pixmo-cap-v1"]
    assert "Cut a new release" not in html  # reviewers see the list, admins cut


def test_s3_release_links_are_presigned_for_hours(db, client_as, admin_user, settings):
    settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY = "test-key", "test-secret"
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9000"
    ReleaseFactory(name="on-s3", uri="s3://pixmo-releases/2026/on-s3",
                   manifest={"files": {"data/train-00000-of-00001.parquet": {"sha256": "ef" * 32, "bytes": 9}}})
    html = client_as(admin_user).get(reverse("dashboard:releases")).content.decode()
    assert "/pixmo-releases/2026/on-s3/data/train-00000-of-00001.parquet?" in html
    assert "X-Amz-Expires=21600" in html  # AWS_QUERYSTRING_EXPIRE: six hours for large shards


def test_local_release_files_download_behind_login(db, client_as, reviewer, tmp_path):
    folder = tmp_path / "rel"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "train-00000-of-00001.parquet").write_bytes(b"PAR1")
    (folder / "manifest.json").write_text(json.dumps({"files": {}}))
    (tmp_path / "secret.txt").write_text("no")
    release = ReleaseFactory(name="local", uri=str(folder),
                             manifest={"files": {"data/train-00000-of-00001.parquet": {"sha256": "00", "bytes": 4}}})
    client = client_as(reviewer)
    url = reverse("dashboard:release-file", args=[release.pk, "data/train-00000-of-00001.parquet"])
    assert url in client.get(reverse("dashboard:releases")).content.decode()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"PAR1"
    assert client.get(reverse("dashboard:release-file", args=[release.pk, "manifest.json"])).status_code == 200
    assert client.get(reverse("dashboard:release-file", args=[release.pk, "../secret.txt"])).status_code == 404
    assert client_as(None).get(url).status_code == 302


def test_admin_cuts_a_release(seeded, client_as, admin_user, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.PIXMO_RELEASES_URI = str(tmp_path / "releases")
    project = seeded["caption_project"]
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_as(admin_user).post(reverse("dashboard:release-cut"), {
            "name": "PixMo Cap Nov", "datasets": ["pixmo-cap"], "projects": [str(project.pk)], "accepted_only": "on",
        }, follow=True)
    release = DatasetRelease.objects.get(name="pixmo-cap-nov")
    assert (release.status, release.datasets, release.created_by) == ("queued", ["pixmo-cap"], admin_user)
    assert release.filters == {"projects": [project.slug], "annotators": [], "since": None, "until": None,
                               "accepted_only": True}
    assert release.uri == str(tmp_path / "releases" / "pixmo-cap-nov")
    assert len(callbacks) == 1  # the export starts after commit
    assert "Release pixmo-cap-nov queued" in response.content.decode()


def test_a_release_without_datasets_is_refused(seeded, client_as, admin_user):
    response = client_as(admin_user).post(reverse("dashboard:release-cut"), {"name": "empty"}, follow=True)
    assert "choose datasets among" in response.content.decode()
    assert not DatasetRelease.objects.filter(name="empty").exists()
