import random
import re

from pixmo_builders.docs.data import DocData, fallback_doc_data, parse_doc_data
from pixmo_builders.docs.qa import (
    UNANSWERABLE_ANSWER,
    model_answer_is_grounded,
    parse_question_answer,
    template_question,
)
from pixmo_builders.docs.renderers import matplotlib_template

DATA = DocData(title="Fruit", items=(("Apples", 42.0), ("Pears", 17.0), ("Plums", 23.0), ("Figs", 9.0)))


def test_data_parses_from_json_pairs_or_lines_and_rejects_garbage():
    as_json = parse_doc_data(
        reply='Here: {"title": "Rain", "items": [{"label": "May", "value": 3}, '
        '{"label": "June", "value": 5.5}, {"label": "July", "value": "7"}]}',
        topic="rain",
    )
    assert as_json.title == "Rain" and as_json.items == (("May", 3.0), ("June", 5.5), ("July", 7.0))
    broken_json = parse_doc_data(
        reply='{"title": "Rain", "items": [{"label": "May", "value": 3}, {"label": "June", '
        '"value": 5}, {"label": "July", "value": 8}, {"label": "Aug',
        topic="rain",
    )
    assert [label for label, _ in broken_json.items] == ["May", "June", "July"]
    lines = parse_doc_data(reply="- Apples: 4\n- Pears: 6\n- Figs = 1\n", topic="fruit")
    assert lines.items == (("Apples", 4.0), ("Pears", 6.0), ("Figs", 1.0)) and lines.title == "fruit"
    assert parse_doc_data(reply="I like fruit very much.", topic="fruit") is None
    copied_example = "Apples: 42\nPears: 17\nPlums: 23\nFigs: 9"
    assert parse_doc_data(reply=copied_example, topic="fruit", labels=("Apples", "Pears", "Kiwis")) is None
    assert (
        len(parse_doc_data(reply=copied_example, topic="fruit", labels=("apples", "pears", "plums")).items)
        == 3
    )
    assert parse_doc_data(reply="Solar: 1.2\nWind: 1.2\nGas: 1.2", topic="energy") is None
    assert (
        parse_doc_data(reply='{"items": [{"label": "x\\"); import os; (\\"", "value": 1}]}', topic="t")
        is None
    )


def test_fallback_data_is_deterministic():
    labels = ("A", "B", "C", "D", "E", "F")
    assert fallback_doc_data(topic="t", labels=labels, seed=1) == fallback_doc_data(
        topic="t", labels=labels, seed=1
    )
    assert len(fallback_doc_data(topic="t", labels=labels, seed=1).items) >= 4


def test_question_answer_parsing_and_grounding():
    code = matplotlib_template(DATA)
    assert parse_question_answer(reply="Question: What is shown for Pears?\nAnswer: 17.0\nextra") == (
        "What is shown for Pears?",
        "17.0",
    )
    assert parse_question_answer(reply="no format here") is None
    assert model_answer_is_grounded(kind="short", question="Pears?", answer="17.0", code=code, data=DATA)
    assert not model_answer_is_grounded(kind="short", question="Pears?", answer="99", code=code, data=DATA)
    assert not model_answer_is_grounded(kind="short", question="Apples?", answer="17", code=code, data=DATA)
    choice = "Which is largest? A. Pears B. Apples C. Figs D. Plums"
    assert model_answer_is_grounded(kind="choice", question=choice, answer="B", code=code, data=DATA)
    assert not model_answer_is_grounded(kind="choice", question=choice, answer="A", code=code, data=DATA)
    assert not model_answer_is_grounded(kind="choice", question=choice, answer="", code=code, data=DATA)
    assert model_answer_is_grounded(
        kind="yes_no", question="Are Apples more than Pears?", answer="Yes", code=code, data=DATA
    )
    assert not model_answer_is_grounded(
        kind="yes_no", question="Are Apples more than Pears?", answer="No", code=code, data=DATA
    )
    assert not model_answer_is_grounded(
        kind="summary", question="Summary?", answer="A chart.", code=code, data=DATA
    )


def test_template_questions_are_correct():
    rng = random.Random(0)
    choice = template_question(kind="choice", data=DATA, rng=rng)
    options = dict(re.findall(r"([A-D])\. (.+?)(?= [A-D]\. |$)", choice.question))
    values = dict(DATA.items)
    assert values[options[choice.answer]] == max(values[label] for label in options.values())
    short = template_question(kind="short", data=DATA, rng=rng)
    label = short.question.removeprefix("What value is shown for ").rstrip("?")
    assert float(short.answer) == dict(DATA.items)[label]
    yes_no = template_question(kind="yes_no", data=DATA, rng=rng)
    assert yes_no.answer in ("Yes", "No")
    assert template_question(kind="unanswerable", data=DATA, rng=rng).answer == UNANSWERABLE_ANSWER
    assert "Apples is highest at 42" in template_question(kind="summary", data=DATA, rng=rng).answer


def test_template_questions_pass_the_checks_model_questions_must_pass():
    data = DocData(
        title="Parcels", items=(("Out for delivery", 5.0), ("Packed", 9.0), ("Sorted", 2.0), ("Shipped", 4.0))
    )
    for kind in ("short", "choice", "yes_no", "summary"):
        for seed in range(4):
            qa = template_question(kind=kind, data=data, rng=random.Random(seed))
            assert model_answer_is_grounded(
                kind=kind, question=qa.question, answer=qa.answer, code="", data=data
            )


def test_model_summaries_are_kept_only_when_they_describe_this_document():
    from pixmo_builders.docs.qa import first_sentence, summary_is_grounded

    data = DocData(title="Books borrowed from a library by genre", items=(("Mystery", 78.0), ("Travel", 34.0)))
    kept = "This chart shows a list of books borrowed from a library by genre, with a value for each genre."
    assert summary_is_grounded(summary=kept, data=data)
    assert summary_is_grounded(summary="Mystery books are borrowed most, at 78, and Travel least.", data=data)
    # A number the document does not show, the code instead of the document, or another subject.
    assert not summary_is_grounded(summary="The library lent 1000 books borrowed by genre last year.", data=data)
    assert not summary_is_grounded(summary="This code creates a bar chart of books borrowed by genre.", data=data)
    assert not summary_is_grounded(summary="The bread recipe needs precise measurements to succeed.", data=data)
    assert not summary_is_grounded(summary="Books by genre.", data=data)
    # A claim about the largest or smallest value must be true; code text is not a summary.
    assert not summary_is_grounded(summary="Books borrowed by genre, Travel being borrowed most.", data=data)
    assert summary_is_grounded(summary="Books borrowed by genre, Travel being borrowed least.", data=data)
    assert not summary_is_grounded(summary='Books borrowed by genre with "label+value" text.', data=data)
    assert first_sentence("It shows books by genre. It also shows 99 more.\nCode:") == "It shows books by genre."
