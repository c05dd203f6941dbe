"""Factories for the rows the dashboard reads, and one seeded collection for page tests."""

from __future__ import annotations

import io
import uuid
import wave
from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from annotation_app.models import (
    AskThread,
    AskTurn,
    Assignment,
    Caption,
    CaptionVersion,
    DatasetRelease,
    ModelProvenance,
    PipelineJob,
    PointSet,
    PreferenceJudgment,
    Recording,
    Review,
    Role,
    Transcript,
    WorkerHeartbeat,
)
from annotation_app.models.ask import AskThreadStatus
from annotation_app.models.work import AssignmentStatus
from tests.annotation_app.factories import CompareItemFactory, ProjectFactory, UserFactory, WorkItemFactory


def wav_bytes(seconds: float = 0.2, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    work_item = factory.SubFactory(WorkItemFactory)
    project = factory.LazyAttribute(lambda o: o.work_item.project)
    annotator = factory.SubFactory(UserFactory)
    status = AssignmentStatus.SUBMITTED
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))
    heartbeat_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)
    active_seconds = 600.0


class ProvenanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelProvenance

    kind = "asr"
    model_name = "tiny.en"


class RecordingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recording

    assignment = factory.SubFactory(AssignmentFactory)
    work_item = factory.LazyAttribute(lambda o: o.assignment.work_item)
    annotator = factory.LazyAttribute(lambda o: o.assignment.annotator)
    client_uuid = factory.LazyFunction(uuid.uuid4)
    file = factory.LazyAttribute(lambda o: ContentFile(wav_bytes(), name=f"{o.client_uuid}.wav"))
    sha256 = "0" * 64
    mime = "audio/wav"
    byte_size = 3244
    duration_s = 75.0
    status = "refined"


class TranscriptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transcript

    recording = factory.SubFactory(RecordingFactory)
    model_key = factory.Sequence(lambda n: f"tiny.en-{n}")
    text = "um a red square on a white table"
    provenance = factory.SubFactory(ProvenanceFactory)


class CaptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Caption
        skip_postgeneration_save = True  # the hook only adds M2M rows

    work_item = factory.SubFactory(WorkItemFactory)
    refine_key = factory.Sequence(lambda n: f"refine-{n}")

    @factory.post_generation
    def transcripts(self, create, extracted, **kwargs):
        if create and extracted:
            self.transcripts.add(*extracted)


class CaptionVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaptionVersion

    caption = factory.SubFactory(CaptionFactory)
    number = 1
    text = "A red square on a white table."
    source = "llm"


class PointSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PointSet

    assignment = factory.SubFactory(AssignmentFactory, work_item__project__kind="points")
    work_item = factory.LazyAttribute(lambda o: o.assignment.work_item)
    annotator = factory.LazyAttribute(lambda o: o.assignment.annotator)
    client_uuid = factory.LazyFunction(uuid.uuid4)
    label = "cat"
    points = factory.LazyFunction(lambda: [{"x_px": 16.0, "y_px": 12.0, "x": 25.0, "y": 25.0}])


class AskThreadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AskThread

    assignment = factory.SubFactory(AssignmentFactory, work_item__project__kind="ask")
    work_item = factory.LazyAttribute(lambda o: o.assignment.work_item)
    annotator = factory.LazyAttribute(lambda o: o.assignment.annotator)
    client_uuid = factory.LazyFunction(uuid.uuid4)
    question = "What colour is the square?"
    final_answer = "The square is red."
    status = AskThreadStatus.ACCEPTED


class AskTurnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AskTurn

    thread = factory.SubFactory(AskThreadFactory)
    index = factory.Sequence(int)
    role = "question"
    text = "What colour is the square?"


class JudgmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PreferenceJudgment

    compare_item = factory.SubFactory(CompareItemFactory)
    assignment = factory.SubFactory(AssignmentFactory, work_item=factory.SelfAttribute("..compare_item.work_item"))
    annotator = factory.LazyAttribute(lambda o: o.assignment.annotator)
    client_uuid = factory.LazyFunction(uuid.uuid4)
    swapped = False
    winner = "a"


class PipelineJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PipelineJob

    stage = "transcribe"
    target_type = "recording"
    target_id = factory.Sequence(lambda n: n + 1)
    status = "done"
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5, seconds=12))
    finished_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))


class HeartbeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkerHeartbeat

    hostname = factory.Sequence(lambda n: f"worker-{n}")
    queues = factory.LazyFunction(lambda: ["asr"])
    seen_at = factory.LazyFunction(timezone.now)


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DatasetRelease

    name = factory.Sequence(lambda n: f"release-{n}")
    datasets = factory.LazyFunction(lambda: ["pixmo-cap"])
    uri = factory.LazyAttribute(lambda o: f"/tmp/releases/{o.name}")
    status = "complete"
    progress = 1.0


