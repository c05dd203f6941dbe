"""Dataset releases: accepted rows → pixmo_builders → parquet + shards + manifest + card.

An export runs as a background task. It is resumable: a crashed export run again on the same
release continues where it stopped (the writer skips committed rows and finished datasets), and
the sweeper sends again a background export whose writer died (`release_runs`). Each
dataset's manifest is written last in its folder, and the release's index (`manifest.json` at
the release root, `pixmo_builders.manifest`) after all of them: a release is complete exactly
when its index exists.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from annotation_app.errors import Conflict, PermissionDenied, ServiceError
from annotation_app.models import DatasetRelease, ModelProvenance, Project, ProjectKind, User
from annotation_app.models.releases import ReleaseStatus
from annotation_app.selectors import export as sources
from annotation_app.services.audit import audit_log
from annotation_app.services.release_runs import (
    ExportSuperseded,
    release_export_queue,
    release_export_take,
    release_send_reason,
)
from pixmo_builders.builders import explanations, points, text
from pixmo_builders.manifest import (
    MANIFEST_KEY,
    ProvenanceEntry,
    ReleaseInfo,
    ReleaseNotFound,
    load_manifest,
    load_release_index,
    release_index_write,
)
from pixmo_builders.schemas import ANNOTATION_DATASETS
from pixmo_builders.split import SplitPolicy
from pixmo_builders.storage import open_storage
from pixmo_builders.validate import validate_release
from pixmo_builders.writer import ExportRow, ReleaseWriter, WriteProgress

logger = logging.getLogger("pixmo.releases")

# Each dataset's rows from the filtered sources; the sources add to `touched` the (column,
# ModelProvenance id) pairs behind the rows they yield, which the data card then lists.
BUILDERS: dict[str, Callable[[sources.ExportFilters, sources.Touched], Iterator[ExportRow]]] = {
    "pixmo-cap": lambda f, t: text.build_cap_rows(sources.caption_sources(f, t)),
    "pixmo-points": lambda f, t: points.build_points_rows(sources.point_sources(f, t)),
    "pixmo-points-eval": lambda f, t: points.build_points_eval_rows(sources.points_eval_sources(f, t)),
    "pixmo-count": lambda f, t: points.build_count_rows(sources.count_sources(f, t)),
    "pixmo-ask-model-anything": lambda f, t: text.build_ask_model_anything_rows(sources.ask_sources(f, t)),
    "pixmo-cap-qa": lambda f, t: text.build_cap_qa_rows(sources.capqa_sources(f, t)),
    "pixmo-point-explanations": lambda f, t: explanations.build_point_explanations_rows(
        sources.point_explanation_sources(f, t)),
}
# The exportable datasets come from pixmo_builders' registry, in its order (a test checks that
# every registry dataset collected on the platform has a builder here).
EXPORTABLE: dict[str, Callable[[sources.ExportFilters, sources.Touched], Iterator[ExportRow]]] = {
    name: BUILDERS[name] for name in ANNOTATION_DATASETS
}


@dataclass(frozen=True)
class ReleaseRequest:
    release: DatasetRelease
    resumed: bool  # an unfinished release of the same name and content carries on
    running: bool = False  # ... and a live writer is on it now: nothing was sent


def release_name(*, name: str) -> str:
    """The one naming rule: a release is named by the slug of what was typed ("PixMo Cap Nov" → "pixmo-cap-nov")."""
    slug = slugify(name or "")
    if not slug:
        raise ServiceError("a release needs a name of letters, digits or dashes")
    return slug


@transaction.atomic
def release_request(*, name: str, datasets: list[str], filters: sources.ExportFilters, actor: User | None = None,
                    uri: str | None = None, in_background: bool = False) -> ReleaseRequest:
    """The one way to ask for a release, for the dashboard, `pixmo export` and the command.

    A new name creates the row. The same name as an unfinished release with the same datasets and
    filters resumes it (the writer skips committed rows); anything else under a taken name is a
    Conflict. `in_background` sends the export to a worker after commit (for an unfinished one:
    only when it failed or is stuck; a live writer is left to finish, and `running` says so);
    otherwise the caller runs `release_export` itself.
    """
    if actor is not None and not actor.is_pixmo_admin:
        raise PermissionDenied("only admins cut releases")
    slug = release_name(name=name)
    chosen = _datasets(datasets)
    _refuse_evaluation_projects(filters)
    existing = DatasetRelease.objects.select_for_update().filter(name=slug).first()
    if existing is not None:
        release = _resumable(existing, chosen, filters)
        if in_background:
            if release_send_reason(release) is not None:
                release_export_queue(release_id=release.pk, resend=bool(release.task_id))
                release.refresh_from_db()
                return ReleaseRequest(release=release, resumed=True)
            return ReleaseRequest(release=release, resumed=True, running=True)
        return ReleaseRequest(release=release, resumed=True)
    release = DatasetRelease.objects.create(
        name=slug, datasets=list(chosen), filters=filters.as_dict(), created_by=actor,
        uri=uri or release_uri(name=slug),
    )
    audit_log(actor=actor, action="release.create", target=release, datasets=release.datasets)
    if in_background:
        release_export_queue(release_id=release.pk)
        release.refresh_from_db()
    return ReleaseRequest(release=release, resumed=False)


def _refuse_evaluation_projects(filters: sources.ExportFilters) -> None:
    """Answers written by models (side-by-side comparison projects, the arena) are evaluation
    data only: no dataset reads them, and a release that names such a project is refused."""
    named = Project.objects.filter(slug__in=filters.projects, kind=ProjectKind.COMPARE).values_list("slug", flat=True)
    if evaluation := sorted(named):
        raise ServiceError(
            f"project{'s' if len(evaluation) > 1 else ''} {', '.join(repr(s) for s in evaluation)} "
            f"{'are' if len(evaluation) > 1 else 'is a'} side-by-side comparison project{'s' if len(evaluation) > 1 else ''}: "
            "their answers were written by models and are evaluation data only; they never enter a training release")


def release_uri(*, name: str) -> str:
    return f"{settings.PIXMO_RELEASES_URI.rstrip('/')}/{name}"


def _datasets(datasets: list[str]) -> tuple[str, ...]:
    unknown = sorted(set(datasets) - set(EXPORTABLE))
    if not datasets or unknown:
        raise ServiceError(f"choose datasets among {', '.join(EXPORTABLE)}" +
                           (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return tuple(name for name in EXPORTABLE if name in set(datasets))


def _resumable(release: DatasetRelease, datasets: tuple[str, ...], filters: sources.ExportFilters) -> DatasetRelease:
    if release.status == ReleaseStatus.COMPLETE:
        raise Conflict(f"a release named '{release.name}' is already complete at {release.uri}")
    if tuple(release.datasets) != datasets or release.filters != filters.as_dict():
        raise Conflict(f"a release named '{release.name}' already exists with other datasets or filters; "
                       "choose another name")
    return release


def release_export_run(*, release: DatasetRelease, task_id: str) -> DatasetRelease:
    """The background export, under the task id it was sent with: nothing to do for a complete
    release or one a newer send owns; one log line with its timing."""
    started = time.perf_counter()
    release = release_export(release=release, task_id=task_id)
    logger.info("export release=%s status=%s datasets=%s counts=%s total=%sms", release.name, release.status,
                release.datasets, release.counts, round((time.perf_counter() - started) * 1000, 1))
    return release


def release_export(*, release: DatasetRelease, on_progress: Callable[[str, WriteProgress], None] | None = None,
                   task_id: str | None = None) -> DatasetRelease:
    """Write every dataset of the release; safe to run again after a crash (it resumes).

    `task_id`: the background send this run answers (None: a foreground run, which refuses a
    release a live writer is building). Only the writer that holds the row marks it."""
    run = release_export_take(release=release, task_id=task_id)
    if run is None:
        return DatasetRelease.objects.get(pk=release.pk)
    filters = _filters(release.filters)
    mine = DatasetRelease.objects.filter(pk=release.pk, task_id=run.task_id)
    manifests, counts = {}, {}
    with run:
        try:
            for index, dataset in enumerate(release.datasets):
                manifests[dataset] = _export_one(release, dataset, filters, index, on_progress, run)
                counts[dataset] = {split: info["rows"] for split, info in manifests[dataset]["splits"].items()}
            run.check()
            stored = _write_index(release, manifests)
            # The same check as `pixmo validate URI`: every dataset and the index over them.
            problems = validate_release(release=release.uri)
        except ExportSuperseded as superseded:
            logger.warning("release.superseded release=%s: %s", release.name, superseded)
            return DatasetRelease.objects.get(pk=release.pk)
        except Exception as error:
            mine.update(status=ReleaseStatus.FAILED, error=f"{type(error).__name__}: {error}")
            raise
    validation = {"ok": not problems, "problems": problems}
    if not mine.update(status=ReleaseStatus.COMPLETE, progress=1.0, manifest=stored, counts=counts,
                       validation=validation, finished_at=timezone.now()):
        logger.warning("release.superseded release=%s: another writer holds it at the end", release.name)
        return DatasetRelease.objects.get(pk=release.pk)
    release.refresh_from_db()
    audit_log(actor=None, action="release.complete", target=release, counts=counts)
    return release


def _write_index(release: DatasetRelease, manifests: dict) -> dict:
    """The release index over the finished datasets (kept if an earlier run wrote it), and the
    copy the row stores: the index, each dataset's manifest, and every file with its checksum."""
    try:
        index = load_release_index(release=release.uri)
    except ReleaseNotFound:
        index = release_index_write(release=release.uri, name=release.name, datasets=list(release.datasets),
                                    filters=release.filters)
    if list(index["datasets"]) != list(release.datasets):
        raise ServiceError(f"{release.uri} already holds a release of {', '.join(index['datasets'])}")
    raw = open_storage(location=release.uri).read_bytes(key=MANIFEST_KEY)
    files = {MANIFEST_KEY: {"kind": "index", "sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)},
             **index["files"]}
    return {"index": {key: value for key, value in index.items() if key != "files"}, "datasets": manifests,
            "files": files}


def _export_one(release, dataset, filters, index, on_progress, run) -> dict:
    location = f"{release.uri.rstrip('/')}/{dataset}"
    try:
        return load_manifest(release=location)  # finished in an earlier run
    except ReleaseNotFound:
        pass
    holdout = sources.eval_holdout_sha256()
    policy = SplitPolicy(heldout_image_sha256=holdout if dataset != "pixmo-points-eval" else frozenset(),
                         fixed_split="test" if dataset == "pixmo-points-eval" else None)
    info = ReleaseInfo(dataset=dataset, filters=release.filters, accepted_only=filters.accepted_only,
                       audio_receipts_kept=dataset == "pixmo-cap")
    share = 1.0 / len(release.datasets)

    def progress(state: WriteProgress) -> None:
        run.check()
        DatasetRelease.objects.filter(pk=release.pk, task_id=run.task_id).update(
            progress=min(0.99, share * (index + 0.5)))
        if on_progress:
            on_progress(dataset, state)

    writer = ReleaseWriter(location=location, info=info, split_policy=policy, on_progress=progress)
    touched: sources.Touched = set()
    with writer:
        for row in EXPORTABLE[dataset](filters, touched):
            writer.add(row)
        # A resumed export streams every row again, so `touched` covers the whole release.
        writer.info = replace(writer.info, provenance=_provenance(dataset, touched))
        run.check()
        manifest = writer.finish()
    DatasetRelease.objects.filter(pk=release.pk, task_id=run.task_id).update(progress=share * (index + 1))
    return manifest


def _provenance(dataset: str, touched: sources.Touched) -> tuple[ProvenanceEntry, ...]:
    """The models and prompt versions behind the exported rows only, one entry per column and model."""
    stored = ModelProvenance.objects.in_bulk({provenance_id for _, provenance_id in touched})
    entries = set()
    for column, provenance_id in touched:
        row = stored[provenance_id]
        step = "asr" if row.kind == "asr" else f"{dataset}-{column}"
        entries.add(ProvenanceEntry(field=column, step=step, model=row.model_name, revision=row.model_revision,
                                    prompt_id=row.prompt_id, prompt_sha256=row.prompt_hash))
    return tuple(sorted(entries, key=lambda entry: (entry.field, entry.model, entry.prompt_id, entry.revision)))


def _filters(raw: dict) -> sources.ExportFilters:
    return sources.ExportFilters(
        projects=tuple(raw.get("projects") or ()), annotators=tuple(raw.get("annotators") or ()),
        since=datetime.fromisoformat(raw["since"]) if raw.get("since") else None,
        until=datetime.fromisoformat(raw["until"]) if raw.get("until") else None,
        accepted_only=raw.get("accepted_only", True),
    )


