"""Predictions -> a benchmark's result: each item scored by its official metric, averaged, with the
per-item predictions kept. Predictions made elsewhere come as JSON lines,
`{"index": <the row's index>, "prediction": "<model text>"}`."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import fmean

from training.benchmarks import metrics
from training.benchmarks.formats import BenchmarkDataError
from training.benchmarks.prompts import Item, index_text, templates
from training.benchmarks.registry import Benchmark


def score_item(item: Item, prediction: str) -> dict:
    """{"score": 0..1, "extracted": what the metric read from the prediction, ...} for one item."""
    if item.scoring == "vqa":
        return {"score": metrics.vqa_accuracy(prediction, item.answers)}
    if item.scoring == "anls":
        return {"score": metrics.anls(prediction, item.answers)}
    if item.scoring == "relaxed":
        return {"score": float(any(metrics.relaxed_correct(prediction, a) for a in item.answers))}
    if item.scoring == "choice":
        chosen = metrics.choice_of(prediction, item.choices)
        return {"score": float(chosen == item.answers[0]), "extracted": chosen}
    if item.scoring == "free_form":
        return {"score": max(metrics.free_form_correct(prediction, a, item.precision) for a in item.answers)}
    if item.scoring == "count":
        exact, near = metrics.count_correct(prediction, int(item.answers[0]))
        return {"score": exact, "within_one": near, "extracted": metrics.count_of(prediction)}
    raise ValueError(f"no scoring {item.scoring!r}")


def score(
    bench: Benchmark, items: list[Item], predictions: dict[str, str], details: dict | None = None
) -> dict:
    """The result of `bench` over `items` (each must have a prediction): the score in percent (the
    mean item score x 100), n, the metric and prompt templates, `details` (where the data and
    answers came from), and last every item's prediction."""
    rows = []
    for item in items:
        prediction = predictions[item.index]
        rows.append({"index": item.index, "prompt": item.prompt, "prediction": prediction,
                     "answers": item.answers, **score_item(item, prediction)})  # fmt: skip
    result = {
        "benchmark": bench.name, "title": bench.title, "metric": bench.metric,
        "score": 100 * fmean(r["score"] for r in rows) if rows else 0.0, "n": len(rows),
        "style": bench.style, "prompt_templates": templates(bench),
    }  # fmt: skip
    if bench.kind == "count":
        result["within_one"] = 100 * fmean(r["within_one"] for r in rows) if rows else 0.0
    return {**result, **(details or {}), "predictions": rows}


def read_predictions(path: str | Path) -> dict[str, str]:
    """index -> prediction from a JSON-lines file; BenchmarkDataError names the line at fault."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise BenchmarkDataError(f"{path} {what}; --predictions takes a JSON-lines file of "
                                 '{"index": ..., "prediction": "..."}')  # fmt: skip
    found: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise BenchmarkDataError(f"{path} is not a UTF-8 text file of JSON lines") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        index, prediction = _prediction_line(path, number, line)
        if index in found:
            raise BenchmarkDataError(f"{path} line {number}: the index {index} has a prediction already")
        found[index] = prediction
    return found


def _prediction_line(path: Path, number: int, line: str) -> tuple[str, str]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict) or "index" not in record or not isinstance(record.get("prediction"), str):
        raise BenchmarkDataError(
            f'{path} line {number} is not {{"index": <the row\'s index>, "prediction": "<model text>"}}'
        )
    return index_text(record["index"]), record["prediction"]


def match_predictions(
    items: list[Item], predictions: dict[str, str], *, missing_as_wrong: bool = False
) -> tuple[dict[str, str], list[str]]:
    """(a prediction for every item, the indexes that had none). A prediction for an index the data
    does not have is an error (the files do not belong together); an item without a prediction is
    an error too, unless `missing_as_wrong`, when it is scored on an empty answer."""
    known = {item.index for item in items}
    unknown = [index for index in predictions if index not in known]
    if unknown:
        raise BenchmarkDataError(
            f"the predictions name {len(unknown)} index(es) the data does not have ({_some(unknown)}); "
            "check that both files are of the same benchmark and split"
        )
    missing = [item.index for item in items if item.index not in predictions]
    if missing and not missing_as_wrong:
        raise BenchmarkDataError(
            f"{len(missing)} of {len(items)} data rows have no prediction ({_some(missing)}); "
            "pass --missing-as-wrong to score them as wrong answers"
        )
    return {**{index: "" for index in missing}, **predictions}, missing


def _some(indexes: list[str], shown: int = 5) -> str:
    more = f", and {len(indexes) - shown} more" if len(indexes) > shown else ""
    return "index " + ", ".join(indexes[:shown]) + more
