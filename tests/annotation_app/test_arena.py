"""The arena: prompts and two models' answers from JSON Lines files become comparison work
items, all or nothing; the same files again add nothing; the answers never enter a release."""

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command
from PIL import Image as PILImage

from annotation_app.errors import ServiceError
from annotation_app.models import CompareItem, Image, Project, WorkItem
from annotation_app.selectors.export import ExportFilters
from annotation_app.services.releases import release_export, release_request
from tests.annotation_app.factories import ProjectFactory
from tests.pixmo_cli.conftest import clocks_folder, pixmo  # noqa: F401 - the session's small clocks release

pytestmark = pytest.mark.django_db


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture
def arena_files(tmp_path) -> dict[str, Path]:
    (tmp_path / "images").mkdir()
    for name, colour in (("street", (90, 120, 160)), ("desk", (160, 120, 90))):
        PILImage.new("RGB", (64, 48), colour).save(tmp_path / "images" / f"{name}.png")
    prompts = [
        {"prompt_id": "p1", "image": "images/street.png", "prompt": "How many people are there?", "category": "counting"},
        {"prompt_id": "p2", "image": "images/street.png", "prompt": "Describe the sky.", "category": "caption"},
        {"prompt_id": 3, "image": "images/desk.png", "prompt": "What is on the desk?"},
    ]
    answers_a = [{"prompt_id": "p1", "model": "molmo-7b-d", "answer": "MODEL-A-SAYS three people"},
                 {"prompt_id": "p2", "model": "molmo-7b-d", "answer": "MODEL-A-SAYS a clear blue sky"},
                 {"prompt_id": "3", "model": "molmo-7b-d", "answer": "MODEL-A-SAYS a lamp"}]
    answers_b = [{"prompt_id": pid, "model": "our-run-40", "answer": f"MODEL-B-SAYS answer {pid}"} for pid in ("p1", "p2", "3")]
    return {"prompts": write_jsonl(tmp_path / "prompts.jsonl", prompts),
            "a": write_jsonl(tmp_path / "a.jsonl", answers_a), "b": write_jsonl(tmp_path / "b.jsonl", answers_b)}


def arena_import(files, **options):
    out = io.StringIO()
    call_command("arena_import", str(files["prompts"]), answers_a=str(files["a"]), answers_b=str(files["b"]),
                 stdout=out, **options)
    return out.getvalue()


def test_prompts_and_two_models_answers_become_comparison_items(arena_files):
    said = arena_import(arena_files, project="arena-1", project_name="Arena one")
    assert "3 prompts added to 'arena-1' (molmo-7b-d vs our-run-40), 0 already there, 2 new images" in said
    project = Project.objects.get(slug="arena-1")
    assert project.kind == "compare"
    items = CompareItem.objects.filter(work_item__project=project).select_related("work_item").order_by("work_item_id")
    assert [(c.prompt, c.model_a, c.model_b) for c in items][0] == ("How many people are there?", "molmo-7b-d", "our-run-40")
    assert sorted(c.work_item.variant for c in items) == [0, 0, 1]  # two prompts on the street photo
    assert items[0].response_b == "MODEL-B-SAYS answer p1" and items[2].category == ""
    assert all(c.work_item.open_slots == project.overlap_k for c in items)
    again = arena_import(arena_files, project="arena-1")
    assert "0 prompts added" in again and "3 already there, 0 new images" in again
    assert CompareItem.objects.count() == 3 and WorkItem.objects.count() == 3


