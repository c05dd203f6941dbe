"""The evaluation page: what `pixmo eval` wrote for each training run under PIXMO_RUNS_DIR.

A run folder (as `pixmo train --out` writes it) keeps its results in `eval/` (or `model/eval/`
when the model folder was evaluated): one `NAME.json` per academic benchmark (`score` in percent,
`metric`, `title`, `n`) and one `DATASET.json` per PixMo evaluation (pointing precision / recall /
F1, counting, clock reading, caption length and fact density). Nothing is re-run here; a file
that cannot be read is named on the page, not hidden.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# Molmo's published results (Deitke et al., 2024): the 11-benchmark average and PixMo pointing F1.
# Shown for reference, labelled as published, never as re-run here.
PUBLISHED = (
    {"model": "MolmoE-1B", "average": 68.6, "pointing_f1": None},
    {"model": "Molmo-7B-O", "average": 74.6, "pointing_f1": None},
    {"model": "Molmo-7B-D", "average": 77.3, "pointing_f1": 74.3},
    {"model": "Molmo-72B", "average": 81.2, "pointing_f1": None},
)
# The PixMo numbers shown per run, as (key in the result, label, scale to percent).
PIXMO_MEASURES = (
    ("f1", "pointing F1", 100), ("precision", "pointing precision", 100), ("recall", "pointing recall", 100),
    ("count_exact", "counting exact", 100), ("count_within_one", "counting within one", 100),
    ("clock_exact", "clock exact", 100), ("clock_hour_within_one", "clock hour within one", 100),
    ("clock_minute_within_one", "clock minute within one", 100), ("exact_match", "exact match", 100),
)
BENCHMARK_COUNT = 11  # Molmo's average is over these eleven


@dataclass
class RunResults:
    name: str
    folder: str
    updated: datetime
    benchmarks: dict[str, dict] = field(default_factory=dict)  # benchmark name -> its result
    pixmo: list[dict] = field(default_factory=list)  # {"dataset", "split", "measures": [(label, value)], "n"}
    unreadable: list[str] = field(default_factory=list)

    @property
    def average(self) -> float | None:
        scores = [row["score"] for row in self.benchmarks.values()]
        return sum(scores) / len(scores) if scores else None


def evaluation_page(*, runs_dir: str) -> dict:
    root = Path(runs_dir)
    runs = [run for folder in sorted(root.iterdir()) if folder.is_dir() and (run := _run(folder))] if root.is_dir() else []
    names = sorted({name for run in runs for name in run.benchmarks})
    titles = {name: next(run.benchmarks[name].get("title") or name for run in runs if name in run.benchmarks)
              for name in names}
    table = [{"run": run, "scores": [run.benchmarks.get(name) for name in names]} for run in runs]
    return {"runs_dir": str(root), "runs": runs, "benchmark_names": names, "benchmark_titles": [titles[n] for n in names],
            "table": table, "published": PUBLISHED, "benchmark_count": BENCHMARK_COUNT}


def _run(folder: Path) -> RunResults | None:
    eval_dirs = [path for path in (folder / "eval", folder / "model" / "eval") if path.is_dir()]
    files = sorted(path for eval_dir in eval_dirs for path in eval_dir.glob("*.json") if not path.name.startswith("summary"))
    if not files:
        return None
    run = RunResults(name=folder.name, folder=str(folder),
                     updated=datetime.fromtimestamp(max(path.stat().st_mtime for path in files), tz=UTC))
    for path in files:
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            run.unreadable.append(path.name)
            continue
        if isinstance(result, dict) and isinstance(result.get("score"), int | float) and result.get("benchmark"):
            run.benchmarks[str(result["benchmark"])] = result
        elif isinstance(result, dict) and result.get("dataset"):
            run.pixmo.append(_pixmo_row(result))
        else:
            run.unreadable.append(path.name)
    return run


def _pixmo_row(result: dict) -> dict:
    measures = [(label, round(result[key] * scale, 1)) for key, label, scale in PIXMO_MEASURES
                if isinstance(result.get(key), int | float)]
    caption = result.get("caption_length")
    if isinstance(caption, dict):
        measures += [("words per caption", round(caption.get("words_mean", 0.0), 1)),
                     ("content words per caption", round(caption.get("content_words_mean", 0.0), 1)),
                     ("fact density per 100 words", round(caption.get("fact_density", 0.0), 1))]
    n = result.get("n_pointing") or result.get("n") or result.get("n_clock") or result.get("n_exact") or (
        caption.get("n") if isinstance(caption, dict) else None)
    return {"dataset": result["dataset"], "split": result.get("split", ""), "measures": measures, "n": n,
            "limit": result.get("limit")}
