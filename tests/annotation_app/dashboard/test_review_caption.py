"""The caption review page shows what the reviewer judges: the language model's rejected draft beside
the caption with the guards' reasons in words, and every version's text and source."""

import html
import re

import pytest
from django.urls import reverse

from annotation_app.models import Role
from annotation_app.services.pipeline_results import caption_store
from pipelines.llm_types import ChatReply
from pipelines.refine import refine_transcripts
from tests.annotation_app.dashboard.factories import CaptionFactory, CaptionVersionFactory, TranscriptFactory
from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory

pytestmark = pytest.mark.django_db

SPOKEN = "um so there is a red square uh on a white table next to a blue mug"
DRAFT = "A crimson cube rests on an ivory marble counter beside a porcelain teacup and a vase of tulips."
# The draft's content words that no transcript has (the guard's notion: stop and framing words
# such as "beside" do not count), in the draft's order.
INVENTED = ["crimson", "cube", "rests", "ivory", "marble", "counter", "porcelain", "teacup", "vase", "tulips"]


class DraftingModel:
    """A chat model whose every answer is DRAFT, the way a model that embellishes answers."""

    identity = {"backend": "test", "name": "drafting-model"}

    def chat(self, messages, *, params):
        return ChatReply(text=DRAFT, model=self.identity, params=params.to_dict(), timings_ms={})


