"""Pipeline retry, broker queue depth, release listing, downloads and cutting a release."""

import hashlib
import json
import re
import urllib.request
import uuid
from html.parser import HTMLParser

import pytest
import redis
from django.urls import reverse

from annotation_app.models import DatasetRelease, PipelineJob
from annotation_app.selectors.dashboard_pipeline import broker_queue_depths
from annotation_app.selectors.export import ExportFilters
from annotation_app.services.releases import release_export, release_request
from tests.annotation_app.dashboard.factories import ReleaseFactory
from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory
from tests.annotation_app.test_export import accepted_caption, point_set
from tests.s3_server import s3_bucket, s3_server  # noqa: F401  (the fixture)


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
    assert "ab" * 32 in html and ">valid<" in html
    row = re.search(r'<tr class="release" data-release="pixmo-cap-v1".*?</tr>\s*</tbody></table>', html, re.DOTALL).group(0)
    assert "<th>train</th><th>validation</th>" in row and '<th scope="row">pixmo-cap</th><td>1200</td><td>60</td>' in row
    assert "Accepted rows only, from project" in row and "{'" not in html
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
                             manifest={"files": {"data/train-00000-of-00001.parquet": {"sha256": "00", "bytes": 4},
                                                 "manifest.json": {"sha256": "01", "bytes": 13}}})
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


class _Links(HTMLParser):
    """The hrefs of a page's <a> elements: what a reader of the page can follow."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and not href.startswith("#"):
            self.hrefs.append(href)


def _hrefs(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def _cut_release(uri: str) -> DatasetRelease:
    """A real two-dataset release of one accepted caption and one accepted point set."""
    user = UserFactory()
    accepted_caption(WorkItemFactory(project=ProjectFactory(kind="caption", slug="caps")), user, "A red square.")
    point_set(WorkItemFactory(project=ProjectFactory(kind="points", slug="pts")), user, "square", [(50.0, 25.0)])
    request = release_request(name="nov", datasets=["pixmo-cap", "pixmo-points"], uri=uri,
                              filters=ExportFilters(projects=("caps", "pts")))
    return release_export(release=request.release)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_every_link_on_the_releases_page_resolves(db, client_as, admin_user, tmp_path):
    release = _cut_release(str(tmp_path / "nov"))
    client = client_as(admin_user)
    html = client.get(reverse("dashboard:releases")).content.decode()
    hrefs = _hrefs(html)
    files = release.manifest["files"]
    downloads = {href.split("/files/", 1)[1]: href for href in hrefs if "/files/" in href}
    assert set(downloads) == set(files) and {"manifest.json", "README.md", "pixmo-cap/manifest.json"} <= set(files)
    for href in hrefs:
        response = client.get(href, follow=True)
        assert response.status_code == 200, href
    for key, href in downloads.items():
        assert hashlib.sha256(_body(client.get(href))).hexdigest() == files[key]["sha256"], key
    row = html[html.index('data-release="nov"'):]
    assert "Accepted rows only, from projects caps and pts, by all annotators." in row
    # One points row, in whichever split its image's hash sends it (the factory's images differ
    # with the tests run before this one).
    assert re.search(r'<th scope="row">pixmo-points</th>(?:<td>–</td>)*<td>1</td>', row) and "{'" not in html
    assert "{'" not in _body(client.get(downloads["README.md"])).decode()


def test_release_links_on_s3_are_presigned_and_fetch(db, client_as, admin_user, settings, s3_server, monkeypatch):  # noqa: F811
    s3_bucket(monkeypatch, endpoint=s3_server, bucket="pixmo-releases")
    settings.AWS_S3_ENDPOINT_URL = s3_server
    settings.AWS_ACCESS_KEY_ID = settings.AWS_SECRET_ACCESS_KEY = "test"
    release = _cut_release("s3://pixmo-releases/2026/nov")
    assert release.validation == {"ok": True, "problems": []}
    html = client_as(admin_user).get(reverse("dashboard:releases")).content.decode()
    presigned = [href for href in _hrefs(html) if href.startswith(s3_server)]
    assert len(presigned) == len(release.manifest["files"])
    for href in presigned:
        key = href.split("/2026/nov/", 1)[1].split("?", 1)[0]
        with urllib.request.urlopen(href, timeout=10) as response:
            assert response.status == 200
            assert hashlib.sha256(response.read()).hexdigest() == release.manifest["files"][key]["sha256"], key
