"""`pixmo ask` as a user runs it, one process per command: Tesseract reads the image, the real
bundled SmolLM2 answers from the OCR text and the caption, the ask guards judge the answer."""

import json

import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.pixmo_cli.conftest import pixmo

QUESTION = "What are the opening hours?"


@pytest.fixture(scope="module")
def sign(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ask")
    image = Image.new("RGB", (640, 200), "white")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 64)
    ImageDraw.Draw(image).text((30, 60), "OPEN 24 HOURS", fill="black", font=font)
    image.save(folder / "sign.png")
    (folder / "caption.txt").write_text("A shop front with a sign above the door.\n")
    return {"image": str(folder / "sign.png"), "caption": str(folder / "caption.txt")}


def test_ask_prints_the_answer_and_its_verdict(sign):
    result = pixmo("ask", "--image", sign["image"], "--caption-file", sign["caption"], QUESTION)
    assert result.returncode == 0, result.stderr
    answer, _, verdict = result.stdout.strip().partition("\n\nverdict: ")
    assert answer.strip() and "Traceback" not in result.stderr
    assert verdict.startswith(("passed the checks (attempt ", "FLAGGED after ")), result.stdout
    if verdict.startswith("FLAGGED"):
        assert "\n  - " in verdict  # one line per reason


def test_ask_json_holds_everything_including_ocr_text_and_provenance(sign):
    result = pixmo("ask", "--image", sign["image"], "--caption-file", sign["caption"], QUESTION, "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["question"] == QUESTION and record["caption"] == "A shop front with a sign above the door."
    assert "OPEN 24 HOURS" in record["ocr_text"]
    provenance = record["provenance"]
    assert provenance["ocr"]["engine"]["name"] == "tesseract"
    assert provenance["model"]["backend"] == "local-transformers" and provenance["prompt"]["id"] == "qa.answer@v1"
    attempts = provenance["attempts"]
    assert record["attempts"] == len(attempts) and record["answer"] == attempts[provenance["chosen_attempt"] - 1]["text"]
    assert record["needs_review"] is (not record["verdict"]["passed"])
    assert record["verdict"]["reasons"] == [] if record["verdict"]["passed"] else record["verdict"]["reasons"]
    assert {check["name"] for check in record["verdict"]["checks"]} >= {"repeated_ngrams", "cut_off", "invented_words"}


@pytest.mark.parametrize(("question", "fragment"), [
    ("", "the question is empty; write it in quotes after the options"),
    ("   ", "the question is empty; write it in quotes after the options"),
    ("?" * 2001, "the question has 2001 characters, over the limit of 2000"),
])
def test_a_question_that_cannot_be_asked_is_one_sentence_and_exit_2(sign, question, fragment):
    result = pixmo("ask", "--image", sign["image"], question)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == f"pixmo ask: {fragment}.", result.stderr
