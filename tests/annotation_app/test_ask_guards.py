"""Ask answers through the service, the Celery task and the API with the real SmolLM2 and the real
guards: a cut-off answer is retried and stored with its verdict; when no attempt passes, the
answer is stored flagged, the API says why in words, and provenance holds every attempt."""

import dataclasses
import uuid

import pytest

from annotation_app.models import AskThread
from annotation_app.models.ask import AskTurnStatus
from annotation_app.services.ask import ask_thread_feedback, ask_thread_start
from annotation_app.services.assignments import assignment_claim
from pipelines.llm import LlmSettings, get_chat_model
from pipelines.qa import ANSWER_ATTEMPTS, REVISION_ATTEMPTS
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory, WorkItemFactory
from tests.annotation_app.test_ask_capqa_tasks import sign_png

QUESTION = "What are the opening hours on the sign?"


class CutOffModel:
    """The real chat model with its first `cut_calls` replies cut at 5 new tokens: the model itself
    writes an answer that stops mid-phrase, as the bundled model did at its token cap (issue #12)."""

    def __init__(self, *, cut_calls: int) -> None:
        self.inner = get_chat_model(LlmSettings())
        self.identity = self.inner.identity
        self.cut_calls = cut_calls
        self.params_seen = []

    def chat(self, messages, *, params):
        self.params_seen.append(params)
        if self.cut_calls > 0:
            self.cut_calls -= 1
            params = dataclasses.replace(params, max_new_tokens=5)
        return self.inner.chat(messages, params=params)




@pytest.fixture
def ask(eager_celery, monkeypatch):
    """ask(model) -> (annotator, thread) after the question was asked and answered by `model`."""

    def run(model):
        monkeypatch.setattr("pipelines.llm.get_chat_model", lambda settings=None: model)
        image = ImageFactory(width=640, height=200, content=sign_png())
        item = WorkItemFactory(project=ProjectFactory(kind="ask"), image=image)
        annotator = UserFactory()
        assignment = assignment_claim(annotator=annotator, project=item.project)
        thread, _ = ask_thread_start(assignment=assignment, annotator=annotator, client_uuid=uuid.uuid4(),
                                     question=QUESTION)
        return annotator, AskThread.objects.get(pk=thread.pk)

    return run


@pytest.mark.django_db(transaction=True)
def test_a_cut_off_answer_is_retried_and_the_turn_keeps_the_verdict(ask, api_for):
    model = CutOffModel(cut_calls=1)
    annotator, thread = ask(model)
    answer = thread.turns.get(index=1)
    assert answer.status == AskTurnStatus.READY, answer.failure_reason
    assert model.params_seen[:2] == list(ANSWER_ATTEMPTS[:2])  # the retry used the second decoding
    attempts = answer.provenance.parameters["attempts"]
    assert attempts[0]["finish_reason"] == "length" and "cut_off" in attempts[0]["verdict"]["failed"]
    assert answer.guard_report["attempts"] == len(attempts) >= 2
    assert answer.provenance.parameters["verdict"]["passed"] == (answer.guard_flags == [])
    body = api_for(annotator).get(f"/api/ask-threads/{thread.pk}/").json()
    question_turn, answer_turn = body["turns"]
    assert question_turn["verdict"] is None
    assert answer_turn["verdict"]["attempts"] == len(attempts)
    assert answer_turn["verdict"]["passed"] is (not answer.guard_flags)
    assert answer_turn["text"] == attempts[answer.provenance.parameters["chosen_attempt"] - 1]["text"]


@pytest.mark.django_db(transaction=True)
def test_an_answer_no_attempt_saves_is_shown_flagged_with_its_reasons(ask, api_for, monkeypatch):
    annotator, thread = ask(CutOffModel(cut_calls=3))
    answer = thread.turns.get(index=1)
    assert answer.status == AskTurnStatus.READY and answer.text  # shown, never hidden ...
    assert "guard:cut_off" in answer.guard_flags  # ... and never as if it were fine
    parameters = answer.provenance.parameters
    assert len(parameters["attempts"]) == 3 and parameters["needs_review"] is True
    assert [a["params"] for a in parameters["attempts"]] == [p.to_dict() for p in ANSWER_ATTEMPTS]
    verdict = api_for(annotator).get(f"/api/ask-threads/{thread.pk}/").json()["turns"][1]["verdict"]
    assert verdict["passed"] is False and verdict["attempts"] == 3 and "cut_off" in verdict["failed"]
    assert any("stops mid-sentence" in reason for reason in verdict["reasons"])

    # The revision asked for next runs with the revision decodings; the flagged answer lends it no words.
    model = CutOffModel(cut_calls=0)
    monkeypatch.setattr("pipelines.llm.get_chat_model", lambda settings=None: model)
    ask_thread_feedback(thread=thread, annotator=annotator, feedback="Answer in one short sentence.")
    revision = AskThread.objects.get(pk=thread.pk).turns.get(index=3)
    assert revision.status == AskTurnStatus.READY and revision.provenance.prompt_id.startswith("qa.revise")
    assert model.params_seen[0] == REVISION_ATTEMPTS[0]
    assert revision.guard_report["attempts"] == len(revision.provenance.parameters["attempts"])
    assert revision.provenance.parameters["verdict"]["passed"] == (revision.guard_flags == [])
