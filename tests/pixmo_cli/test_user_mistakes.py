"""Every `pixmo` subcommand, given the mistakes a new user makes (a missing path, the wrong
folder, a file for a folder, a checkpoint with no weights, a bad --config, bad numbers, a
database that is down or not migrated), answers with one sentence on stderr and a non-zero
exit code, never a traceback. Run as a user runs it: one process per command."""

import json
import re

import pytest
from PIL import Image

from tests.pixmo_cli.conftest import pixmo

UNREACHABLE_DB = {"DATABASE_URL": "postgres://pixmo@127.0.0.1:1/pixmo"}  # nothing listens on port 1

# (command line with {places}, a fragment the sentence must hold, extra environment)
CASES = [
    ("arena import {missing} --answers-a {file} --answers-b {file} --project p", "nowhere is not a file", None),
    ("arena import {file} --answers-a {file} --answers-b {file} --project p", "notes.txt line 1: not JSON", None),
    ("arena import {file} --answers-b {file} --project p", "the following arguments are required: --answers-a", None),
    ("ask --image {missing} What?", "nowhere does not exist", None),
    ("ask --image {folder} What?", "is a folder; name an image file inside it", None),
    ("ask --image {file} What?", "is not an image that can be read", None),
    ("ask --image {image} --caption-file {missing} What?", "nowhere does not exist", None),
    ("ask --image {image} --caption-file {folder} What?", "is a folder, not a text file", None),
    ("ask What?", "the following arguments are required: --image", None),
    ("elo {missing}", "does not exist", None),
    ("elo {folder}", "is a folder", None),
    ("elo {nocols}", "lacks the column(s)", None),
    ("elo {judgments} --bootstrap -1", "--bootstrap must be 0 or more", None),
    ("elo {judgments} --bootstrap many", "invalid int value: 'many'", None),
    ("generate clocks --n 0 --out {new}", "--n must be between 1", None),
    ("generate clocks --n ten --out {new}", "invalid int value: 'ten'", None),
    ("generate maps --n 3 --out {new}", "invalid choice: 'maps'", None),
    ("generate clocks --n 3 --out {file}", "is a file", None),
    ("generate clocks --n 3 --out {file}/release", "is a file", None),
    ("generate clocks --n 3 --out {new} --size 0", "--size must be between 32", None),
    ("generate clocks --n 3 --out {new} --validation-fraction 1.5", "--validation-fraction must be", None),
    ("generate clocks --n 3 --out {new} --shard-samples 0", "--shard-samples must be at least 1", None),
    ("import-images {missing}", "is neither a folder, a file of URLs", None),
    ("import-images {image}", "is not a text file of URLs", None),
    ("import-images {folder}", "holds no images to import", None),
    ("import-images {images}", "run `python manage.py migrate` first", None),
    ("import-images {images}", "cannot reach the database", UNREACHABLE_DB),
    ("seed-demo", "run `python manage.py migrate` first", None),
    ("seed-demo", "cannot reach the database", UNREACHABLE_DB),
    ("export nov --out {file}", "is a file", None),
    ("export nov --since yesterday", "is not an ISO date", None),
    ("export nov", "run `python manage.py migrate` first", None),
    ("expire-leases", "cannot reach the database", UNREACHABLE_DB),
    ("image-tokens 0 10", "must be at least 1x1", None),
    ("image-tokens wide 10", "invalid int value: 'wide'", None),
    ("image-tokens 640 480 --max-crops 0", "max_crops=0", None),
    ("image-tokens 640 480 --config huge", "unknown preprocessor preset 'huge'", None),
    ("train --config huge --data {release} --out {new}", "unknown config 'huge'", None),
    ("train --config {badtoml} --data {release} --out {new}", "is not valid TOML", None),
    ("train --config {image} --data {release} --out {new}", "is not a text file", None),
    ("train --config tiny --data {release} --out {new} --steps 0", "--steps must be at least 1", None),
    ("train --config tiny --data {release} --out {new} --steps two", "invalid int value: 'two'", None),
    ("train --config tiny --data {release} --out {file}", "is a file", None),
    ("train --config tiny --data {missing} --out {new}", "neither a release nor a dataset folder", None),
    ("eval --checkpoint {missing} --data {release}", "does not exist", None),
    ("eval --checkpoint {release} --data {release}", "holds no model", None),
    ("eval --checkpoint {noweights} --data {release}", "no weights", None),
    ("eval --checkpoint {noweights} --data {release} --limit 0", "--limit must be at least 1", None),
    ("eval --checkpoint {noweights} --data {release} --split dev", "has no split 'dev'", None),
    ("eval --checkpoint {noweights} --data {folder}", "neither a release nor a dataset folder", None),
    ("eval --checkpoint {noweights} --benchmark okvqa --data {benchtsv}", "unknown benchmark 'okvqa'; the known ones: ai2d, chartqa", None),
    ("eval --checkpoint {noweights} --benchmark chartqa --data {missing}", "does not exist; pass the benchmark's VLMEvalKit TSV", None),
    ("eval --checkpoint {noweights} --benchmark vqav2 --data {nocolstsv}", "lacks the column(s) answers or answer", None),
    ("eval --checkpoint {noweights} --benchmark chartqa --data {benchtsv}", "has no image for the row with index 1", None),
    ("eval --checkpoint {noweights} --benchmark chartqa --data {folder}", "holds no .parquet files", None),
    ("eval-score --benchmark okvqa --data {benchtsv} --predictions {file}", "unknown benchmark 'okvqa'; the known ones", None),
    ("eval-score --benchmark chartqa --data {missing} --predictions {file}", "does not exist; pass the benchmark's", None),
    ("eval-score --benchmark chartqa --data {nocolstsv} --predictions {file}", "lacks the column(s) answer or label", None),
    ("eval-score --benchmark chartqa --data {file} --predictions {file}", "neither a .tsv nor a .parquet file", None),
    ("eval-score --benchmark chartqa --data {benchtsv} --predictions {missing}", "does not exist; --predictions takes", None),
    ("eval-score --benchmark chartqa --data {benchtsv} --predictions {file}", "line 1 is not {\"index\"", None),
    ("eval-score --benchmark chartqa --data {benchtsv}", "the following arguments are required: --predictions", None),
    ("infer --checkpoint {missing} --image {image} --prompt hi", "does not exist", None),
    ("infer --checkpoint {noweights}", "give --image and --prompt, or --prompts FILE", None),
    ("infer --checkpoint {noweights} --prompts {missing} --answers {new}", "nowhere is not a file", None),
    ("infer --checkpoint {noweights} --prompts {file} --answers {new}", "notes.txt line 1: not JSON", None),
    ("infer --checkpoint {noweights} --prompts {file}", "--prompts needs --answers FILE", None),
    ("infer --checkpoint {file} --image {image} --prompt hi", "is a file", None),
    ("infer --checkpoint {release} --image {image} --prompt hi", "holds no model", None),
    ("infer --checkpoint {folder} --image {image} --prompt hi", "holds no model", None),
    ("infer --checkpoint {noweights} --image {image} --prompt hi", "no weights", None),
    ("infer --checkpoint {badweights} --image {image} --prompt hi", "could not be loaded as a Molmo model", None),
    ("infer --checkpoint {unfinished} --image {image} --prompt hi", "no exported model yet", None),
    ("infer --checkpoint {noweights} --image {missing} --prompt hi", "does not exist", None),
    ("infer --checkpoint {noweights} --image {folder} --prompt hi", "is a folder", None),
    ("infer --checkpoint {noweights} --image {file} --prompt hi", "cannot read an image", None),
    ("infer --checkpoint {noweights} --image {image} --prompt hi --out {folder}", "is a folder", None),
    ("infer --checkpoint {noweights} --image {image} --prompt hi --out {missing}/x.png", "does not exist", None),
    ("infer --checkpoint {noweights} --image {image} --prompt hi --max-new-tokens 0", "must be at least 1", None),
    ("transcribe {missing}", "no such file", None),
    ("transcribe {folder}", "a folder, not a file", None),
    ("transcribe {file}", "1 of 1 files could not be decoded", None),
    ("transcribe {file} --batch-size -1", "--batch-size -1 must be 0 or more", None),
    ("refine {missing}", "no such file", None),
    ("refine {folder}", "a folder, not a file", None),
    ("refine {empty}", "every transcript given is empty", None),
    ("validate {missing}", "neither a release nor a dataset folder", None),
    ("validate {file}", "neither a release nor a dataset folder", None),
    ("validate {unfinished}", "neither a release nor a dataset folder", None),
    ("unpack {release}", "invalid choice: 'unpack'", None),
]


