"""The arena: two models' answers to the same prompts about images, judged side by side by people.

`arena_import` fills a compare project from three JSON Lines files: the prompts (`prompt_id`,
`image`, `prompt`, optional `category`) and each model's answers (`prompt_id`, `model`,
`answer`), as written by another harness or by `pixmo infer --prompts`. Everything is read and
checked before anything is written — every prompt answered exactly once by each file, one model
per file, two different models, every image decodable — and then the work items and their two
answers land in one transaction. Importing the same files again adds nothing.

Answers written by models are evaluation data only: they live in `CompareItem`, which no
release reads, and a release that names a compare project is refused (services/releases.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from annotation_app.errors import ServiceError
from annotation_app.models import CompareItem, Project, ProjectKind, WorkItem
from annotation_app.services.audit import audit_log
from annotation_app.services.images import ImageSource, image_import_one
from pixmo_formats.arena import ArenaFormatError, ArenaPrompt, read_answers, read_prompts

PROBLEMS_SHOWN = 5


@dataclass(frozen=True)
class ArenaAnswers:
    model: str
    answers: dict[str, str]  # prompt_id -> answer


@dataclass
class ArenaImportSummary:
    added: int = 0
    already_there: int = 0
    images_imported: int = 0
    models: tuple[str, str] = ("", "")
    problems: list[str] = field(default_factory=list)


def arena_read_prompts(path: Path) -> list[ArenaPrompt]:
    try:
        prompts, problems = read_prompts(path)
    except ArenaFormatError as error:
        raise ServiceError(str(error)) from None
    _raise(problems)
    if not prompts:
        raise ServiceError(f"{path.name} holds no prompts")
    return prompts


def arena_read_answers(path: Path, *, prompts: list[ArenaPrompt]) -> ArenaAnswers:
    """One model's answers: every prompt answered exactly once, nothing else."""
    wanted = {prompt.prompt_id for prompt in prompts}
    try:
        models, answers, problems = read_answers(path, prompt_ids=wanted)
    except ArenaFormatError as error:
        raise ServiceError(str(error)) from None
    unanswered = sorted(wanted - set(answers))
    if unanswered and not problems:
        problems.append(f"{path.name} answers no prompt with id {', '.join(repr(p) for p in unanswered[:PROBLEMS_SHOWN])}"
                        + (f" and {len(unanswered) - PROBLEMS_SHOWN} more" if len(unanswered) > PROBLEMS_SHOWN else ""))
    if len(models) > 1:
        problems.append(f"{path.name} names {len(models)} models ({', '.join(sorted(models))}); one file holds one "
                        "model's answers")
    _raise(problems)
    return ArenaAnswers(model=models.pop(), answers=answers)


def arena_import(
    *, project: Project, prompts: list[ArenaPrompt], answers_a: ArenaAnswers, answers_b: ArenaAnswers,
    image_source: Callable[[ArenaPrompt], ImageSource], actor=None,
) -> ArenaImportSummary:
    """Add a work item with both answers for each prompt; all or nothing for the work items."""
    if project.kind != ProjectKind.COMPARE:
        raise ServiceError(f"project '{project.slug}' is a {project.get_kind_display()} project; arena answers go "
                           "into a side-by-side comparison project")
    if answers_a.model == answers_b.model:
        raise ServiceError(f"both answer files are from the model '{answers_a.model}'; compare two different models")
    summary = ArenaImportSummary(models=(answers_a.model, answers_b.model))
    # Images first: decoded, hashed and stored by content (an image stored twice is one row), so a
    # refused image stops the import before any work item is written.
    images = {}
    for prompt in prompts:
        try:
            image, created = image_import_one(source=image_source(prompt), imported_by=actor)
        except (OSError, ValueError, ServiceError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            summary.problems.append(f"prompt '{prompt.prompt_id}': image {prompt.image}: {reason}")
            continue
        images[prompt.prompt_id] = image
        summary.images_imported += created
    _raise(summary.problems)
    with transaction.atomic():
        for prompt in prompts:
            image = images[prompt.prompt_id]
            existing = CompareItem.objects.filter(
                work_item__project=project, work_item__image=image, prompt=prompt.prompt,
                model_a=answers_a.model, model_b=answers_b.model).exists()
            if existing:
                summary.already_there += 1
                continue
            variant = WorkItem.objects.filter(project=project, image=image).count()
            item = WorkItem.objects.create(project=project, image=image, variant=variant, open_slots=project.overlap_k)
            CompareItem.objects.create(
                work_item=item, prompt=prompt.prompt, category=prompt.category,
                model_a=answers_a.model, response_a=answers_a.answers[prompt.prompt_id],
                model_b=answers_b.model, response_b=answers_b.answers[prompt.prompt_id],
            )
            summary.added += 1
        audit_log(actor=actor, action="arena.import", target=project, added=summary.added,
                  models=[answers_a.model, answers_b.model])
    return summary


def arena_image_source(prompts_path: Path) -> Callable[[ArenaPrompt], ImageSource]:
    """Images named in a prompts file: a path (relative to the file, or absolute)."""
    def source(prompt: ArenaPrompt) -> ImageSource:
        path = prompt.image_path(prompts_path)
        return ImageSource(name=str(path), load=path.read_bytes)
    return source


def _raise(problems: list[str]) -> None:
    if problems:
        shown = "; ".join(problems[:PROBLEMS_SHOWN])
        more = f" (and {len(problems) - PROBLEMS_SHOWN} more)" if len(problems) > PROBLEMS_SHOWN else ""
        raise ServiceError(f"nothing was imported: {shown}{more}")
