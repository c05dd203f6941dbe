from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotation_app.errors import ServiceError
from annotation_app.selectors.export import ExportFilters
from annotation_app.services.releases import EXPORTABLE, release_export, release_request


class Command(BaseCommand):
    help = "Export accepted annotations as a PixMo release (parquet + tar shards + manifest + card). Run it again with the same name to resume."

    def add_arguments(self, parser):
        parser.add_argument("name", help="release name (made a slug); reusing an unfinished one resumes it")
        parser.add_argument("--datasets", nargs="+", default=["pixmo-cap"], choices=list(EXPORTABLE))
        parser.add_argument("--out", help="folder or s3://bucket/prefix (default: PIXMO_RELEASES_URI/NAME)")
        parser.add_argument("--projects", nargs="*", default=[], help="project slugs (default: all)")
        parser.add_argument("--annotators", nargs="*", default=[], help="usernames (default: all)")
        parser.add_argument("--since", help="ISO date: only work created on or after it")
        parser.add_argument("--until", help="ISO date: only work created before it")
        parser.add_argument("--include-unreviewed", action="store_true",
                            help="also export work no reviewer accepted (recorded in the release)")

    def handle(self, *args, name, datasets, out, projects, annotators, since, until, include_unreviewed, **options):
        filters = ExportFilters(projects=tuple(projects), annotators=tuple(annotators), since=_date(since),
                                until=_date(until), accepted_only=not include_unreviewed)
        try:
            requested = release_request(name=name, datasets=datasets, filters=filters, uri=out)
        except ServiceError as error:
            raise CommandError(str(error)) from None
        release = requested.release
        if requested.resumed:
            self.stdout.write(f"resuming release '{release.name}' at {release.uri}")
        bars: dict[str, tqdm] = {}

        def progress(dataset, state):
            bar = bars.setdefault(dataset, tqdm(desc=dataset, unit="row", disable=options["verbosity"] == 0))
            bar.n = state.rows_seen
            bar.set_postfix(written=state.rows_written, resumed=state.rows_already_committed)
            bar.refresh()

        try:
            release = release_export(release=release, on_progress=progress)
        except ServiceError as error:  # a live writer holds it (the dashboard's background export)
            raise CommandError(str(error)) from None
        finally:
            for bar in bars.values():
                bar.close()
        if release.status != "complete":  # a background send took the release over while this ran
            raise CommandError(f"release '{release.name}' is now written by {release.worker or 'a worker'} "
                               f"(status {release.status}); this run stopped and left it to that writer")
        for dataset, counts in release.counts.items():
            split_counts = ", ".join(f"{split} {rows:,}" for split, rows in counts.items()) or "no rows"
            self.stdout.write(f"{dataset}: {split_counts}")
        self.stdout.write(f"release '{release.name}' complete at {release.uri}")


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"'{value}' is not an ISO date such as 2026-11-27") from None
    from django.utils import timezone

    return parsed if parsed.tzinfo else timezone.make_aware(parsed)
