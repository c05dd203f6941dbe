"""Platform commands that need the database: image import, demo seed, lease sweep."""

import argparse
import sys
from pathlib import Path

from pixmo_cli.django_setup import database_errors_as_sentences, setup_django


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-images",
        help="import images from a folder, a file of URLs, or s3://bucket/prefix",
        description="Verify, EXIF-orient, hash and dedupe images; optionally add them to a project.",
    )
    parser.add_argument("source", help="a folder, a .txt/.csv file of URLs, or s3://bucket/prefix")
    parser.add_argument("--project", help="slug of a project to add the images to")
    parser.add_argument("--license", default="", help="licence recorded for every image")
    parser.add_argument("--user", help="username recorded as the importer")
    parser.set_defaults(func=_import_images)

    seed = subparsers.add_parser("seed-demo", help="create demo users, a project of each kind and demo images")
    seed.set_defaults(func=_seed_demo)

    export = subparsers.add_parser(
        "export", help="export accepted annotations as a PixMo release (folder or s3://)",
        description="Write parquet + tar shards + manifest + data card; run again with the same name to resume.",
    )
    export.add_argument("name", help="release name; reusing an unfinished one resumes it")
    export.add_argument("--datasets", nargs="+", default=["pixmo-cap"])
    export.add_argument("--out", help="folder or s3://bucket/prefix (default: PIXMO_RELEASES_URI/NAME)")
    export.add_argument("--projects", nargs="*", default=[])
    export.add_argument("--annotators", nargs="*", default=[])
    export.add_argument("--since")
    export.add_argument("--until")
    export.add_argument("--include-unreviewed", action="store_true")
    export.set_defaults(func=_export)

    expire = subparsers.add_parser("expire-leases", help="return expired assignments to the pool now")
    expire.set_defaults(func=_expire_leases)


def _call(name: str, *args, **options) -> int:
    setup_django()
    from django.core.management import call_command
    from django.core.management.base import CommandError as DjangoCommandError

    from pixmo_cli.main import CommandError, sentence

    try:
        with database_errors_as_sentences():
            call_command(name, *args, **options)
    except DjangoCommandError as error:
        if getattr(error, "returncode", 1) == 1 and "refused" in str(error):
            print(f"pixmo {name.replace('_', '-')}: {sentence(error)}", file=sys.stderr)
            return 1
        raise CommandError(str(error)) from None
    return 0


def _import_images(args: argparse.Namespace) -> int:
    options = {"license": args.license, "project": args.project, "user": args.user}
    return _call("import_images", args.source, **options)


def _export(args: argparse.Namespace) -> int:
    from pixmo_cli.main import CommandError

    if args.out and not args.out.startswith("s3://") and Path(args.out).is_file():
        raise CommandError(f"--out {args.out} is a file; name a folder for the release (or an s3:// prefix)")
    options = {"datasets": args.datasets, "out": args.out, "projects": args.projects, "annotators": args.annotators,
               "since": args.since, "until": args.until, "include_unreviewed": args.include_unreviewed}
    return _call("export_release", args.name, **options)


def _seed_demo(args: argparse.Namespace) -> int:
    return _call("seed_demo")


def _expire_leases(args: argparse.Namespace) -> int:
    setup_django()
    from annotation_app.services.assignments import assignments_expire

    with database_errors_as_sentences():
        returned = assignments_expire()
    print(f"returned {returned} expired assignments to the pool")
    return 0
