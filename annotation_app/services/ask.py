"""Ask model anything: a question, the text-only LLM's answers, feedback rounds, acceptance.

Point-explanations are the same loop with points: the annotator points at places first (0–100
percent of the image), and the accepted answer refers to them with `<point …>` tags."""

import uuid

from django.db import transaction
from django.db.models import Max, prefetch_related_objects

from annotation_app.errors import Conflict, PermissionDenied, ServiceError
from annotation_app.models import AskThread, AskTurn, Assignment, ProjectKind, User
from annotation_app.models.ask import AskThreadStatus, AskTurnRole, AskTurnStatus
from annotation_app.services.assignments import assignment_finish, assignment_lock_for_submission
from annotation_app.services.audit import audit_log
from annotation_app.services.dispatch import pipeline_dispatch
from annotation_app.services.idempotency import submit_once
from pipelines.qa import MAX_POINT_LABEL_CHARS, MAX_POINTS, QaPoint, keep_known_point_tags
from pixmo_formats.coords import percent_text, round_percent, to_pixels

MAX_QUESTION_CHARS = 2000


def ask_thread_start(
    *, assignment: Assignment, annotator: User, question: str, client_uuid: uuid.UUID, points: list | None = None
) -> tuple[AskThread, bool]:
    if assignment.project.kind != ProjectKind.ASK:
        raise ServiceError("questions belong to ask projects only")
    question = _checked_text(question, what="question")
    stored_points = _checked_points(points or [], image=assignment.work_item.image)
    return submit_once(find=AskThread.objects.filter(client_uuid=client_uuid).first, annotator=annotator,
                       create=lambda: _start(assignment, annotator, question, client_uuid, stored_points))


def _start(assignment, annotator, question, client_uuid, points) -> AskThread:
    if assignment.annotator_id != annotator.pk:
        raise PermissionDenied("this assignment belongs to another annotator")
    thread = AskThread.objects.create(
        assignment=assignment,
        work_item_id=assignment.work_item_id,
        annotator=annotator,
        client_uuid=client_uuid,
        question=question,
        points=points,
    )
    AskTurn.objects.create(thread=thread, index=0, role=AskTurnRole.QUESTION, text=question)
    _request_answer(thread)
    audit_log(actor=annotator, action="ask.start", target=thread)
    return _with_turns(thread)


@transaction.atomic
def ask_thread_feedback(*, thread: AskThread, annotator: User, feedback: str,
                        client_uuid: uuid.UUID | None = None) -> AskThread:
    """The annotator's feedback on the last answer; the LLM writes a revision. A retry with the
    same client UUID answers with the thread as stored (no second turn)."""
    locked = _locked_own(thread, annotator)
    if client_uuid is not None and (earlier := AskTurn.objects.filter(client_uuid=client_uuid).first()) is not None:
        if earlier.thread_id != locked.pk:
            raise Conflict("this client UUID was already used for feedback on another thread")
        return _with_turns(locked)
    thread = _open(locked)
    if thread.turns.filter(status=AskTurnStatus.PENDING).exists():
        raise Conflict("the model is still answering; wait for its answer before giving feedback")
    _append(thread, role=AskTurnRole.FEEDBACK, text=_checked_text(feedback, what="feedback"), client_uuid=client_uuid)
    _request_answer(thread)
    audit_log(actor=annotator, action="ask.feedback", target=thread)
    return _with_turns(thread)


@transaction.atomic
def ask_thread_accept(*, thread: AskThread, annotator: User, edited_answer: str | None = None) -> AskThread:
    """Accept the last answer, or an edited version of it, and finish the assignment. A retry of
    the same acceptance answers with the accepted thread."""
    locked = _locked_own(thread, annotator)
    if locked.status == AskThreadStatus.ACCEPTED and (
            locked.final_answer == edited_answer.strip() if edited_answer is not None
            else not locked.turns.filter(role=AskTurnRole.EDIT).exists()):
        return _with_turns(locked)
    thread = _open(locked)
    last_answer = thread.turns.filter(role=AskTurnRole.ANSWER, status=AskTurnStatus.READY).order_by("-index").first()
    if edited_answer is not None:
        final = _checked_text(edited_answer, what="answer")
        _check_answer_points(final, thread)
        _append(thread, role=AskTurnRole.EDIT, text=final)
    elif last_answer is None:
        raise Conflict("there is no answer to accept yet; wait for the model or write the answer yourself")
    else:
        final = last_answer.text
    thread.final_answer = final
    thread.status = AskThreadStatus.ACCEPTED
    thread.save(update_fields=["final_answer", "status"])
    assignment = assignment_lock_for_submission(assignment=thread.assignment, annotator=annotator)
    assignment_finish(assignment=assignment)
    audit_log(actor=annotator, action="ask.accept", target=thread, edited=edited_answer is not None)
    return _with_turns(thread)