@pytest.mark.parametrize(("change", "words"), [
    (lambda f: write_jsonl(f["b"], [json.loads(x) for x in f["b"].read_text().splitlines()][:2]),
     "b.jsonl answers no prompt with id '3'"),
    (lambda f: f["a"].write_text(f["a"].read_text() + '{"prompt_id": "p9", "model": "molmo-7b-d", "answer": "x"}\n'),
     "a.jsonl line 4: prompt_id 'p9' is not in the prompts file"),
    (lambda f: f["a"].write_text(f["a"].read_text().replace('"model": "molmo-7b-d", "answer": "MODEL-A-SAYS a lamp"',
                                                            '"model": "other", "answer": "MODEL-A-SAYS a lamp"')),
     "a.jsonl names 2 models (molmo-7b-d, other)"),
    (lambda f: f["b"].write_text(f["a"].read_text()), "both answer files are from the model 'molmo-7b-d'"),
    (lambda f: f["prompts"].write_text(f["prompts"].read_text() + "{not json\n"), "prompts.jsonl line 4: not JSON"),
    (lambda f: (f["prompts"].parent / "images" / "desk.png").write_bytes(b"not a picture"), "prompt '3': image images/desk.png"),
    (lambda f: f["a"].write_text(f["a"].read_text().replace(', "answer": "MODEL-A-SAYS a lamp"', "")),
     "a.jsonl line 3: no answer"),
])
def test_a_bad_file_imports_nothing_and_says_what_is_wrong(arena_files, change, words):
    change(arena_files)
    with pytest.raises(CommandError, match="nothing was imported|both answer files") as raised:
        arena_import(arena_files, project="arena-2", project_name="Arena two")
    assert words in str(raised.value)
    assert not CompareItem.objects.exists() and not WorkItem.objects.exists()


def test_answers_go_only_into_a_comparison_project(arena_files):
    ProjectFactory(slug="captions", kind="caption")
    with pytest.raises(CommandError, match="is a Spoken caption project; arena answers go into a side-by-side"):
        arena_import(arena_files, project="captions")
    with pytest.raises(CommandError, match="there is no project with slug 'nowhere'; pass --name"):
        arena_import(arena_files, project="nowhere")
    assert not CompareItem.objects.exists() and not Image.objects.exists()


def test_model_answers_never_enter_a_training_release(arena_files, settings, tmp_path):
    settings.PIXMO_RELEASES_URI = str(tmp_path / "releases")
    arena_import(arena_files, project="arena-3", project_name="Arena three")
    with pytest.raises(ServiceError, match="'arena-3' is a side-by-side comparison project: their answers were written "
                                           "by models and are evaluation data only"):
        release_request(name="with-arena", datasets=["pixmo-cap", "pixmo-ask-model-anything"],
                        filters=ExportFilters(projects=("arena-3",), accepted_only=False))
    # A release of everything holds none of the answers.
    release = release_request(name="everything", datasets=["pixmo-cap", "pixmo-ask-model-anything", "pixmo-cap-qa"],
                              filters=ExportFilters(accepted_only=False)).release
    release_export(release=release)
    written = b"".join(path.read_bytes() for path in (tmp_path / "releases").rglob("*") if path.is_file())
    tables = [pq.read_table(path).to_pylist() for path in (tmp_path / "releases").rglob("*.parquet")]
    assert b"MODEL-A-SAYS" not in written and b"MODEL-B-SAYS" not in written
    assert "MODEL-" not in json.dumps(tables, default=str)


def test_two_checkpoints_answer_a_prompts_file_in_batch_and_feed_the_arena(arena_files, clocks_folder, tmp_path):
    """`pixmo infer --prompts` (as processes) writes what `pixmo arena import` reads."""
    answers = {}
    for steps in ("1", "2"):
        run = tmp_path / f"run-{steps}-steps"
        trained = pixmo("train", "--config", "tiny", "--data", clocks_folder, "--steps", steps, "--out", str(run))
        assert trained.returncode == 0, trained.stderr
        answers[steps] = tmp_path / f"answers-{steps}.jsonl"
        answered = pixmo("infer", "--checkpoint", str(run), "--prompts", str(arena_files["prompts"]),
                         "--answers", str(answers[steps]), "--max-new-tokens", "4")
        assert answered.returncode == 0, answered.stderr
        assert answered.stdout.strip().endswith(f"3 answers by run-{steps}-steps written to {answers[steps]}")
        lines = [json.loads(line) for line in answers[steps].read_text().splitlines()]
        assert [(row["prompt_id"], row["model"]) for row in lines] == [(p, f"run-{steps}-steps") for p in ("p1", "p2", "3")]
    said = arena_import({"prompts": arena_files["prompts"], "a": answers["1"], "b": answers["2"]},
                        project="arena-runs", project_name="Our runs")
    assert "3 prompts added to 'arena-runs' (run-1-steps vs run-2-steps)" in said