@pytest.fixture(scope="module")
def places(tmp_path_factory, clocks_folder) -> dict:
    """The paths the cases name: real files and folders of each wrong kind."""
    root = tmp_path_factory.mktemp("mistakes")
    (root / "notes.txt").write_text("some notes\n")
    (root / "empty").mkdir()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(root / "photo.png")
    (root / "images").mkdir()
    Image.new("RGB", (40, 30), (30, 30, 200)).save(root / "images" / "blue.png")
    (root / "judgments.csv").write_text("model_a,model_b,winner\nm1,m2,a\n")
    (root / "nocols.csv").write_text("a,b\n1,2\n")
    (root / "nocols.tsv").write_text("index\timage\tquestion\n1\t\tWhat is it?\n")  # a benchmark TSV without answers
    (root / "chartqa.tsv").write_text("index\tquestion\tanswer\n1\tValue of A?\t3\n")  # answers, no images
    (root / "bad.toml").write_text("steps = [\n")
    (root / "blank.txt").write_text("   \n")
    (root / "noweights").mkdir()
    (root / "noweights" / "config.json").write_text(json.dumps({"model_type": "molmo"}))
    (root / "badweights").mkdir()
    (root / "badweights" / "config.json").write_text(json.dumps({"model_type": "molmo"}))
    (root / "badweights" / "model.safetensors").write_bytes(b"not a safetensors file")
    (root / "unfinished" / "checkpoint").mkdir(parents=True)
    return {
        "missing": str(root / "nowhere"), "folder": str(root / "empty"), "file": str(root / "notes.txt"),
        "image": str(root / "photo.png"), "images": str(root / "images"), "judgments": str(root / "judgments.csv"), "nocols": str(root / "nocols.csv"),
        "nocolstsv": str(root / "nocols.tsv"), "benchtsv": str(root / "chartqa.tsv"),
        "badtoml": str(root / "bad.toml"), "empty": str(root / "blank.txt"), "noweights": str(root / "noweights"),
        "badweights": str(root / "badweights"), "unfinished": str(root / "unfinished"), "release": clocks_folder,
        "new": str(root / "new"), "var": str(root / "var"),
    }  # fmt: skip


