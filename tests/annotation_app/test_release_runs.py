"""A release export is a job like the others: sent under a task id, swept when its writer dies,
and finished by exactly one writer."""

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from annotation_app import celery_app
from annotation_app.errors import Conflict
from annotation_app.models import DatasetRelease
from annotation_app.selectors.export import ExportFilters
from annotation_app.services import releases as releases_service
from annotation_app.services.broker_queue import BrokerTasks
from annotation_app.services.release_runs import (
    ExportSuperseded,
    release_export_take,
    release_exports_stuck,
    release_exports_sweep,
    release_stuck_reason,
)
from annotation_app.services.releases import release_export, release_request
from devtools.servers import celery_sends_to
from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory
from tests.annotation_app.test_export import accepted_caption

NOW = timezone.now()
GRACE = 60  # PIXMO_JOB_SEND_GRACE_SECONDS's default
SILENT = 60  # three beats of PIXMO_WORKER_HEARTBEAT_SECONDS's default 20 s


def row(status="queued", *, task_id="t-1", queued_s=300, sent_s=None, beat_s=None, worker="") -> DatasetRelease:
    ago = lambda s: None if s is None else NOW - timedelta(seconds=s)
    return DatasetRelease(name="r", status=status, task_id=task_id, created_at=ago(600), queued_at=ago(queued_s),
                          sent_at=ago(sent_s), beat_at=ago(beat_s), worker=worker)


@pytest.mark.parametrize(
    ("release", "broker", "expected"),
    [
        (row(queued_s=5), {}, None),  # the on-commit send may still be on its way
        (row(queued_s=GRACE + 5), {}, "never sent (the broker was unreachable)"),
        (row(sent_s=5), {}, None),
        (row(sent_s=GRACE + 5), {"waiting": ["t-1"]}, None),
        (row(sent_s=GRACE + 5), {"taken": ["t-1"]}, None),  # prefetched by a worker, about to start
        (row(sent_s=GRACE + 5), {"waiting": ["t-2"]}, "sent, but its task is in no broker queue and with no worker"),
        (row(sent_s=GRACE + 5), None, None),  # the broker cannot be read: wait for the long age
        (row(sent_s=31 * 60), None, "queued for over 30 minutes"),
        (row("building", sent_s=900, beat_s=5, worker="celery@w/1"), {}, None),
        (row("building", sent_s=900, beat_s=SILENT + 5, worker="celery@w/1"), {},
         "its writer (celery@w/1) stopped beating 65 s ago"),
        (row("building", task_id="local:host/9:ab", beat_s=SILENT + 5, worker="host/9 (pixmo export)"), {},
         "its writer (host/9 (pixmo export)) stopped beating 65 s ago"),
        (row(task_id="", queued_s=GRACE + 5), {}, None),  # made for a foreground run, never sent
        (row("complete", sent_s=900, beat_s=900), {}, None),
        (row("failed", sent_s=900), {}, None),
    ],
    ids=["fresh-unsent", "unsent", "fresh-sent", "in-queue", "taken", "lost", "unreadable-young", "unreadable-old",
         "building-live", "building-silent", "foreground-silent", "foreground-made", "complete", "failed"],
)
def test_what_counts_as_a_stuck_export(release, broker, expected):
    broker = None if broker is None else BrokerTasks(waiting=frozenset(broker.get("waiting", ())),
                                                    taken=frozenset(broker.get("taken", ())))
    assert release_stuck_reason(release, now=NOW, broker=broker) == expected


@pytest.fixture
def captions(db):
    project = ProjectFactory(kind="caption", slug="caps")
    for text in ("A red square on white.", "Two blue cups on a table."):
        accepted_caption(WorkItemFactory(project=project), UserFactory(), text)


@pytest.fixture
def empty_queue(settings):
    settings.CELERY_BROKER_URL = "filesystem://"  # an empty queue folder: nothing is waiting
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": "/nonexistent-pixmo-queue"}


def cut(name, tmp_path, capture):
    with capture(execute=False) as callbacks:
        requested = release_request(name=name, datasets=["pixmo-cap"], filters=ExportFilters(),
                                    uri=str(tmp_path / name), in_background=True)
    return requested, callbacks


def test_a_cut_while_the_broker_is_down_stays_queued_and_the_sweeper_sends_it(
    captions, tmp_path, empty_queue, django_capture_on_commit_callbacks
):
    with celery_sends_to(celery_app, "redis://127.0.0.1:1/0"), django_capture_on_commit_callbacks(execute=True):  # port 1: nobody
        release = release_request(name="down", datasets=["pixmo-cap"], filters=ExportFilters(),
                                  uri=str(tmp_path / "down"), in_background=True).release
    release.refresh_from_db()
    assert (release.status, release.sent_at, release.error) == ("queued", None, "")  # not failed: the row keeps it
    assert release.send_error.startswith("not yet sent: the broker refused it") and release.task_id

    assert release_exports_sweep() == 0  # inside the grace
    later = timezone.now() + timedelta(seconds=GRACE + 1)
    [(stuck, why)] = release_exports_stuck(now=later)
    assert (stuck.pk, why) == (release.pk, "never sent (the broker was unreachable)")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert release_exports_sweep(now=later) == 1
    assert len(callbacks) == 1
    resent = DatasetRelease.objects.get(pk=release.pk)
    assert (resent.status, resent.resends, resent.send_error) == ("queued", 1, "")
    assert resent.task_id != release.task_id


