"""Dataset releases: accepted rows → pixmo_builders → parquet + shards + manifest + card.

An export runs as a background task. It is resumable: a crashed export run again on the same
release continues where it stopped (the writer skips committed rows), and a release is complete
only when every dataset's manifest exists — written last by the writer.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotation_app.errors import ServiceError
from annotation_app.models import DatasetRelease, ModelProvenance
from annotation_app.models.releases import ReleaseStatus
from annotation_app.selectors import export as sources
from annotation_app.services.audit import audit_log
from pixmo_builders.builders import explanations, points, text
from pixmo_builders.manifest import ProvenanceEntry, ReleaseInfo
from pixmo_builders.split import SplitPolicy
from pixmo_builders.writer import ExportRow, ReleaseWriter, WriteProgress

logger = logging.getLogger("pixmo.releases")

# Each dataset's rows from the filtered sources; the sources add to `touched` the (column,
# ModelProvenance id) pairs behind the rows they yield, which the data card then lists.
EXPORTABLE: dict[str, Callable[[sources.ExportFilters, sources.Touched], Iterator[ExportRow]]] = {
    "pixmo-cap": lambda f, t: text.build_cap_rows(sources.caption_sources(f, t)),
    "pixmo-points": lambda f, t: points.build_points_rows(sources.point_sources(f, t)),
    "pixmo-points-eval": lambda f, t: points.build_points_eval_rows(sources.points_eval_sources(f, t)),
    "pixmo-count": lambda f, t: points.build_count_rows(sources.count_sources(f, t)),
    "pixmo-ask-model-anything": lambda f, t: text.build_ask_model_anything_rows(sources.ask_sources(f, t)),
    "pixmo-cap-qa": lambda f, t: text.build_cap_qa_rows(sources.capqa_sources(f, t)),
    "pixmo-point-explanations": lambda f, t: explanations.build_point_explanations_rows(
        sources.point_explanation_sources(f, t)),
}


@transaction.atomic
def release_create(*, name: str, datasets: list[str], filters: sources.ExportFilters, actor=None,
                   uri: str | None = None) -> DatasetRelease:
    unknown = sorted(set(datasets) - set(EXPORTABLE))
    if not datasets or unknown:
        raise ServiceError(f"choose datasets from {', '.join(sorted(EXPORTABLE))}" +
                           (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    if DatasetRelease.objects.filter(name=name).exists():
        raise ServiceError(f"a release named '{name}' already exists")
    release = DatasetRelease.objects.create(
        name=name, datasets=list(datasets), filters=filters.as_dict(), created_by=actor,
        uri=uri or f"{settings.PIXMO_RELEASES_URI.rstrip('/')}/{name}",
    )
    audit_log(actor=actor, action="release.create", target=release, datasets=datasets)
    return release


def release_cut(*, release_id: int) -> None:
    """Queue the export as a background task; call it after the release row has committed."""
    from annotation_app.tasks import release_export_task

    release_export_task.delay(release_id=release_id)


def release_export(*, release: DatasetRelease, on_progress: Callable[[str, WriteProgress], None] | None = None) -> DatasetRelease:
    """Write every dataset of the release; safe to run again after a crash (it resumes)."""
    filters = _filters(release.filters)
    DatasetRelease.objects.filter(pk=release.pk).update(status=ReleaseStatus.BUILDING, error="")
    manifests, counts = {}, {}
    try:
        for index, dataset in enumerate(release.datasets):
            manifests[dataset] = _export_one(release, dataset, filters, index, on_progress)
            counts[dataset] = {split: info["rows"] for split, info in manifests[dataset]["splits"].items()}
    except Exception as error:
        DatasetRelease.objects.filter(pk=release.pk).update(status=ReleaseStatus.FAILED, error=f"{type(error).__name__}: {error}")
        raise
    validation = _validate(release, manifests)
    DatasetRelease.objects.filter(pk=release.pk).update(
        status=ReleaseStatus.COMPLETE, progress=1.0, manifest=_combined(manifests), counts=counts, validation=validation,
        finished_at=timezone.now(),
    )
    release.refresh_from_db()
    audit_log(actor=None, action="release.complete", target=release, counts=counts)
    return release


def _combined(manifests: dict) -> dict:
    """Each dataset's manifest, plus one `files` map keyed relative to the release root."""
    files = {}
    for dataset, manifest in manifests.items():
        files[f"{dataset}/manifest.json"] = {"kind": "manifest"}
        files.update({f"{dataset}/{key}": entry for key, entry in manifest.get("files", {}).items()})
    return {"datasets": manifests, "files": files}


def _validate(release: DatasetRelease, manifests: dict) -> dict:
    """Re-read every written dataset: checksums, schema, ranges, split leakage, counts."""
    from pixmo_builders.validate import validate_release

    problems = []
    for dataset in manifests:
        problems += [f"{dataset}: {p}" for p in validate_release(release=f"{release.uri.rstrip('/')}/{dataset}")]
    return {"ok": not problems, "problems": problems}


def _export_one(release, dataset, filters, index, on_progress) -> dict:
    from pixmo_builders.manifest import ReleaseNotFound, load_manifest

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
        DatasetRelease.objects.filter(pk=release.pk).update(progress=min(0.99, share * (index + 0.5)))
        if on_progress:
            on_progress(dataset, state)

    writer = ReleaseWriter(location=location, info=info, split_policy=policy, on_progress=progress)
    touched: sources.Touched = set()
    with writer:
        for row in EXPORTABLE[dataset](filters, touched):
            writer.add(row)
        # A resumed export streams every row again, so `touched` covers the whole release.
        writer.info = replace(writer.info, provenance=_provenance(dataset, touched))
        manifest = writer.finish()
    DatasetRelease.objects.filter(pk=release.pk).update(progress=share * (index + 1))
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


