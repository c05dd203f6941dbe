"""Accepted rows as plain builder sources, streamed with server-side cursors (no ORM object leaves).

Each generator orders by image hash, then (for points) label, then primary key, over a fixed
filter: a resumed export sees the same stream, all rows of one image arrive together (one shard
sample per image, and every answer for an (image, label) is merged however far apart the answers
were made), and the writer's dedupe sees repeats.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from annotation_app.models import (
    AskThread,
    AskTurn,
    CapQADialogue,
    Caption,
    CaptionVersion,
    Image,
    PointSet,
    ReviewStatus,
    Transcript,
)
from annotation_app.models.captions import CaptionSource as CaptionVersionSource
from pixmo_builders.builders.sources import (
    CountSource,
    DialogueSource,
    ImageCaptionSource,
    PointExplanationSource,
    PointSetSource,
    PointsEvalSource,
    QuestionAnswerSource,
)

CHUNK = 500
# (released column, ModelProvenance id) pairs: which stored model outputs the streamed rows carry.
Touched = set[tuple[str, int]]


@dataclass(frozen=True)
class ExportFilters:
    projects: tuple[str, ...] = ()  # slugs; empty: all
    annotators: tuple[str, ...] = ()  # usernames; empty: all
    since: datetime | None = None
    until: datetime | None = None
    accepted_only: bool = True

    def as_dict(self) -> dict:
        return {
            "projects": list(self.projects), "annotators": list(self.annotators),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "accepted_only": self.accepted_only,
        }


def _filtered(queryset: QuerySet, filters: ExportFilters, *, item: str, annotator: str, reviewed: bool = True,
              then: tuple[str, ...] = (), work: str = "") -> QuerySet:
    """`work` is the path to the reviewed piece of work whose date and review the filters read
    ("" when it is the row itself; CapQA dialogues are filtered by their caption)."""
    if filters.projects:
        queryset = queryset.filter(**{f"{item}__project__slug__in": filters.projects})
    if filters.annotators:
        queryset = queryset.filter(**{f"{annotator}__username__in": filters.annotators})
    if filters.since:
        queryset = queryset.filter(**{f"{work}created_at__gte": filters.since})
    if filters.until:
        queryset = queryset.filter(**{f"{work}created_at__lt": filters.until})
    if filters.accepted_only and reviewed:
        queryset = queryset.filter(**{f"{work}review_status": ReviewStatus.ACCEPTED})
    return queryset.order_by(f"{item}__image__sha256", *then, "pk")


def image_ref(image: Image) -> str:
    """The released `image_url`: where the image came from, else its stable storage key."""
    return image.source_url or image.file.name


def _loader(image: Image):
    def load() -> bytes:
        with image.file.open("rb") as handle:
            return handle.read()

    return load


def _note(touched: Touched | None, column: str, provenance_id: int | None) -> None:
    if touched is not None and provenance_id is not None:
        touched.add((column, provenance_id))


def caption_sources(filters: ExportFilters, touched: Touched | None = None) -> Iterator[ImageCaptionSource]:
    # Versions and transcripts come prefetched per chunk: three queries per CHUNK captions, not two per caption.
    current = Prefetch("versions", to_attr="current_versions", queryset=CaptionVersion.objects.exclude(
        source=CaptionVersionSource.LLM_REJECTED).order_by("-number").only("caption_id", "number", "text", "provenance_id"))
    ordered_transcripts = Prefetch("transcripts", to_attr="ordered_transcripts", queryset=Transcript.objects.order_by(
        "pk").only("pk", "text", "provenance_id"))
    captions = _filtered(Caption.objects.select_related("work_item__image"), filters,
                         item="work_item", annotator="transcripts__recording__annotator").distinct()
    for caption in captions.prefetch_related(current, ordered_transcripts).iterator(chunk_size=CHUNK):
        if not caption.current_versions:
            continue
        version = caption.current_versions[0]
        ordered = caption.ordered_transcripts
        transcripts = [t.text for t in ordered]
        _note(touched, "caption", version.provenance_id)
        for transcript in ordered:
            _note(touched, "transcripts", transcript.provenance_id)
        image = caption.work_item.image
        yield ImageCaptionSource(image_url=image_ref(image), image_sha256=image.sha256, image=_loader(image),
                            caption=version.text, transcripts=transcripts)


def point_set_queryset(filters: ExportFilters) -> QuerySet:
    return _filtered(PointSet.objects.select_related("work_item__image"), filters, item="work_item",
                     annotator="annotator", then=("label",))


def point_sources(filters: ExportFilters, touched: Touched | None = None) -> Iterator[PointSetSource]:
    for point_set in point_set_queryset(filters).filter(work_item__image__is_eval_holdout=False).iterator(chunk_size=CHUNK):
        image = point_set.work_item.image
        yield PointSetSource(
            image_url=image_ref(image), image_sha256=image.sha256, image=_loader(image), label=point_set.label,
            points_percent=[(p["x"], p["y"]) for p in point_set.points], not_present=point_set.not_present,
            collection_method=point_set.collection_method,
        )


def points_eval_sources(filters: ExportFilters, touched: Touched | None = None) -> Iterator[PointsEvalSource]:
    for point_set in point_set_queryset(filters).filter(work_item__image__is_eval_holdout=True).iterator(chunk_size=CHUNK):
        image = point_set.work_item.image
        yield PointsEvalSource(
            image_url=image_ref(image), image_sha256=image.sha256, image=_loader(image), label=point_set.label,
            points_percent=[(p["x"], p["y"]) for p in point_set.points], masks=point_set.masks or None,
        )


def count_sources(filters: ExportFilters, touched: Touched | None = None) -> Iterator[CountSource]:
    queryset = point_set_queryset(filters).filter(collection_method="counting", not_present=False)
    for point_set in queryset.iterator(chunk_size=CHUNK):
        image = point_set.work_item.image
        yield CountSource(
            image_url=image_ref(image), image_sha256=image.sha256, image=_loader(image), label=point_set.label,
            count=len(point_set.points), points_px=[(p["x_px"], p["y_px"]) for p in point_set.points],
        )


def _accepted_threads(filters: ExportFilters) -> QuerySet:
    model_turns = Prefetch("turns", queryset=AskTurn.objects.filter(provenance__isnull=False).only(
        "thread_id", "provenance_id"), to_attr="model_turns")
    return _filtered(AskThread.objects.select_related("work_item__image").filter(status="accepted"), filters,
                     item="work_item", annotator="annotator").prefetch_related(model_turns)


def _is_point_explanation() -> Q:
    """Accepted with points and an answer that refers to them: a pixmo-point-explanations row."""
    return ~Q(points=[]) & Q(final_answer__contains="<point")


def ask_sources(filters: ExportFilters, touched: Touched | None = None) -> Iterator[QuestionAnswerSource]:
    # A thread whose annotator pointed but whose accepted answer never refers to the points is
    # still a question and its answer: it is released here rather than lost from both datasets.
    for thread in _accepted_threads(filters).exclude(_is_point_explanation()).iterator(chunk_size=CHUNK):
        image = thread.work_item.image
        for turn in thread.model_turns:
            _note(touched, "answer", turn.provenance_id)
        yield QuestionAnswerSource(image_url=image_ref(image), image_sha256=image.sha256, image=_loader(image),
                                   question=thread.question, answer=thread.final_answer)


def point_explanation_sources(filters: ExportFilters,
                              touched: Touched | None = None) -> Iterator[PointExplanationSource]:
    threads = _accepted_threads(filters).filter(_is_point_explanation())
    for thread in threads.iterator(chunk_size=CHUNK):
        image = thread.work_item.image
        for turn in thread.model_turns:
            _note(touched, "response", turn.provenance_id)
        yield PointExplanationSource(image_url=image_ref(image), image_sha256=image.sha256, image=_loader(image),
                                     question=thread.question, response=thread.final_answer)


def capqa_sources(filters: ExportFilters, touched: Touched | None = None) -> Iterator[DialogueSource]:
    caption = "caption_version__caption__"
    dialogues = _filtered(CapQADialogue.objects.select_related(f"{caption}work_item__image").exclude(turns=[]),
                          filters, item=f"{caption}work_item", annotator=f"{caption}transcripts__recording__annotator",
                          work=caption).distinct()
    for dialogue in dialogues.iterator(chunk_size=CHUNK):
        image = dialogue.caption_version.caption.work_item.image
        _note(touched, "question", dialogue.provenance_id)
        _note(touched, "answer", dialogue.provenance_id)
        yield DialogueSource(image_url=image_ref(image), image_sha256=image.sha256, image=_loader(image),
                             turns=[(t["question"], t["answer"]) for t in dialogue.turns])


def eval_holdout_sha256() -> frozenset[str]:
    return frozenset(Image.objects.filter(is_eval_holdout=True).values_list("sha256", flat=True))