def _with_turns(thread: AskThread) -> AskThread:
    """Should be called last inside the writing transaction: the turns are loaded before commit,
    so the answer to the client is built without a query after the write is acknowledged."""
    prefetch_related_objects([thread], "turns")
    return thread


def _request_answer(thread: AskThread) -> AskTurn:
    turn = _append(thread, role=AskTurnRole.ANSWER, text="", status=AskTurnStatus.PENDING)
    pipeline_dispatch(target_type="ask_turn", target_id=turn.pk)
    return turn


def _append(thread: AskThread, *, role: str, text: str, status: str = AskTurnStatus.READY,
            client_uuid: uuid.UUID | None = None) -> AskTurn:
    """Should be called while holding the thread's row lock: turn indexes are dense."""
    last = thread.turns.aggregate(last=Max("index"))["last"]
    return AskTurn.objects.create(thread=thread, index=(last + 1) if last is not None else 0, role=role, text=text,
                                  status=status, client_uuid=client_uuid)


def _locked_own(thread: AskThread, annotator: User) -> AskThread:
    if thread.annotator_id != annotator.pk:
        raise PermissionDenied("this thread belongs to another annotator")
    return AskThread.objects.select_for_update().get(pk=thread.pk)


def _open(thread: AskThread) -> AskThread:
    if thread.status != AskThreadStatus.OPEN:
        raise Conflict(f"this thread is already {thread.status}")
    return thread


def _checked_text(text: str, *, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ServiceError(f"the {what} is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise ServiceError(f"the {what} is longer than {MAX_QUESTION_CHARS} characters")
    return text


def ask_thread_qa_points(*, thread: AskThread) -> list[QaPoint]:
    """The thread's points as the LLM step takes them (0–100 percent, numbered by position)."""
    return [QaPoint(x=p["x"], y=p["y"], label=p.get("label", "")) for p in thread.points]


def _checked_points(points: list[dict], *, image) -> list[dict]:
    """Stored form: {"x", "y"} in 0–100 percent, pixels, label, rounded by pixmo_formats.coords'
    rule. Two points are one place when tags would write them the same (one decimal)."""
    if len(points) > MAX_POINTS:
        raise ServiceError(f"a question may carry at most {MAX_POINTS} points; this one has {len(points)}")
    stored: list[dict] = []
    for number, point in enumerate(points, start=1):
        x, y = _percent(point.get("x"), number, "x"), _percent(point.get("y"), number, "y")
        label = str(point.get("label") or "").strip()
        if len(label) > MAX_POINT_LABEL_CHARS:
            raise ServiceError(f"the label of point {number} is longer than {MAX_POINT_LABEL_CHARS} characters")
        for earlier, other in enumerate(stored, start=1):
            tx, ty = percent_text(x), percent_text(y)
            if (percent_text(other["x"]), percent_text(other["y"])) == (tx, ty):
                raise ServiceError(f"points {earlier} and {number} are at the same place (x {tx}, y {ty})")
        stored.append({"x": x, "y": y, "x_px": to_pixels(x, image.width),
                       "y_px": to_pixels(y, image.height), "label": label})
    return stored


def _percent(value, number: int, axis: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ServiceError(f"point {number} needs {axis} between 0 and 100 (percent of the image)")
    return round_percent(value)


def _check_answer_points(answer: str, thread: AskThread) -> None:
    """An edited answer of a pointing thread may point only at the annotator's own points."""
    if not thread.points:
        return
    _, dropped = keep_known_point_tags(text=answer, points=ask_thread_qa_points(thread=thread))
    if dropped:
        raise ServiceError(f"the answer has a point tag that is not one of your points or is not closed: {dropped[0]}")
