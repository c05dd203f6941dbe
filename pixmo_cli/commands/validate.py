"""`pixmo validate RELEASE`: re-read a release and report every problem, one sentence each."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a release's checksums, schema, coordinates, split leakage and counts",
        description="Re-read a release (folder or s3://bucket/prefix) and check it against its manifest.",
    )
    parser.add_argument("release", help="release folder or s3://bucket/prefix")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pixmo_builders.validate import validate_release

    with tqdm(desc="checking files", unit="file", file=sys.stderr) as bar:
        problems = validate_release(release=args.release, on_file=lambda key: bar.update(1))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{args.release}: {len(problems)} problem(s).", file=sys.stderr)
        return 1
    print(f"{args.release}: valid.")
    return 0
