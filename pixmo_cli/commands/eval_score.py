"""The academic benchmarks' doors: `pixmo eval-score` scores predictions made elsewhere, and
`pixmo eval --checkpoint RUN --benchmark NAME --data PATH` (registered with eval in train.py)
asks a checkpoint, both with the benchmark's official metric (training/benchmarks)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pixmo_cli.main import CommandError
from training.benchmarks.registry import BENCHMARKS

BENCHMARK_HELP = f"one of {', '.join(BENCHMARKS)} (any case)"
DATA_HELP = "the benchmark's VLMEvalKit TSV, or its Hugging Face parquet file or folder (read locally)"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "eval-score",
        help="score predictions made elsewhere on an academic benchmark with its official metric",
    )
    p.add_argument("--benchmark", required=True, help=BENCHMARK_HELP)
    p.add_argument("--data", required=True, metavar="PATH", help=DATA_HELP)
    p.add_argument("--predictions", required=True, metavar="JSONL",
                   help='one {"index": <the row\'s index>, "prediction": "<model text>"} per line')  # fmt: skip
    p.add_argument(
        "--split",
        help="the split to read from a parquet folder holding several "
        "(default: the one the benchmark's published number is on)",
    )
    p.add_argument("--missing-as-wrong", action="store_true",
                   help="score data rows without a prediction as wrong (default: an error)")  # fmt: skip
    p.add_argument(
        "--json", action="store_true", help="print the whole result (per-item predictions too) as JSON"
    )
    p.set_defaults(func=score)


def _items(name: str, data: str, split: str | None):
    """(benchmark, table, items) of --benchmark and --data, or a CommandError sentence."""
    from training.benchmarks.formats import BenchmarkDataError, read_table
    from training.benchmarks.prompts import items
    from training.benchmarks.registry import benchmark

    try:
        bench = benchmark(name)
        table = read_table(data, split or bench.split)
        return bench, table, items(bench, table)
    except (BenchmarkDataError, ValueError) as error:
        raise CommandError(str(error)) from None


def score(args) -> int:
    from training.benchmarks.formats import BenchmarkDataError
    from training.benchmarks.scoring import match_predictions, read_predictions
    from training.benchmarks.scoring import score as run

    bench, table, items = _items(args.benchmark, args.data, args.split)
    try:
        predictions, missing = match_predictions(items, read_predictions(args.predictions),
                                                 missing_as_wrong=args.missing_as_wrong)  # fmt: skip
    except BenchmarkDataError as error:
        raise CommandError(str(error)) from None
    if missing:
        print(f"pixmo eval-score: warning: {len(missing)} of {len(items)} rows have no prediction "
              "and count as wrong.", file=sys.stderr)  # fmt: skip
    result = run(bench, items, predictions, {"data": str(table.source), "missing_predictions": missing})
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(result_line(result))
    print(f"{result['score']:.2f}")
    return 0


def result_line(result: dict) -> str:
    near = f", within one {result['within_one']:.2f}" if "within_one" in result else ""
    return f"{result['title']}: {result['metric']} {result['score']:.2f}{near} over {result['n']} questions"


def evaluate_benchmark(args, load) -> int:
    """`pixmo eval --benchmark`: `load(checkpoint)` gives the Molmo once the data has been read and
    checked; answers go to CHECKPOINT/eval/NAME.json and the summary beside it."""
    from training.benchmarks.formats import BenchmarkDataError
    from training.benchmarks.runner import check_images, generate, summary_table, write_result, write_summary
    from training.benchmarks.scoring import score as run

    bench, table, items = _items(args.benchmark, args.data, args.split)
    items = items[: args.limit] if args.limit else items
    try:
        check_images(items, table.folder, table.source)
        molmo = load(args.checkpoint)
        answers = generate(molmo, items, table.folder, max_new_tokens=args.max_new_tokens, progress=True)
    except BenchmarkDataError as error:
        raise CommandError(str(error)) from None
    details = {"data": str(table.source), "checkpoint": args.checkpoint, "limit": args.limit,
               "max_new_tokens": args.max_new_tokens}  # fmt: skip
    result = run(bench, items, answers, details)
    eval_dir = Path(args.checkpoint) / "eval"
    written = write_result(eval_dir, result)
    summary = write_summary(eval_dir)
    print(summary_table(summary))
    print(f"{result_line(result)}; written to {written}")
    return 0