def seed_collection() -> dict:
    """A small but complete collection: every page has something to draw.

    Two caption annotators on one image (overlap 2) with transcripts, a refined caption awaiting
    review, a pointing project with two point sets on one item, an ask thread, compare judgments
    between three models, pipeline jobs (one failed), a heartbeat, a gold item (answered and accepted) and two releases.
    """
    reviewer = UserFactory(role=Role.REVIEWER, username="seed-reviewer")
    anna, otto = UserFactory(username="seed-anna"), UserFactory(username="seed-otto")
    caption_project = ProjectFactory(name="Spoken captions", kind="caption", overlap_k=2)
    item = WorkItemFactory(project=caption_project, open_slots=0)
    rec_anna = RecordingFactory(assignment__work_item=item, assignment__annotator=anna, duration_s=72.0,
                                flags=["too_short"])
    rec_otto = RecordingFactory(assignment__work_item=item, assignment__annotator=otto, duration_s=95.0)
    t_anna = TranscriptFactory(recording=rec_anna, text="um so there is a red square uh on a white table")
    t_otto = TranscriptFactory(recording=rec_otto, text="there is a red square on a white wooden table")
    caption = CaptionFactory(work_item=item, transcripts=[t_anna, t_otto], is_merged=True,
                             guard_flags=["added_words"])
    CaptionVersionFactory(caption=caption, number=1, text="A red square sits on a white wooden table.")
    accepted_caption = CaptionFactory(work_item=WorkItemFactory(project=caption_project), review_status="accepted")
    CaptionVersionFactory(caption=accepted_caption, text="A blue circle on grass.")
    Review.objects.create(reviewer=reviewer, decision="accept", caption=accepted_caption)

    points_project = ProjectFactory(name="Pointing", kind="points", overlap_k=2)
    point_item = WorkItemFactory(project=points_project, image__width=200, image__height=100, open_slots=0)
    PointSetFactory(assignment__work_item=point_item, assignment__annotator=anna, label="cat",
                    points=[{"x_px": 20, "y_px": 20, "x": 10.0, "y": 20.0}, {"x_px": 120, "y_px": 50, "x": 60.0, "y": 50.0}])
    PointSetFactory(assignment__work_item=point_item, assignment__annotator=otto, label="Cat",
                    points=[{"x_px": 22, "y_px": 20, "x": 11.0, "y": 20.0}])
    gold_item = WorkItemFactory(project=points_project, is_gold=True, open_slots=1,
                                gold_answer={"label": "dog", "points": [{"x": 50.0, "y": 50.0}]})
    dog = PointSetFactory(assignment__work_item=gold_item, assignment__annotator=anna, label="dog",
                          points=[{"x_px": 32, "y_px": 24, "x": 50.0, "y": 50.0}], review_status="accepted")
    Review.objects.create(reviewer=reviewer, decision="accept", point_set=dog)

    ask_project = ProjectFactory(name="Ask anything", kind="ask")
    thread = AskThreadFactory(assignment__work_item=WorkItemFactory(project=ask_project, open_slots=0),
                              assignment__annotator=otto)
    AskTurnFactory(thread=thread, index=0, role="question", text="What colour is the square?")
    AskTurnFactory(thread=thread, index=1, role="answer", text="The square is red.")

    compare_project = ProjectFactory(name="Model arena", kind="compare")
    strengths = {"molmo-7b-d": 3, "molmo-1b": 2, "baseline": 1}
    names = list(strengths)
    for i, (first, second) in enumerate([(a, b) for a in names for b in names if a != b] * 3):
        item_c = WorkItemFactory(project=compare_project, variant=i, open_slots=0)
        winner = "a" if strengths[first] > strengths[second] else "b"
        JudgmentFactory(compare_item=CompareItemFactory(work_item=item_c, model_a=first, model_b=second),
                        assignment__annotator=anna if i % 2 else otto, winner=winner if i % 5 else "tie")

    PipelineJobFactory(stage="transcribe")
    PipelineJobFactory(stage="refine")
    PipelineJobFactory(stage="refine", status="failed", error="LLM endpoint timed out after 120 s",
                       attempts=3, finished_at=timezone.now())
    PipelineJobFactory(stage="validate", status="running", finished_at=None)
    HeartbeatFactory(hostname="asr-worker-1")

    ReleaseFactory(name="pixmo-cap-v1", counts={"pixmo-cap": {"train": 1200, "validation": 60}},
                   filters={"projects": [caption_project.slug], "annotators": [], "since": None, "until": None,
                            "accepted_only": True},
                   manifest={"files": {"data/train-00000-of-00001.parquet": {"sha256": "ab" * 32, "bytes": 1024},
                                       "README.md": {"sha256": "cd" * 32, "bytes": 300}}},
                   validation={"ok": True, "problems": []})
    ReleaseFactory(name="pixmo-points-v1", datasets=["pixmo-points"], status="building", progress=0.4)
    return {"reviewer": reviewer, "anna": anna, "otto": otto, "caption": caption, "caption_project": caption_project,
            "points_project": points_project, "ask_project": ask_project, "thread": thread,
            "compare_project": compare_project}