def test_a_writer_that_died_is_sent_again_and_only_the_new_writer_marks_the_release(
    captions, tmp_path, empty_queue, django_capture_on_commit_callbacks
):
    requested, callbacks = cut("died", tmp_path, django_capture_on_commit_callbacks)
    release, first = requested.release, requested.release.task_id
    assert len(callbacks) == 1 and release.status == "queued" and first
    # A worker takes it, starts building, and dies: its beat stops.
    assert release_export_take(release=release, task_id=first) is not None
    taken = DatasetRelease.objects.get(pk=release.pk)
    assert (taken.status, taken.task_id) == ("building", first) and taken.beat_at is not None
    assert release_exports_stuck(now=timezone.now() + timedelta(seconds=SILENT - 10)) == []
    later = timezone.now() + timedelta(seconds=SILENT + 1)
    [(_, why)] = release_exports_stuck(now=later)
    assert why.startswith("its writer (") and "stopped beating" in why
    with django_capture_on_commit_callbacks(execute=False):
        assert release_exports_sweep(now=later) == 1
    second = DatasetRelease.objects.get(pk=release.pk).task_id
    assert second != first

    # The old writer coming back finds the release is no longer its own and touches nothing.
    stale = release_export(release=release, task_id=first)
    assert (stale.status, stale.task_id, stale.counts) == ("queued", second, {})
    done = release_export(release=release, task_id=second)
    assert (done.status, done.counts, done.validation) == ("complete", {"pixmo-cap": {"train": 2}},
                                                           {"ok": True, "problems": []})
    assert (Path(done.uri) / "manifest.json").exists()
    # A third send of a finished release has nothing to do.
    assert release_export(release=release, task_id=second).status == "complete"


