"""`pixmo validate PATH`: re-read a release, or one dataset folder of it, and report every problem.

Exit codes: 0 sound, 1 problems (one sentence each), 2 PATH is not a release or cannot be read.
A folder of datasets with no release index (written before releases had one) is checked dataset
by dataset; `--write-index` then writes its index, so that every other command reads it as a
whole release.
"""

from __future__ import annotations

import argparse
import sys

from pixmo_cli.main import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a release's checksums, schema, coordinates, split leakage and counts",
        description=(
            "Re-read a release (folder or s3://bucket/prefix), or one dataset folder inside it, and check it "
            "against its manifests: every dataset, and the release index over them."
        ),
    )
    parser.add_argument("release", help="release folder or s3://bucket/prefix, or one dataset folder in it")
    parser.add_argument(
        "--write-index",
        action="store_true",
        help="for a folder of datasets with no release index: write the index once every dataset is sound",
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pixmo_builders.manifest import KIND_FOLDER, ReleaseNotFound, ReleaseUnreadable, open_release
    from pixmo_builders.validate import validate_location

    try:
        with tqdm(desc="checking files", unit="file", file=sys.stderr) as bar:
            result = validate_location(location=args.release, on_file=lambda key: bar.update(1))
    except (ReleaseNotFound, ReleaseUnreadable, ValueError) as error:
        raise CommandError(str(error)) from None
    if result.kind == KIND_FOLDER:
        print(f"note: {open_release(location=result.location).describe()}.", file=sys.stderr)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.problems:
        print(f"{args.release}: {len(result.problems)} problem(s).", file=sys.stderr)
        return 1
    what = {"release": "release of", "dataset": "dataset", "folder": "folder of"}[result.kind]
    print(f"{args.release}: valid ({what} {', '.join(result.datasets)}).")
    if args.write_index:
        return _write_index(result=result)
    return 0


def _write_index(*, result) -> int:
    from pixmo_builders.manifest import KIND_FOLDER, MANIFEST_KEY, release_index_write

    if result.kind != KIND_FOLDER:
        already = "has its index" if result.kind == "release" else "is one dataset folder, which needs none"
        print(f"{result.location} {already}; nothing written.")
        return 0
    index = release_index_write(release=result.location, datasets=result.datasets)
    print(f"wrote {result.location}/{MANIFEST_KEY}: the release index of {', '.join(index['datasets'])}.")
    return 0
