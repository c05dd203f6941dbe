"""What the text-only LLM sees for an ask turn: the question, the image's best caption, the OCR
text of the image and the annotator's points as text — never the image itself."""

import logging
from typing import TYPE_CHECKING

from annotation_app.models import AskTurn, Caption, ReviewStatus
from annotation_app.models.ask import AskTurnRole, AskTurnStatus
from annotation_app.services.ask import ask_thread_qa_points

if TYPE_CHECKING:
    from pipelines.qa import QaAnswer

logger = logging.getLogger("pixmo.ask")


def image_best_caption(*, image_id: int) -> str:
    """The newest accepted caption of the image, else its newest caption of any status, else ''."""
    captions = Caption.objects.filter(work_item__image_id=image_id).order_by("-created_at")
    caption = captions.filter(review_status=ReviewStatus.ACCEPTED).first() or captions.first()
    version = caption.current if caption else None
    return version.text if version else ""


def image_ocr_text(*, turn: AskTurn) -> tuple[str, dict]:
    """OCR once per thread (stored on it); a missing OCR engine leaves the text empty and says so."""
    from pipelines.errors import OcrError
    from pipelines.ocr import ocr_image

    thread = turn.thread
    if thread.ocr_text:
        return thread.ocr_text, {"engine": "stored"}
    with thread.work_item.image.file.open("rb") as handle:
        data = handle.read()
    try:
        result = ocr_image(data)
    except OcrError as error:
        logger.warning("ocr.unavailable thread=%s reason=%s", thread.pk, error)
        return "", {"engine": "none", "error": str(error)}
    return result.text, {"engine": result.engine, "timings_ms": result.timings_ms}


def ask_answer_generate(*, turn: AskTurn) -> tuple["QaAnswer", dict, dict]:
    """(guarded answer, provenance record, context) for a pending answer turn. An earlier model
    answer that the guards flagged lends no words to the next answer's invented-word check."""
    from pipelines.llm import get_chat_model
    from pipelines.qa import QaTurn, answer_question, revise_answer

    thread = turn.thread
    caption = image_best_caption(image_id=thread.work_item.image_id)
    ocr_text, ocr_info = image_ocr_text(turn=turn)
    earlier = list(thread.turns.filter(index__lt=turn.index).exclude(status=AskTurnStatus.FAILED).order_by("index"))
    answers = [t for t in earlier if t.role in (AskTurnRole.ANSWER, AskTurnRole.EDIT)]
    points = ask_thread_qa_points(thread=thread)
    model = get_chat_model()
    if not answers:
        result = answer_question(question=thread.question, caption=caption, ocr_text=ocr_text, points=points,
                                 chat_model=model)
    else:
        feedback = [t.text for t in earlier if t.role == AskTurnRole.FEEDBACK]
        qa_turns = [QaTurn(answer=a.text, feedback=f, flagged=bool(a.guard_flags))
                    for a, f in zip(answers, feedback[: len(answers) - 1] + [None])]
        result = revise_answer(question=thread.question, caption=caption, ocr_text=ocr_text, thread=qa_turns,
                               feedback=feedback[-1], points=points, chat_model=model)
    record = {**result.provenance, "ocr": ocr_info}
    return result, record, {"ocr_text": ocr_text, "caption": caption}