def help_commands() -> set[str]:
    listing = pixmo("--help").stdout
    return set(re.findall(r"^    ([a-z][a-z-]*)(?:\s|$)", listing, flags=re.MULTILINE))


def test_the_cases_walk_every_subcommand_pixmo_help_lists():
    covered = {line.split()[0] for line, _, _ in CASES}
    commands = help_commands()
    assert len(commands) >= 13 and "infer" in commands
    assert commands - covered == set()


def message_lines(stderr: str) -> list[str]:
    """The lines of stderr that speak to the user (progress bars redraw with \\r; usage lines
    start with 'usage:')."""
    return [line for line in re.split(r"[\r\n]+", stderr) if line.startswith("pixmo")]


@pytest.mark.parametrize(("line", "fragment", "env"), CASES, ids=[c[0].split(" {")[0] + f"-{i}" for i, c in enumerate(CASES)])
def test_a_mistake_is_one_sentence_and_an_exit_code(places, line, fragment, env):
    args = [part.format(**places) for part in line.split()]
    result = pixmo(*args, env={"PIXMO_VAR_DIR": places["var"], **(env or {})})
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode != 0, output
    messages = message_lines(result.stderr)
    assert len(messages) == 1, result.stderr
    message = messages[0]
    assert re.match(r"^pixmo( [a-z-]+){0,2}: \S", message) and message.endswith("."), message
    assert fragment in message, message
    assert len(message) < 400, message


def test_the_sentence_for_a_run_folder_names_what_to_pass(places):
    result = pixmo("infer", "--checkpoint", places["folder"], "--image", places["image"], "--prompt", "hi")
    assert "pass the folder `pixmo train --out` wrote, or its model/ folder" in result.stderr
