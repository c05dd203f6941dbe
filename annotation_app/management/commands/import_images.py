from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotation_app.models import Project, User
from annotation_app.services.images import (
    image_sources_from_folder,
    image_sources_from_s3,
    image_sources_from_url_file,
    images_import,
)


class Command(BaseCommand):
    help = "Import images from a folder, a file of URLs (one per line, or CSV with url,license,topics), or s3://bucket/prefix."

    def add_arguments(self, parser):
        parser.add_argument("source", help="a folder, a .txt/.csv file of URLs, or s3://bucket/prefix")
        parser.add_argument("--project", help="slug of a project to add the images to as work items")
        parser.add_argument("--license", default="", help="licence recorded for every image (folder and S3 sources)")
        parser.add_argument("--user", help="username recorded as the importer")

    def handle(self, *args, source: str, project: str | None, license: str, user: str | None, **options):
        target = self._project(project)
        importer = self._importer(user)
        try:
            sources = list(self._sources(source, license))
        except UnicodeDecodeError:
            raise CommandError(
                f"'{source}' is not a text file of URLs; pass a folder of images, a .txt/.csv file of URLs, "
                "or an s3:// prefix"
            ) from None
        if not sources:
            raise CommandError(f"'{source}' holds no images to import")
        with tqdm(total=len(sources), unit="img", desc="importing", disable=options["verbosity"] == 0) as bar:
            summary = images_import(sources=sources, imported_by=importer, project=target, progress=lambda _: bar.update())
        for name, reason in summary.refused:
            self.stderr.write(f"refused {name}: {reason}")
        self.stdout.write(
            f"imported {len(summary.imported)}, duplicates {len(summary.duplicates)}, refused {len(summary.refused)}"
            + (f"; added to project '{target.slug}'" if target else "")
        )
        if summary.refused:
            raise CommandError(f"{len(summary.refused)} of {len(sources)} files were refused (reasons above)", returncode=1)

    def _project(self, slug: str | None) -> Project | None:
        if not slug:
            return None
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"there is no project with slug '{slug}'")
        return project

    def _importer(self, username: str | None) -> User | None:
        if not username:
            return None
        importer = User.objects.filter(username=username).first()
        if importer is None:
            raise CommandError(f"there is no user named '{username}'")
        return importer

    def _sources(self, source: str, license: str):
        if source.startswith("s3://"):
            return image_sources_from_s3(uri=source, license=license)
        path = Path(source)
        if path.is_dir():
            return image_sources_from_folder(root=path, license=license)
        if path.is_file():
            return image_sources_from_url_file(path=path)
        raise CommandError(f"'{source}' is neither a folder, a file of URLs, nor an s3:// prefix")
