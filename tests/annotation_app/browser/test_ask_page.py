"""Ask model anything in the browser: question, the text-only LLM's answer (with progress while it
is written), a feedback round, an edited acceptance; the whole thread is kept."""

import pytest
from playwright.sync_api import expect

from annotation_app.models import AskThread, AskTurn
from annotation_app.models.ask import AskThreadStatus, AskTurnStatus
from annotation_app.models.work import AssignmentStatus
from annotation_app.tasks import ask_answer_task
from tests.annotation_app.browser.conftest import login, scene_png, screenshot
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory, WorkItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "What does the sign say, and is <b>this</b> bold?"


def answer_pending_turn(item) -> AskTurn:
    """Run the answer task for the turn the page is waiting on, as a worker would."""
    turn = AskTurn.objects.get(thread__work_item=item, status=AskTurnStatus.PENDING)
    ask_answer_task.apply(kwargs={"ask_turn_id": turn.pk})
    turn.refresh_from_db()
    assert turn.status == AskTurnStatus.READY, turn.failure_reason
    return turn


def test_ask_answer_feedback_and_accept_an_edit(page, pipeline_in_memory):
    project = ProjectFactory(kind="ask", name="Ask about images")
    item = WorkItemFactory(project=project, image=ImageFactory(width=640, height=480, file=scene_png(640, 480)))
    login(page, UserFactory())
    page.goto(f"/work/{project.pk}/")
    expect(page.locator("#workspace")).to_be_visible()

    page.fill("#question", QUESTION)
    page.click("#ask")
    expect(page.locator("#pending")).to_be_visible()
    expect(page.locator("#thread .turn.question")).to_have_text(f"You asked{QUESTION}")  # shown as text
    expect(page.locator("#pending-text")).to_contain_text("The model is writing its answer")
    screenshot(page, "ask-pending")

    first = answer_pending_turn(item)
    expect(page.locator("#pending")).to_be_hidden()
    expect(page.locator("#thread .turn.answer p")).to_have_text(first.text.strip())
    expect(page.locator("#accept")).to_be_enabled()
    screenshot(page, "ask-answered")
    # A reload picks the thread up from the server where it was.
    page.reload()
    expect(page.locator("#thread .turn")).to_have_count(2)
    expect(page.locator("#thread .turn.answer p")).to_have_text(first.text.strip())
    expect(page.locator("#ask-form")).to_be_hidden()

    page.fill("#feedback", "Please answer in one short sentence.")
    page.click("#send-feedback")
    expect(page.locator("#pending")).to_be_visible()
    second = answer_pending_turn(item)
    expect(page.locator("#thread .turn.answer p").nth(1)).to_have_text(second.text.strip())

    page.click("#edit")
    expect(page.locator("#edited")).to_have_value(second.text.strip())
    page.fill("#edited", "The sign says OPEN 9-5.")
    page.click("#accept-edited")
    expect(page.locator("#done")).to_be_visible()

    thread = AskThread.objects.get(work_item=item)
    assert thread.status == AskThreadStatus.ACCEPTED
    assert thread.question == QUESTION
    assert thread.final_answer == "The sign says OPEN 9-5."
    assert list(thread.turns.values_list("role", flat=True)) == ["question", "answer", "feedback", "answer", "edit"]
    assert thread.turns.get(role="feedback").client_uuid is not None  # the page keys its feedback for retries
    assert thread.assignment.status == AssignmentStatus.SUBMITTED
