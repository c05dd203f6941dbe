"""Ask model anything: a question, the text-only LLM's answers, feedback rounds, acceptance."""

import uuid

from django.db import IntegrityError, transaction
from django.db.models import Max

from annotation_app.errors import Conflict, PermissionDenied, ServiceError
from annotation_app.models import Assignment, AskThread, AskTurn, ProjectKind, User
from annotation_app.models.ask import AskThreadStatus, AskTurnRole, AskTurnStatus
from annotation_app.services.assignments import assignment_finish, assignment_lock_for_submission
from annotation_app.services.audit import audit_log

MAX_QUESTION_CHARS = 2000


def ask_thread_start(
    *, assignment: Assignment, annotator: User, question: str, client_uuid: uuid.UUID, points: list | None = None
) -> tuple[AskThread, bool]:
    existing = AskThread.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        if existing.annotator_id != annotator.pk:
            raise Conflict("this client UUID was already used by another annotator")
        return existing, False
    if assignment.project.kind != ProjectKind.ASK:
        raise ServiceError("questions belong to ask projects only")
    question = _checked_text(question, what="question")
    try:
        with transaction.atomic():
            thread = _start(assignment, annotator, question, client_uuid, points or [])
    except IntegrityError:
        return AskThread.objects.get(client_uuid=client_uuid), False
    return thread, True


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
    return thread


@transaction.atomic
def ask_thread_feedback(*, thread: AskThread, annotator: User, feedback: str) -> AskThread:
    """The annotator's feedback on the last answer; the LLM writes a revision."""
    thread = _locked_open(thread, annotator)
    if thread.turns.filter(status=AskTurnStatus.PENDING).exists():
        raise Conflict("the model is still answering; wait for its answer before giving feedback")
    _append(thread, role=AskTurnRole.FEEDBACK, text=_checked_text(feedback, what="feedback"))
    _request_answer(thread)
    audit_log(actor=annotator, action="ask.feedback", target=thread)
    return thread


@transaction.atomic
def ask_thread_accept(*, thread: AskThread, annotator: User, edited_answer: str | None = None) -> AskThread:
    """Accept the last answer, or an edited version of it, and finish the assignment."""
    thread = _locked_open(thread, annotator)
    last_answer = thread.turns.filter(role=AskTurnRole.ANSWER, status=AskTurnStatus.READY).order_by("-index").first()
    if edited_answer is not None:
        final = _checked_text(edited_answer, what="answer")
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
    return thread


def _request_answer(thread: AskThread) -> AskTurn:
    turn = _append(thread, role=AskTurnRole.ANSWER, text="", status=AskTurnStatus.PENDING)
    transaction.on_commit(lambda: _enqueue_answer(turn.pk))
    return turn


def _enqueue_answer(turn_id: int) -> None:
    from annotation_app.tasks import ask_answer_enqueue

    ask_answer_enqueue(turn_id=turn_id)


def _append(thread: AskThread, *, role: str, text: str, status: str = AskTurnStatus.READY) -> AskTurn:
    """Should be called while holding the thread's row lock: turn indexes are dense."""
    last = thread.turns.aggregate(last=Max("index"))["last"]
    return AskTurn.objects.create(thread=thread, index=(last + 1) if last is not None else 0, role=role, text=text, status=status)


def _locked_open(thread: AskThread, annotator: User) -> AskThread:
    if thread.annotator_id != annotator.pk:
        raise PermissionDenied("this thread belongs to another annotator")
    thread = AskThread.objects.select_for_update().get(pk=thread.pk)
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
