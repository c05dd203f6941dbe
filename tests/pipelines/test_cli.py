"""`pixmo transcribe` and `pixmo refine`, run in-process through the real entry point."""

from __future__ import annotations

import io
import json

from devtools.speech import SCENE_TEXT
from pipelines.metrics import word_error_rate
from pixmo_cli.main import main

MESSY = "um there is a, there are two cats on the the sofa. uh the sofa is red."


def test_transcribe_prints_json_with_flags_and_transcript(scene_webm, transcriber, capsys):
    assert main(["transcribe", str(scene_webm), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["report"]["flags"] == [] and record["report"]["codec"] == "opus"
    assert word_error_rate(reference=SCENE_TEXT, hypothesis=record["transcript"]["text"]) < 0.15


def test_transcribe_reports_an_undecodable_file_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.webm"
    bad.write_bytes(b"not audio" * 50)
    assert main(["transcribe", str(bad)]) == 1
    assert "could not be decoded" in capsys.readouterr().out


def test_transcribe_missing_file_is_a_command_error(tmp_path, capsys):
    assert main(["transcribe", str(tmp_path / "nope.wav")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_refine_reads_a_file_and_prints_a_caption(tmp_path, chat_model, capsys):
    path = tmp_path / "t.txt"
    path.write_text(MESSY)
    assert main(["refine", str(path), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["source"] in {"llm", "cleanup"}
    assert record["cleaned"] == ["There are two cats on the sofa. The sofa is red."]
    assert record["provenance"]["prompt"]["id"] == "refine.sentence@v1"  # the default strategy
    assert record["strategy"] == "sentences"
    assert [edit["source"] for edit in record["sentences"]] == ["There are two cats on the sofa.", "The sofa is red."]


def test_refine_reads_stdin(monkeypatch, chat_model, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(MESSY))
    assert main(["refine"]) == 0
    assert capsys.readouterr().out.strip()


def test_refine_refuses_empty_input(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("   "))
    assert main(["refine", "-"]) == 2
    assert "empty" in capsys.readouterr().err


def test_transcribe_with_a_missing_model_names_the_setting(scene_wav, capsys):
    assert main(["transcribe", str(scene_wav), "--model", "/nonexistent/whisper"]) == 2
    assert "PIXMO_ASR_MODEL" in capsys.readouterr().err