def page_text(fragment: str) -> str:
    """What a reader sees of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def element(page: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, flags=re.DOTALL)
    assert match, f"the page has no #{element_id}"
    return page_text(match.group(2))


@pytest.fixture
def refined_caption():
    """A caption stored by the refinement service from a draft its guards turned down."""
    project = ProjectFactory(kind="caption", name="Spoken captions")
    item = WorkItemFactory(project=project, open_slots=0)
    transcript = TranscriptFactory(recording__assignment__work_item=item, text=SPOKEN)
    refinement = refine_transcripts([SPOKEN], chat_model=DraftingModel(), strategy="whole")
    assert refinement.source == "cleanup", "the guards must reject the draft for this test to mean anything"
    caption = caption_store(work_item_id=item.pk, transcripts=[transcript], key="refine-test",
                            refinement=refinement)
    return project, caption


def review_page(client, project, caption) -> str:
    return client.get(reverse("dashboard:review-item", args=[project.pk, caption.pk])).content.decode()


def test_the_rejected_draft_stands_beside_the_caption_with_its_invented_words(refined_caption, client_as):
    project, caption = refined_caption
    reviewer = UserFactory(role=Role.REVIEWER)
    page = review_page(client_as(reviewer), project, caption)

    assert element(page, "caption-text") == "So there is a red square on a white table next to a blue mug."
    assert element(page, "draft-text") == DRAFT
    marked = re.findall(r'<mark class="invented">([^<]*)</mark>', page)
    assert [word.strip(".").lower() for word in marked] == INVENTED
    reasons = element(page, "guard-reasons")
    assert f"These 10 words appear in no transcript: {', '.join(INVENTED)}." in reasons
    assert "the guard allows at most 3 such words and 8 %" in reasons
    queue = re.search(r'<ol id="review-queue">(.*?)</ol>', page, flags=re.DOTALL).group(1)
    assert "⚑ invented words" in page_text(queue)
    assert "guard:" not in page and "invented_words" not in page and "invented_ratio" not in page
    assert "{'" not in page and "['" not in page


def test_the_history_lists_each_version_with_its_text_and_source(refined_caption, client_as):
    project, caption = refined_caption
    alice = UserFactory(role=Role.REVIEWER, username="alice")
    client = client_as(alice)
    edited = "A red square on a white table next to a blue mug."
    answer = client.post(reverse("dashboard:review-decide", args=[project.pk, caption.pk]),
                         {"decision": "edit", "edited_text": edited})
    assert answer.status_code == 302
    page = review_page(client, project, caption)

    history = re.search(r'<ol class="history">(.*?)</ol>', page, flags=re.DOTALL).group(1)
    entries = [page_text(entry) for entry in re.findall(r"<li[^>]*>(.*?)</li>", history, flags=re.DOTALL)]
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    assert len(entries) == 3, entries
    assert re.fullmatch(rf"v1 · Language model draft, rejected by the guards · {stamp} {re.escape(DRAFT)}",
                        entries[0])
    assert re.fullmatch(rf"v2 · Deterministic clean-up · {stamp} "
                        r"So there is a red square on a white table next to a blue mug\.", entries[1])
    assert re.fullmatch(rf"v3 · Reviewer edit by alice · {stamp} · current {re.escape(edited)}",
                        entries[2])
    assert 'class="rejected"' in history
    assert "{'" not in page and "['" not in page


def test_a_draft_stored_without_a_verdict_gets_its_invented_words_from_the_guards(client_as):
    """Rows written before verdicts were kept: the page runs the guards on the draft itself."""
    project = ProjectFactory(kind="caption")
    transcript = TranscriptFactory(recording__assignment__work_item__project=project, text=SPOKEN)
    caption = CaptionFactory(work_item=transcript.recording.work_item, transcripts=[transcript],
                             guard_flags=["fallback_to_cleanup"])
    CaptionVersionFactory(caption=caption, number=1, text=DRAFT, source="llm_rejected", guard_report={})
    CaptionVersionFactory(caption=caption, number=2, text="There is a red square.", source="cleanup")
    page = review_page(client_as(UserFactory(role=Role.REVIEWER)), project, caption)

    reasons = element(page, "guard-reasons")
    assert f"These 10 words appear in no transcript: {', '.join(INVENTED)}." in reasons
    assert "clean-up used" in page and "fallback_to_cleanup" not in page


def test_a_failed_model_call_is_told_in_words(client_as):
    project = ProjectFactory(kind="caption")
    transcript = TranscriptFactory(recording__assignment__work_item__project=project, text=SPOKEN)
    caption = CaptionFactory(work_item=transcript.recording.work_item, transcripts=[transcript],
                             guard_flags=["llm_error"])
    CaptionVersionFactory(caption=caption, number=1, text="There is a red square.", source="cleanup")
    page = review_page(client_as(UserFactory(role=Role.REVIEWER)), project, caption)

    assert element(page, "guard-reasons") == ("The language model gave no draft (its request failed), so the "
                                             "caption is the deterministic clean-up of the transcript.")
    assert 'id="rejected-draft"' not in page and "llm_error" not in page


class SentenceModel:
    """Rewrites sentence by sentence the way a weak model does: one tidy rewrite, one invention."""

    identity = {"backend": "test", "name": "sentence-model"}
    REWRITES = {"So there is a red square on a white table.": "There is a red square on a white table.",
                "Next to it there is a blue mug.": "Next to it there is a blue mug of hot cocoa."}

    def chat(self, messages, *, params):
        sentence = messages[-1].content
        return ChatReply(text=self.REWRITES.get(sentence, sentence), model=self.identity,
                         params=params.to_dict(), timings_ms={})


def test_the_sentences_the_model_changed_or_was_refused_are_listed_with_the_reason(client_as):
    spoken = "um so there is a red square on a white table and next to it there is a blue mug. the mug is empty"
    project = ProjectFactory(kind="caption")
    item = WorkItemFactory(project=project, open_slots=0)
    transcript = TranscriptFactory(recording__assignment__work_item=item, text=spoken)
    refinement = refine_transcripts([spoken], chat_model=SentenceModel(), strategy="sentences")
    caption = caption_store(work_item_id=item.pk, transcripts=[transcript], key="refine-sentences",
                            refinement=refinement)
    page = review_page(client_as(UserFactory(role=Role.REVIEWER)), project, caption)

    assert element(page, "caption-text") == ("There is a red square on a white table. Next to it there is a blue "
                                            "mug. The mug is empty.")
    edits = re.search(r'<details id="sentence-edits"[^>]*>(.*?)</details>', page, flags=re.DOTALL).group(1)
    rows = [page_text(row) for row in re.findall(r"<li[^>]*>(.*?)</li>", edits, flags=re.DOTALL)]
    assert page_text(edits).startswith("Sentence by sentence: the language model changed 1 of 3 sentences; "
                                       "1 rewrite refused")
    assert rows == [
        "changed So there is a red square on a white table. → There is a red square on a white table.",
        "rewrite refused Next to it there is a blue mug. "
        "(refused: “Next to it there is a blue mug of hot cocoa.” — "
        "The rewrite adds words the sentence does not have (hot, cocoa); at most 1 may be new.)",
        "The mug is empty.",
    ]
    assert '<li class="sentence changed">' in edits and "<del>" in edits and "<ins>" in edits
    assert "dropped_words" not in page and "{'" not in page
