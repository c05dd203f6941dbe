"""Export: accepted rows from the database → a PixMo release that standard readers load."""

import json
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotation_app.errors import Conflict, ServiceError
from annotation_app.models import (
    AskThread,
    Assignment,
    Caption,
    CaptionVersion,
    DatasetRelease,
    ModelProvenance,
    PointSet,
    Recording,
    Transcript,
)
from annotation_app.selectors.export import ExportFilters
from annotation_app.services.releases import release_export, release_request
from pixmo_builders.reader import iter_samples
from pixmo_cli.main import main
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory, WorkItemFactory
from training.data import DataConfig, release_summaries

pytestmark = pytest.mark.django_db


def assignment_for(item, user):
    return Assignment.objects.create(work_item=item, project=item.project, annotator=user,
                                     expires_at="2030-01-01T00:00:00Z", heartbeat_at="2030-01-01T00:00:00Z")


def accepted_caption(item, user, text, review_status="accepted"):
    asr = ModelProvenance.objects.create(kind="asr", model_name="tiny.en", model_revision="abc")
    llm = ModelProvenance.objects.create(kind="llm", model_name="SmolLM2-135M-Instruct", prompt_id="refine.single@1",
                                         prompt_hash="f" * 64)
    recording = Recording.objects.create(assignment=assignment_for(item, user), work_item=item, annotator=user,
                                         client_uuid=uuid.uuid4(), sha256="0" * 64, mime="audio/webm", byte_size=1)
    transcript = Transcript.objects.create(recording=recording, model_key="k", text=f"um so {text}", provenance=asr)
    caption = Caption.objects.create(work_item=item, refine_key=str(uuid.uuid4()), review_status=review_status)
    caption.transcripts.add(transcript)
    CaptionVersion.objects.create(caption=caption, number=1, text=text, source="llm", provenance=llm)


def point_set(item, user, label, points, review_status="accepted", not_present=False):
    PointSet.objects.create(
        assignment=assignment_for(item, user), work_item=item, annotator=user, client_uuid=uuid.uuid4(), label=label,
        points=[{"x_px": x * 0.64, "y_px": y * 0.48, "x": x, "y": y} for x, y in points], not_present=not_present,
        review_status=review_status,
    )


@pytest.fixture
def collected():
    user = UserFactory()
    captions = ProjectFactory(kind="caption", slug="caps")
    accepted_caption(WorkItemFactory(project=captions), user, "A red square on white.")
    accepted_caption(WorkItemFactory(project=captions), UserFactory(), "A rejected caption.", review_status="rejected")
    pointing = ProjectFactory(kind="points", slug="pts")
    item = WorkItemFactory(project=pointing)
    point_set(item, user, "square", [(50.0, 25.0), (10.0, 90.0)])
    point_set(WorkItemFactory(project=pointing), user, "dog", [], not_present=True)
    point_set(WorkItemFactory(project=pointing), user, "cat", [(1.0, 1.0)], review_status="pending")
    held_out = WorkItemFactory(project=pointing, image=ImageFactory(is_eval_holdout=True))
    point_set(held_out, user, "square", [(40.0, 40.0)])
    ask = ProjectFactory(kind="ask", slug="ask")
    ask_item = WorkItemFactory(project=ask)
    AskThread.objects.create(assignment=assignment_for(ask_item, user), work_item=ask_item, annotator=user,
                             client_uuid=uuid.uuid4(), question="What colour is it?", final_answer="Red.",
                             status="accepted", review_status="accepted")
    return held_out.image


