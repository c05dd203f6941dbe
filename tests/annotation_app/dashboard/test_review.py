"""The review page: receipt, transcript and caption with the changed words, decisions, points, turns."""

from django.urls import reverse

from annotation_app.models import AskThread, Caption, CaptionVersion, PointSet, Review
from annotation_app.selectors.dashboard_review import word_diff


def test_word_diff_marks_what_the_refinement_changed():
    before, after = word_diff(before="um a red square uh on a table", after="A red square on a wooden table.")
    assert [w["text"] for w in before if w["changed"]] == ["um", "uh"]
    assert [w["text"] for w in after if w["changed"]] == ["wooden"]  # case and punctuation do not count


def caption_page(client, seeded):
    return client.get(reverse("dashboard:review-item", args=[seeded["caption_project"].pk, seeded["caption"].pk]))


def test_caption_review_shows_receipts_transcripts_and_highlights(seeded, client_as):
    response = caption_page(client_as(seeded["reviewer"]), seeded)
    html = response.content.decode()
    assert html.count("<audio controls") == 2
    assert "/media/recordings/" in html
    # Each transcript against the caption: anna's fillers are struck out; "sits" is in no transcript,
    # "wooden" is in otto's, so only "sits" is highlighted.
    assert "<del>um</del>" in html and "<mark>sits</mark>" in html and "<mark>wooden</mark>" not in html
    assert "Flagged by the refinement: added words." in html and "added_words" not in html  # in words
    assert 'name="decision" value="reject"' in html and "review.js" in html


def decide(client, seeded, **data):
    url = reverse("dashboard:review-decide", args=[seeded["caption_project"].pk, seeded["caption"].pk])
    return client.post(url, data, follow=True)


def test_accept(seeded, client_as):
    response = decide(client_as(seeded["reviewer"]), seeded, decision="accept")
    assert response.redirect_chain[-1][1] == 302
    assert Caption.objects.get(pk=seeded["caption"].pk).review_status == "accepted"
    assert Review.objects.get(caption=seeded["caption"]).reviewer == seeded["reviewer"]


def test_reject_needs_a_reason(seeded, client_as):
    client = client_as(seeded["reviewer"])
    response = decide(client, seeded, decision="reject", reason="  ")
    assert "a rejection needs a reason" in response.content.decode()
    assert Caption.objects.get(pk=seeded["caption"].pk).review_status == "pending"
    decide(client, seeded, decision="reject", reason="describes a different image")
    assert Caption.objects.get(pk=seeded["caption"].pk).review_status == "rejected"
    assert Review.objects.get(caption=seeded["caption"]).reason == "describes a different image"


def test_edit_is_a_new_version_and_keeps_the_original(seeded, client_as):
    decide(client_as(seeded["reviewer"]), seeded, decision="edit", edited_text="A red square on a white oak table.")
    versions = list(CaptionVersion.objects.filter(caption=seeded["caption"]).order_by("number"))
    assert [(v.number, v.source) for v in versions] == [(1, "llm"), (2, "edit")]
    assert versions[0].text == "A red square sits on a white wooden table."
    assert versions[1].edited_by == seeded["reviewer"]
    assert Caption.objects.get(pk=seeded["caption"].pk).review_status == "accepted"


def test_points_are_drawn_on_the_image(seeded, client_as):
    project = seeded["points_project"]
    point_set = PointSet.objects.filter(work_item__project=project, label="cat").get()
    html = client_as(seeded["reviewer"]).get(
        reverse("dashboard:review-item", args=[project.pk, point_set.pk])
    ).content.decode()
    assert 'viewBox="0 0 200 100"' in html
    assert '<circle class="point" cx="20.0" cy="20.0"' in html and 'cx="120.0" cy="50.0"' in html


def test_ask_threads_are_shown_turn_by_turn_and_reviewed(seeded, client_as):
    project, thread = seeded["ask_project"], seeded["thread"]
    client = client_as(seeded["reviewer"])
    html = client.get(reverse("dashboard:review", args=[project.pk])).content.decode()
    question, answer = html.index("What colour is the square?</p>"), html.index("The square is red.</p>")
    assert question < answer
    client.post(reverse("dashboard:review-decide", args=[project.pk, thread.pk]), {"decision": "accept"})
    assert AskThread.objects.get(pk=thread.pk).review_status == "accepted"


def test_an_item_of_another_project_is_not_found(seeded, client_as):
    url = reverse("dashboard:review-item", args=[seeded["points_project"].pk, seeded["caption"].pk])
    assert client_as(seeded["reviewer"]).get(url).status_code == 404


def test_compare_projects_have_nothing_to_review(seeded, client_as):
    response = client_as(seeded["reviewer"]).get(reverse("dashboard:review", args=[seeded["compare_project"].pk]))
    assert "Nothing to review" in response.content.decode()


def test_ask_answers_show_their_verdict_to_the_reviewer(seeded, client_as):
    from annotation_app.models import AskTurn

    project, thread = seeded["ask_project"], seeded["thread"]
    AskTurn.objects.filter(thread=thread, index=1).update(
        guard_flags=["guard:invented_words"],
        guard_report={"passed": False, "failed": ["invented_words"], "attempts": 3,
                      "reasons": ["These 4 words appear in no source: coin, gold, mirror, black."]})
    html = client_as(seeded["reviewer"]).get(reverse("dashboard:review", args=[project.pk])).content.decode()
    assert "The answer checks flagged this answer after 3 attempts:" in html
    assert "<li>These 4 words appear in no source: coin, gold, mirror, black.</li>" in html
    AskTurn.objects.filter(thread=thread, index=1).update(
        guard_flags=[], guard_report={"passed": True, "failed": [], "attempts": 2, "reasons": []})
    html = client_as(seeded["reviewer"]).get(reverse("dashboard:review", args=[project.pk])).content.decode()
    assert "Passed the answer checks on attempt 2." in html and "flagged this answer" not in html