def test_a_writer_superseded_mid_export_stops_and_never_marks_the_row(captions, tmp_path, empty_queue, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    requested, _ = cut("mid", tmp_path, django_capture_on_commit_callbacks)
    release, first = requested.release, requested.release.task_id
    rows = releases_service.EXPORTABLE["pixmo-cap"]

    def sweeper_resends_midway(filters, touched):
        for number, item in enumerate(rows(filters, touched)):
            if number == 1:  # the sweeper judged this writer dead and sent the export again
                DatasetRelease.objects.filter(pk=release.pk).update(task_id="t-second", status="queued")
            yield item

    monkeypatch.setitem(releases_service.EXPORTABLE, "pixmo-cap", sweeper_resends_midway)
    after = release_export(release=release, task_id=first)
    assert (after.status, after.task_id, after.error, after.counts) == ("queued", "t-second", "", {})
    assert not (Path(release.uri) / "manifest.json").exists()  # the superseded writer wrote no index
    monkeypatch.setitem(releases_service.EXPORTABLE, "pixmo-cap", rows)
    assert release_export(release=release, task_id="t-second").status == "complete"


@pytest.mark.django_db(transaction=True)
def test_the_writer_beats_on_the_row_and_notices_when_it_is_superseded(tmp_path, settings):
    settings.PIXMO_WORKER_HEARTBEAT_SECONDS = 1
    release = DatasetRelease.objects.create(name="beat", datasets=["pixmo-cap"], uri=str(tmp_path / "beat"),
                                            task_id="t-1", status="queued")
    run = release_export_take(release=release, task_id="t-1")
    first_beat = DatasetRelease.objects.get(pk=release.pk).beat_at
    with run:
        time.sleep(2.5)
        assert DatasetRelease.objects.get(pk=release.pk).beat_at > first_beat
        run.check()  # still its own
        DatasetRelease.objects.filter(pk=release.pk).update(task_id="t-2")
        deadline = time.monotonic() + 10
        while not run.superseded.is_set() and time.monotonic() < deadline:
            time.sleep(0.1)
        with pytest.raises(ExportSuperseded):
            run.check()
    assert not run.thread.is_alive()


def test_a_foreground_export_refuses_a_release_a_live_writer_holds_and_takes_over_a_stopped_one(
    captions, tmp_path, empty_queue, django_capture_on_commit_callbacks
):
    requested, _ = cut("held", tmp_path, django_capture_on_commit_callbacks)
    release = requested.release
    DatasetRelease.objects.filter(pk=release.pk).update(status="building", worker="celery@w/7",
                                                        beat_at=timezone.now(), progress=0.25)
    with pytest.raises(Conflict, match=r"being written now by celery@w/7 \(25% done, last beat \d+ s ago\)"):
        release_export(release=release)
    with pytest.raises(CommandError, match="being written now by celery@w/7"):
        call_command("export_release", "held", "--datasets", "pixmo-cap", "--out", release.uri, verbosity=0)
    # The same name from the dashboard: a live writer is on it, so nothing is sent.
    again, callbacks = cut("held", tmp_path, django_capture_on_commit_callbacks)
    assert again.running and not callbacks

    DatasetRelease.objects.filter(pk=release.pk).update(beat_at=timezone.now() - timedelta(seconds=SILENT + 5))
    call_command("export_release", "held", "--datasets", "pixmo-cap", "--out", release.uri, verbosity=0)
    done = DatasetRelease.objects.get(pk=release.pk)
    assert done.status == "complete" and done.task_id.startswith("local:") and done.worker.endswith("(pixmo export)")


def test_cutting_a_stopped_release_again_from_the_dashboard_sends_it(
    captions, tmp_path, empty_queue, django_capture_on_commit_callbacks
):
    requested, _ = cut("again", tmp_path, django_capture_on_commit_callbacks)
    release = requested.release
    DatasetRelease.objects.filter(pk=release.pk).update(status="building", worker="celery@w/8",
                                                        beat_at=timezone.now() - timedelta(seconds=SILENT + 5))
    again, callbacks = cut("again", tmp_path, django_capture_on_commit_callbacks)
    assert again.resumed and not again.running and len(callbacks) == 1
    assert (again.release.status, again.release.resends) == ("queued", 1)
    assert again.release.task_id != release.task_id
    DatasetRelease.objects.filter(pk=release.pk).update(status="failed", error="OSError: disk full")
    failed_again, callbacks = cut("again", tmp_path, django_capture_on_commit_callbacks)
    assert len(callbacks) == 1 and (failed_again.release.status, failed_again.release.error) == ("queued", "")


def test_the_dashboard_shows_a_stuck_export_and_sends_it_again(
    captions, tmp_path, empty_queue, admin_user, django_capture_on_commit_callbacks
):
    from django.test import Client
    from django.urls import reverse

    requested, _ = cut("shown", tmp_path, django_capture_on_commit_callbacks)
    release = requested.release
    DatasetRelease.objects.filter(pk=release.pk).update(status="building", worker="celery@w/9 pid 12", progress=0.5,
                                                        beat_at=timezone.now())
    client = Client()
    client.force_login(type(admin_user).objects.get(pk=admin_user.pk))
    page = client.get(reverse("dashboard:releases")).content.decode()
    assert "written by celery@w/9 pid 12" in page and "stuck:" not in page
    refused = client.post(reverse("dashboard:release-retry", args=[release.pk]), follow=True).content.decode()
    assert "is being written by celery@w/9 pid 12 (50% done); only a failed or stuck export is sent again" in refused

    DatasetRelease.objects.filter(pk=release.pk).update(beat_at=timezone.now() - timedelta(seconds=SILENT + 30))
    page = client.get(reverse("dashboard:releases")).content.decode()
    assert re.search(r"stuck: its writer \(celery@w/9 pid 12\) stopped beating 9\d s ago", page)
    assert reverse("dashboard:release-retry", args=[release.pk]) in page
    pipeline = client.get(reverse("dashboard:pipeline")).content.decode()
    assert 'id="stuck-releases"' in pipeline and "stopped beating" in pipeline
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sent = client.post(reverse("dashboard:release-retry", args=[release.pk]), follow=True).content.decode()
    assert "Release shown sent again" in sent and len(callbacks) == 1
    assert DatasetRelease.objects.get(pk=release.pk).resends == 1
    assert 'id="stuck-releases"' not in client.get(reverse("dashboard:pipeline")).content.decode()


def test_pixmo_export_says_so_when_a_background_send_takes_the_release_over(captions, tmp_path, monkeypatch):
    rows = releases_service.EXPORTABLE["pixmo-cap"]

    def taken_over_midway(filters, touched):
        for number, item in enumerate(rows(filters, touched)):
            if number == 1:  # the dashboard sent it to a worker, which took the row
                DatasetRelease.objects.filter(name="over").update(task_id="t-worker", worker="celery@w/3 pid 4")
            yield item

    monkeypatch.setitem(releases_service.EXPORTABLE, "pixmo-cap", taken_over_midway)
    with pytest.raises(CommandError, match=r"release 'over' is now written by celery@w/3 pid 4 \(status building\)"):
        call_command("export_release", "over", "--datasets", "pixmo-cap", "--out", str(tmp_path / "over"), verbosity=0)