def test_export_writes_every_dataset_with_only_accepted_rows(collected, tmp_path):
    release = release_request(
        name="r1", datasets=["pixmo-cap", "pixmo-points", "pixmo-points-eval", "pixmo-ask-model-anything"],
        filters=ExportFilters(), uri=str(tmp_path / "r1"),
    ).release
    release = release_export(release=release)
    assert release.status == "complete" and release.progress == 1.0
    assert release.validation == {"ok": True, "problems": []}
    cap_dir = Path(release.uri) / "pixmo-cap"
    manifest = json.loads((cap_dir / "manifest.json").read_text())
    assert release.counts["pixmo-cap"] == {split: v["rows"] for split, v in manifest["splits"].items()} == {"train": 1}
    rows = pq.read_table(sorted((cap_dir / "data").glob("*.parquet"))).to_pylist()
    assert [r["caption"] for r in rows] == ["A red square on white."]
    assert rows[0]["transcripts"] == ["um so A red square on white."]
    assert set(rows[0]) == {"image_url", "caption", "transcripts"}
    card = (cap_dir / "README.md").read_text()
    assert "tiny.en" in card and "SmolLM2-135M-Instruct" in card
    points_dir = Path(release.uri) / "pixmo-points"
    point_rows = [r for f in sorted((points_dir / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    assert sorted(r["label"] for r in point_rows) == ["dog", "square"]  # pending and held-out rows left out
    assert {r["count"] for r in point_rows if r["label"] == "dog"} == {0}
    assert collected.sha256 not in {r["image_sha256"] for r in point_rows}
    eval_rows = pq.read_table(sorted((Path(release.uri) / "pixmo-points-eval" / "data").glob("*.parquet"))).to_pylist()
    assert [r["image_sha256"] for r in eval_rows] == [collected.sha256]
    splits = json.loads((points_dir / "manifest.json").read_text())["splits"]
    samples = [s for split in splits for s in iter_samples(str(points_dir), split=split)]
    assert samples and all(s.image_bytes.startswith(b"\x89PNG") for s in samples)


def test_a_release_is_one_folder_with_its_index_written_last(collected, tmp_path, capsys):
    release = release_export(release=release_request(
        name="r5", datasets=["pixmo-cap", "pixmo-points", "pixmo-points-eval"], filters=ExportFilters(),
        uri=str(tmp_path / "r5")).release)
    root = Path(release.uri)
    index = json.loads((root / "manifest.json").read_text())
    assert (index["format"], index["name"], list(index["datasets"])) == (
        "pixmo-release-index", "r5", ["pixmo-cap", "pixmo-points", "pixmo-points-eval"])
    assert index["filters"] == release.filters and index["code_version"] == index["datasets"]["pixmo-cap"]["code_version"]
    assert {name: {s: v["rows"] for s, v in e["splits"].items()} for name, e in index["datasets"].items()} == release.counts
    assert set(release.manifest["files"]) == {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    newest = max((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.stat().st_mtime_ns)
    assert newest == root / "manifest.json"
    card = (root / "README.md").read_text()
    assert "| dataset | train | test |" in card and "| pixmo-points-eval | - | 1 |" in card
    assert "Accepted rows only, from all projects, by all annotators." in card
    assert "{'" not in card and "{'" not in (root / "pixmo-cap" / "README.md").read_text()
    # The dashboard's "valid" and `pixmo validate` are one check, and train reads the same folder.
    assert release.validation == {"ok": True, "problems": []}
    assert main(["validate", release.uri]) == 0
    assert "valid (release of pixmo-cap, pixmo-points, pixmo-points-eval)" in capsys.readouterr().out
    assert [s.kind for s in release_summaries([release.uri], DataConfig())] == ["pixmo-cap", "pixmo-points"]


def test_an_export_stopped_before_its_index_writes_it_when_run_again(collected, tmp_path):
    release = release_export(release=release_request(
        name="r6", datasets=["pixmo-cap", "pixmo-points"], filters=ExportFilters(), uri=str(tmp_path / "r6")).release)
    (Path(release.uri) / "manifest.json").unlink()
    DatasetRelease.objects.filter(pk=release.pk).update(status="failed")
    dataset_manifest = (Path(release.uri) / "pixmo-cap" / "manifest.json").read_bytes()
    release = release_export(release=DatasetRelease.objects.get(pk=release.pk))
    assert release.status == "complete" and (Path(release.uri) / "manifest.json").exists()
    assert (Path(release.uri) / "pixmo-cap" / "manifest.json").read_bytes() == dataset_manifest  # not re-exported
    assert release.validation["ok"]


def test_export_command_resumes_an_unfinished_release_and_refuses_a_finished_one(collected, tmp_path):
    release = release_request(name="r2", datasets=["pixmo-cap"], filters=ExportFilters(), uri=str(tmp_path / "r2")).release
    call_command("export_release", "r2", verbosity=0)
    assert DatasetRelease.objects.get(pk=release.pk).status == "complete"
    with pytest.raises(CommandError, match="already complete"):
        call_command("export_release", "r2", verbosity=0)


def test_unknown_dataset_is_refused_with_the_list(tmp_path):
    with pytest.raises(CommandError, match="choose datasets among"):
        call_command("export_release", "r3", datasets=["pixmo-video"], out=str(tmp_path), verbosity=0)
    assert not DatasetRelease.objects.exists()


def test_include_unreviewed_exports_pending_work_and_says_so(collected, tmp_path):
    release = release_request(name="r4", datasets=["pixmo-points"], filters=ExportFilters(accepted_only=False),
                             uri=str(tmp_path / "r4")).release
    release = release_export(release=release)
    assert release.filters["accepted_only"] is False
    labels = [r["label"] for f in sorted((Path(release.uri) / "pixmo-points" / "data").glob("*.parquet"))
              for r in pq.read_table(f).to_pylist()]
    assert "cat" in labels


def _released(release, dataset):
    folder = Path(release.uri) / dataset
    return [r for f in sorted((folder / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def test_answers_for_one_image_and_label_merge_however_far_apart_they_were_made(tmp_path):
    first, second = UserFactory(), UserFactory()
    project = ProjectFactory(kind="points", slug="far")
    item = WorkItemFactory(project=project)
    point_set(item, first, "cup", [(10.0, 10.0)])
    for _ in range(3):  # other images' work lands in between
        point_set(WorkItemFactory(project=project), first, "cup", [(50.0, 50.0)])
    point_set(item, second, "cup", [(80.0, 20.0)])
    point_set(item, UserFactory(), "cup", [(80.0, 20.0)])  # the same answer again: one point
    release = release_export(release=release_request(
        name="far", datasets=["pixmo-points"], filters=ExportFilters(), uri=str(tmp_path / "far")).release)
    rows = [r for r in _released(release, "pixmo-points") if r["image_sha256"] == item.image.sha256]
    assert len(rows) == 1 and rows[0]["count"] == 2
    assert sorted((p["x"], p["y"]) for p in rows[0]["points"]) == [(10.0, 10.0), (80.0, 20.0)]


def test_a_repeated_row_is_released_once_and_counted(tmp_path):
    user = UserFactory()
    project = ProjectFactory(kind="caption", slug="twice")
    item = WorkItemFactory(project=project)
    accepted_caption(item, user, "A blue circle.")
    accepted_caption(WorkItemFactory(project=project), user, "A green line.")
    accepted_caption(item, UserFactory(), "A blue circle.")
    release = release_export(release=release_request(
        name="twice", datasets=["pixmo-cap"], filters=ExportFilters(), uri=str(tmp_path / "twice")).release)
    rows = _released(release, "pixmo-cap")
    assert sorted(r["caption"] for r in rows) == ["A blue circle.", "A green line."]
    manifest = release.manifest["datasets"]["pixmo-cap"]
    assert manifest["rows_duplicate"] == 1
    assert "duplicates" in (Path(release.uri) / "pixmo-cap" / "README.md").read_text()


def test_the_card_names_only_the_models_behind_the_exported_rows(tmp_path):
    user = UserFactory()
    project = ProjectFactory(kind="caption", slug="prov")
    accepted_caption(WorkItemFactory(project=project), user, "A kept caption.")
    accepted_caption(WorkItemFactory(project=project), user, "A rejected caption.", review_status="rejected")
    rejected = Caption.objects.get(review_status="rejected").current
    rejected.provenance = ModelProvenance.objects.create(kind="llm", model_name="unused-llm-9000",
                                                         prompt_id="refine.single@7", prompt_hash="e" * 64)
    rejected.save()
    release = release_export(release=release_request(
        name="prov", datasets=["pixmo-cap"], filters=ExportFilters(), uri=str(tmp_path / "prov")).release)
    card = (Path(release.uri) / "pixmo-cap" / "README.md").read_text()
    assert "SmolLM2-135M-Instruct" in card and "tiny.en" in card
    assert "unused-llm-9000" not in card and "refine.single@7" not in card
    entries = release.manifest["datasets"]["pixmo-cap"]["release"]["provenance"]
    assert {(e["field"], e["model"]) for e in entries} == {
        ("caption", "SmolLM2-135M-Instruct"), ("transcripts", "tiny.en")}


def test_a_rejected_llm_draft_is_never_the_released_caption(tmp_path):
    user = UserFactory()
    item = WorkItemFactory(project=ProjectFactory(kind="caption", slug="draft"))
    accepted_caption(item, user, "The clean-up text.")
    caption = Caption.objects.get()
    caption.versions.update(source="cleanup")
    CaptionVersion.objects.create(caption=caption, number=2, text="A draft that invented a dog.", source="llm_rejected")
    assert caption.current.text == "The clean-up text."
    release = release_export(release=release_request(
        name="draft", datasets=["pixmo-cap"], filters=ExportFilters(), uri=str(tmp_path / "draft")).release)
    assert [r["caption"] for r in _released(release, "pixmo-cap")] == ["The clean-up text."]


def test_every_collected_dataset_in_the_registry_has_a_release_builder():
    from annotation_app.services.releases import BUILDERS, EXPORTABLE
    from pixmo_builders.schemas import ANNOTATION_DATASETS, DATASETS

    assert set(BUILDERS) == set(ANNOTATION_DATASETS)
    assert tuple(EXPORTABLE) == ANNOTATION_DATASETS
    assert "pixmo-points-eval" in EXPORTABLE and not {"pixmo-docs", "pixmo-clocks"} & set(EXPORTABLE)
    assert set(ANNOTATION_DATASETS) < set(DATASETS)


def test_one_naming_and_duplicate_rule_for_every_caller(collected, tmp_path):
    first = release_request(name="Nov Release", datasets=["pixmo-cap"], filters=ExportFilters(),
                            uri=str(tmp_path / "nov"))
    assert (first.release.name, first.resumed) == ("nov-release", False)
    again = release_request(name="nov release", datasets=["pixmo-cap"], filters=ExportFilters())
    assert again.resumed and again.release.pk == first.release.pk
    with pytest.raises(Conflict, match="other datasets or filters"):
        release_request(name="nov-release", datasets=["pixmo-points"], filters=ExportFilters())
    release_export(release=first.release)
    with pytest.raises(Conflict, match="already complete"):
        release_request(name="nov-release", datasets=["pixmo-cap"], filters=ExportFilters())
    with pytest.raises(ServiceError, match="letters, digits or dashes"):
        release_request(name="  !! ", datasets=["pixmo-cap"], filters=ExportFilters())
