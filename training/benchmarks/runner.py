"""Ask a checkpoint a benchmark's questions and keep the results: `RUN/eval/NAME.json` per benchmark
and `RUN/eval/summary.json` / `summary.md`, the table across the benchmarks scored so far with their
average (Molmo's "11-benchmark average" when all eleven are there)."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import fmean

from training.benchmarks.formats import BenchmarkDataError, has_image, image_bytes, open_image
from training.benchmarks.prompts import Item
from training.benchmarks.registry import BENCHMARKS


def check_images(items: list[Item], folder: Path, source: Path) -> None:
    """Before any model loads: every item has an image to show (base64 is decoded only when asked)."""
    for item in items:
        if not has_image(item.image, folder):
            raise BenchmarkDataError(
                f"{source} has no image for the row with index {item.index}; {_IMAGE_WHERE}"
            )


_IMAGE_WHERE = (
    "a VLMEvalKit TSV holds it base64 in the image column, parquet as bytes or an {bytes, path} struct"
)


def generate(
    molmo, items: list[Item], folder: Path, *, max_new_tokens: int, progress: bool = False
) -> dict[str, str]:
    """index -> the greedy answer of `molmo` (training.infer.Molmo) to each item's prompt."""
    answers = {}
    todo = items
    if progress:
        from tqdm import tqdm

        todo = tqdm(items, desc="eval", unit="question")
    for item in todo:
        data = image_bytes(item.image, folder)
        if data is None:
            raise BenchmarkDataError(f"the image of index {item.index} cannot be read; {_IMAGE_WHERE}")
        try:
            image = open_image(data)
        except OSError as error:  # PIL's UnidentifiedImageError is one
            raise BenchmarkDataError(f"the image of index {item.index} is not an image ({error})") from None
        answers[item.index] = molmo.generate(image, item.prompt, max_new_tokens=max_new_tokens)
    return answers


def write_result(eval_dir: Path, result: dict) -> Path:
    eval_dir.mkdir(parents=True, exist_ok=True)
    path = eval_dir / f"{result['benchmark']}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_summary(eval_dir: Path) -> dict:
    """summary.json and summary.md from every RUN/eval/NAME.json of a known benchmark. Other
    results share the folder (`pixmo eval --data RELEASE` writes DATASET.json, and a PixMo-Count
    release is named pixmo-count too): a file that is not a benchmark result is left out."""
    rows = []
    for name in BENCHMARKS:
        result = _benchmark_result(eval_dir / f"{name}.json", name)
        if result is not None:
            row = {k: result.get(k) for k in ("benchmark", "title", "metric", "score", "n", "limit")}
            if "within_one" in result:
                row["within_one"] = result["within_one"]
            rows.append(row)
    summary = {
        "benchmarks": rows,
        "average": fmean(r["score"] for r in rows) if rows else None,
        "of": f"{len(rows)} of {len(BENCHMARKS)} benchmarks",
    }
    (eval_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (eval_dir / "summary.md").write_text(summary_table(summary) + "\n", encoding="utf-8")
    return summary


def _benchmark_result(path: Path, name: str) -> dict | None:
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ours = isinstance(result, dict) and result.get("benchmark") == name
    return result if ours and isinstance(result.get("score"), (int, float)) else None


def summary_table(summary: dict) -> str:
    """The summary as a Markdown table: one row per benchmark, then the average."""
    lines = ["| benchmark | metric | score | n |", "|---|---|---:|---:|"]
    for row in summary["benchmarks"]:
        near = f" (within one {row['within_one']:.1f})" if "within_one" in row else ""
        partial = f" (--limit {row['limit']})" if row.get("limit") else ""
        lines.append(f"| {row['title']} | {row['metric']}{near} | {row['score']:.1f} | {row['n']}{partial} |")
    if summary["average"] is not None:
        lines.append(f"| **average** ({summary['of']}) | | **{summary['average']:.1f}** | |")
    return "\n".join(lines)
