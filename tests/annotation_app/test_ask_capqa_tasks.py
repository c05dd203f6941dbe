"""Ask answers and CapQA with the real text-only LLM: the image reaches only Tesseract."""

import io
import uuid

import pytest
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from annotation_app.models import AskThread, CapQADialogue, Caption, CaptionVersion, ModelProvenance, PipelineJob
from annotation_app.services.ask import ask_thread_feedback, ask_thread_start
from annotation_app.services.assignments import assignment_claim
from annotation_app.services.reviews import review_submit
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory, WorkItemFactory




def sign_png() -> bytes:
    image = PILImage.new("RGB", (640, 200), "white")
    font = ImageFont.truetype("DejaVuSans-Bold.ttf", 64) if _has_font() else ImageFont.load_default()
    ImageDraw.Draw(image).text((30, 60), "OPEN 24 HOURS", fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _has_font() -> bool:
    try:
        ImageFont.truetype("DejaVuSans-Bold.ttf", 10)
        return True
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_ask_answer_and_revision_from_ocr_and_caption(eager_celery):
    image = ImageFactory(width=640, height=200, content=sign_png())
    item = WorkItemFactory(project=ProjectFactory(kind="ask"), image=image)
    annotator = UserFactory()
    assignment = assignment_claim(annotator=annotator, project=item.project)
    thread, _ = ask_thread_start(assignment=assignment, annotator=annotator, client_uuid=uuid.uuid4(),
                                 question="What are the opening hours on the sign?")
    thread = AskThread.objects.get(pk=thread.pk)
    answer = thread.turns.get(index=1)
    assert answer.status == "ready", answer.failure_reason
    assert answer.text.strip()
    assert "24" in thread.ocr_text and "OPEN" in thread.ocr_text.upper()
    assert answer.provenance.prompt_id.startswith("qa.answer") and answer.provenance.kind == "llm"
    # The guards judged it: passed, or flagged with a reason per failed check; every attempt kept.
    report, attempts = answer.guard_report, answer.provenance.parameters["attempts"]
    assert report["attempts"] == len(attempts) and 1 <= len(attempts) <= 3
    assert report["passed"] == (answer.guard_flags == []) == attempts[-1]["verdict"]["passed"]
    assert len(report["reasons"]) == len(report["failed"]) == len(answer.guard_flags)
    ask_thread_feedback(thread=thread, annotator=annotator, feedback="Answer in one short sentence.")
    revision = thread.turns.get(index=3)
    assert revision.status == "ready" and revision.text.strip()
    assert revision.provenance.prompt_id.startswith("qa.revise")
    assert PipelineJob.objects.filter(stage="answer", status="done").count() == 2


@pytest.mark.django_db(transaction=True)
def test_accepting_a_caption_generates_a_capqa_dialogue_once(eager_celery):
    item = WorkItemFactory()
    caption = Caption.objects.create(work_item=item, refine_key="k")
    CaptionVersion.objects.create(
        caption=caption, number=1, source="llm",
        provenance=ModelProvenance.objects.create(kind="llm", model_name="m"),
        text="A black cat sleeps on a green chair next to a wooden table with three red apples in a white bowl.",
    )
    reviewer = UserFactory(role="reviewer")
    review_submit(reviewer=reviewer, decision="accept", caption=caption)
    dialogue = CapQADialogue.objects.get()
    assert dialogue.provenance.prompt_id.startswith("capqa.") and len(dialogue.provenance.prompt_hash) == 64
    assert "raw_text" in dialogue.provenance.parameters
    for turn in dialogue.turns:
        assert turn["question"].strip() and turn["answer"].strip()
    review_submit(reviewer=reviewer, decision="accept", caption=caption)  # sent again: no second dialogue
    assert CapQADialogue.objects.count() == 1
