"""A model answer that no attempt saves is shown flagged on the ask page: the reasons in words
under the answer, and 'Accept anyway' instead of 'Accept answer' (real SmolLM2, real guards, its
replies cut off at 5 tokens as at a token cap)."""

import pytest
from playwright.sync_api import expect

from annotation_app.models import AskTurn
from annotation_app.models.ask import AskTurnStatus
from annotation_app.tasks import ask_answer_task
from tests.annotation_app.browser.conftest import login, scene_png, screenshot
from tests.annotation_app.factories import ImageFactory, ProjectFactory, UserFactory, WorkItemFactory
from tests.annotation_app.test_ask_guards import CutOffModel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_flagged_answer_says_why_and_accepting_it_says_anyway(page, pipeline_in_memory, monkeypatch):
    monkeypatch.setattr("pipelines.llm.get_chat_model", lambda settings=None: CutOffModel(cut_calls=3))
    project = ProjectFactory(kind="ask", name="Ask about images")
    item = WorkItemFactory(project=project, image=ImageFactory(width=640, height=480, file=scene_png(640, 480)))
    login(page, UserFactory())
    page.goto(f"/work/{project.pk}/")
    page.fill("#question", "What does the sign say?")
    page.click("#ask")
    expect(page.locator("#pending")).to_be_visible()
    turn = AskTurn.objects.get(thread__work_item=item, status=AskTurnStatus.PENDING)
    ask_answer_task.apply(kwargs={"ask_turn_id": turn.pk})
    turn.refresh_from_db()
    assert turn.guard_flags and turn.guard_report["attempts"] == 3

    answer = page.locator("#thread .turn.answer")
    expect(answer).to_have_class("turn answer ready flagged")
    expect(answer.locator("p")).to_have_text(turn.text)  # the answer itself is shown as written
    note = answer.locator(".flag-note")
    expect(note).to_contain_text("Flagged by the automatic checks (best of 3 attempts)")
    expect(note.locator("li")).to_have_text(turn.guard_report["reasons"])
    expect(note).to_contain_text("stops mid-sentence")
    expect(page.locator("#accept")).to_have_text("Accept anyway")
    expect(page.locator("#checks-hint")).to_be_visible()
    screenshot(page, "ask-flagged")
