"""The academic benchmarks as a user runs them, each command its own process: `pixmo eval-score`
on predictions made elsewhere (its last line is the score in percent), and `pixmo eval
--checkpoint RUN --benchmark` on a tiny model trained for two steps (RUN/eval/NAME.json and the
summary)."""

import json

import pytest

from tests.pixmo_cli.conftest import pixmo
from tests.training import benchmark_files as files

CASES = {case.name: case for case in files.cases()}


@pytest.mark.parametrize(("name", "layout"), [("vqav2", "tsv"), ("docvqa", "parquet"), ("countbenchqa", "tsv"),
                                              ("mathvista", "parquet")])  # fmt: skip
def test_eval_score_prints_the_hand_computed_percent_last(tmp_path, name, layout):
    case = CASES[name]
    data = files.write_tsv(case, tmp_path) if layout == "tsv" else files.write_parquet(case, tmp_path)
    indexes = files.tsv_indexes(case) if layout == "tsv" else files.parquet_indexes(case)
    predictions = files.write_predictions(case, tmp_path / "preds.jsonl", indexes)
    scored = pixmo("eval-score", "--benchmark", name, "--data", str(data), "--predictions", str(predictions))
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.splitlines()[-1] == f"{case.score:.2f}"  # vqav2 62.50, docvqa 65.00, ...
    if case.within_one is not None:
        assert f"within one {case.within_one:.2f}" in scored.stdout


def test_eval_score_json_and_missing_predictions_counted_wrong_with_a_warning(tmp_path):
    case = CASES["chartqa"]
    data = files.write_tsv(case, tmp_path)
    predictions = tmp_path / "preds.jsonl"
    predictions.write_text('{"index": 1, "prediction": "105"}\n{"index": "3", "prediction": "45%"}\n')
    refused = pixmo(
        "eval-score", "--benchmark", "chartqa", "--data", str(data), "--predictions", str(predictions)
    )
    assert refused.returncode == 2 and "5 of 7 data rows have no prediction" in refused.stderr
    scored = pixmo("eval-score", "--benchmark", "ChartQA", "--data", str(data), "--predictions", str(predictions),
                   "--missing-as-wrong", "--json")  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    assert "warning: 5 of 7 rows have no prediction and count as wrong" in scored.stderr
    result = json.loads(scored.stdout)
    assert result["score"] == pytest.approx(100 * 2 / 7) and result["n"] == 7
    assert result["missing_predictions"] == ["2", "4", "5", "6", "7"]
    assert result["predictions"][0] == {"index": "1", "prompt": "chart_qa: Value of A?", "prediction": "105",
                                        "answers": ["100"], "score": 1.0}  # fmt: skip


def test_eval_asks_a_tiny_checkpoint_and_writes_run_eval(clocks_folder, tmp_path):
    run = tmp_path / "run"
    trained = pixmo("train", "--config", "tiny", "--data", clocks_folder, "--steps", "2", "--out", str(run))
    assert trained.returncode == 0, trained.stderr
    for name in ("ai2d", "pixmo-count"):
        case = CASES[name]
        data = files.write_tsv(case, tmp_path) if name == "ai2d" else files.write_parquet(case, tmp_path)
        asked = pixmo("eval", "--checkpoint", str(run), "--benchmark", name, "--data", str(data), "--limit", "2",
                      "--max-new-tokens", "4")  # fmt: skip
        assert asked.returncode == 0, asked.stderr
    result = json.loads((run / "eval" / "pixmo-count.json").read_text())
    assert result["n"] == 2 and result["limit"] == 2 and result["metric"] == "counting accuracy"
    assert [p["prompt"] for p in result["predictions"]] == ["point_count: How many cats are there?",
                                                            "point_count: How many cups are there?"]  # fmt: skip
    assert all(isinstance(p["prediction"], str) for p in result["predictions"]) and "within_one" in result
    assert result["prompt_templates"] == {"question": "point_count: {question}"}
    summary = json.loads((run / "eval" / "summary.json").read_text())
    assert [b["benchmark"] for b in summary["benchmarks"]] == ["ai2d", "pixmo-count"]
    assert summary["average"] == pytest.approx(sum(b["score"] for b in summary["benchmarks"]) / 2)
    assert "| **average** (2 of 11 benchmarks) |" in asked.stdout
    assert (run / "eval" / "summary.md").read_text().startswith("| benchmark | metric | score | n |")
    assert asked.stdout.splitlines()[-1].startswith("PixMo-Count: counting accuracy ")
