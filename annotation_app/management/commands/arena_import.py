from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotation_app.errors import ServiceError
from annotation_app.models import Project, ProjectKind, User
from annotation_app.services.arena import (
    arena_image_source,
    arena_import,
    arena_read_answers,
    arena_read_prompts,
)


class Command(BaseCommand):
    help = "Fill a side-by-side comparison project with two models' answers to prompts about images."

    def add_arguments(self, parser):
        parser.add_argument("prompts", help="JSON Lines: prompt_id, image (path relative to this file), prompt, category")
        parser.add_argument("--answers-a", required=True, help="JSON Lines: prompt_id, model, answer")
        parser.add_argument("--answers-b", required=True, help="JSON Lines: prompt_id, model, answer")
        parser.add_argument("--project", required=True, help="slug of the comparison project")
        parser.add_argument("--project-name", help="create the project with this name when the slug is new")
        parser.add_argument("--user", help="username recorded as the importer")

    def handle(self, *args, prompts, answers_a, answers_b, project, project_name, user, **options):
        paths = {"prompts": Path(prompts), "--answers-a": Path(answers_a), "--answers-b": Path(answers_b)}
        for what, path in paths.items():
            if not path.is_file():
                raise CommandError(f"{what} {path} is not a file")
        actor = User.objects.filter(username=user).first() if user else None
        if user and actor is None:
            raise CommandError(f"there is no user named '{user}'")
        try:
            prompt_rows = arena_read_prompts(paths["prompts"])
            first = arena_read_answers(paths["--answers-a"], prompts=prompt_rows)
            second = arena_read_answers(paths["--answers-b"], prompts=prompt_rows)
            target = self._project(project, project_name, actor)
            summary = arena_import(project=target, prompts=prompt_rows, answers_a=first, answers_b=second,
                                   image_source=arena_image_source(paths["prompts"]), actor=actor)
        except ServiceError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{summary.added} prompt{'s' if summary.added != 1 else ''} added to '{target.slug}' "
            f"({summary.models[0]} vs {summary.models[1]}), {summary.already_there} already there, "
            f"{summary.images_imported} new image{'s' if summary.images_imported != 1 else ''}")

    def _project(self, slug: str, name: str | None, actor) -> Project:
        project = Project.objects.filter(slug=slug).first()
        if project is None and not name:
            raise CommandError(f"there is no project with slug '{slug}'; pass --name to create a comparison project")
        if project is None:
            project = Project.objects.create(slug=slug, name=name, kind=ProjectKind.COMPARE, created_by=actor)
        return project
