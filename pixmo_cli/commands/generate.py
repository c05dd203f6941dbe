"""`pixmo generate docs|clocks --n N --out RELEASE`: write a synthetic dataset as a release."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pixmo_cli.main import CommandError

MAX_N = 10_000_000
MIN_CLOCK_SIZE_PX = 32  # the clock renderer's smallest face


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate a synthetic dataset (pixmo-docs, pixmo-clocks) as a release",
        description="Generate synthetic PixMo data and write it as a complete release (folder or s3://).",
    )
    parser.add_argument("kind", choices=("docs", "clocks"))
    parser.add_argument("--n", type=int, required=True, help="number of examples (docs: attempts)")
    parser.add_argument("--out", required=True, help="release folder or s3://bucket/prefix")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=384, help="clock image side in pixels")
    parser.add_argument("--shard-samples", type=int, default=1000, help="samples per tar shard")
    parser.add_argument("--validation-fraction", type=float, default=None)
    parser.add_argument(
        "--llm",
        default=None,
        help="docs: sets PIXMO_LLM_MODEL (default: the PIXMO_LLM_* settings, i.e. the bundled model)",
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    _check_flags(args)
    if args.kind == "clocks":
        return _clocks(args=args)
    return _docs(args=args)


def _check_flags(args: argparse.Namespace) -> None:
    """The numbers and the output, in the flags' own names, before any progress bar or folder."""
    from pixmo_builders.clocks import MAX_SIZE_PX

    if not 1 <= args.n <= MAX_N:
        raise CommandError(f"--n must be between 1 and {MAX_N:,}, got {args.n}.")
    if args.kind == "clocks" and not MIN_CLOCK_SIZE_PX <= args.size <= MAX_SIZE_PX:
        raise CommandError(f"--size must be between {MIN_CLOCK_SIZE_PX} and {MAX_SIZE_PX} px, got {args.size}.")
    if args.shard_samples < 1:
        raise CommandError(f"--shard-samples must be at least 1, got {args.shard_samples}.")
    if args.validation_fraction is not None and not 0 <= args.validation_fraction < 1:
        raise CommandError(f"--validation-fraction must be at least 0 and below 1, got {args.validation_fraction}.")
    if not args.out.startswith("s3://"):
        _check_out_folder(Path(args.out))


def _check_out_folder(out: Path) -> None:
    if out.is_file():
        raise CommandError(f"--out {out} is a file; name a folder for the release (or an s3:// prefix).")
    above = next((p for p in out.parents if p.exists()), Path("."))
    if not above.is_dir():
        raise CommandError(f"--out {out} cannot be created: {above} is a file.")


def _progress_bar(*, total: int, unit: str):
    from tqdm import tqdm

    bar = tqdm(total=total, unit=unit, file=sys.stderr)

    def update(progress) -> None:
        bar.n = progress.rows_seen
        bar.set_postfix(files=progress.files_committed, refresh=False)
        bar.refresh()
        if progress.finished:
            bar.close()

    return update


def _clocks(*, args: argparse.Namespace) -> int:
    from pixmo_builders.clocks import write_clocks_release

    try:
        manifest = write_clocks_release(
            n=args.n,
            location=args.out,
            seed=args.seed,
            size=args.size,
            validation_fraction=0.03 if args.validation_fraction is None else args.validation_fraction,
            shard_max_samples=args.shard_samples,
            on_progress=_progress_bar(total=args.n, unit="clock"),
        )
    except (ValueError, FileExistsError) as error:
        raise CommandError(str(error)) from None
    _print_counts(manifest=manifest, out=args.out)
    return 0


def _docs(*, args: argparse.Namespace) -> int:
    import json
    import os

    from pipelines.errors import ModelNotFoundError, SettingError
    from pixmo_builders.docs.chat import default_text_chat
    from pixmo_builders.docs.release import write_docs_release
    from pixmo_builders.docs.renderers import missing_renderers

    for missing in missing_renderers():
        print(f"note: renderer skipped here: {missing}", file=sys.stderr)
    if args.llm:
        os.environ["PIXMO_LLM_MODEL"] = args.llm
    try:
        chat = default_text_chat()
        manifest, stats = write_docs_release(
            chat=chat,
            n=args.n,
            location=args.out,
            seed=args.seed,
            validation_fraction=0.05 if args.validation_fraction is None else args.validation_fraction,
            shard_max_samples=args.shard_samples,
            on_attempt=_attempt_bar(total=args.n),
        )
    except (ValueError, FileExistsError, ModelNotFoundError, SettingError) as error:
        raise CommandError(str(error)) from None
    _print_counts(manifest=manifest, out=args.out)
    if stats.replayed:
        print(f"resumed: {stats.replayed} attempts replayed from the journal without the model")
    print(f"yield: {json.dumps(stats.summary())}")
    return 0


def _attempt_bar(*, total: int):
    from tqdm import tqdm

    bar = tqdm(total=total, unit="doc", file=sys.stderr)

    def update(stats) -> None:
        bar.n = stats.attempts
        bar.set_postfix(rendered=stats.rendered, llm_code=stats.code_from_llm, refresh=False)
        bar.refresh()
        if stats.attempts >= total:
            bar.close()

    return update


def _print_counts(*, manifest: dict, out: str) -> None:
    counts = ", ".join(f"{name} {split['rows']}" for name, split in manifest["splits"].items())
    print(f"wrote {manifest['dataset']} to {out}: {counts}.")
