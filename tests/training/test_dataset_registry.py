"""Training reads every dataset fact from pixmo_builders' registry: adding a dataset of a known
task there is the only change it needs."""

import dataclasses
import random

import pytest

from pixmo_builders import schemas
from training.data import DataConfig, default_groups
from training.evaluate import _questions
from training.formatting import FORMATTERS, format_example, style_for


def test_every_registered_dataset_has_a_formatter_a_group_and_a_style():
    assert set(default_groups()) == set(schemas.DATASETS)
    for name, schema in schemas.DATASETS.items():
        assert (schema.task, "sft") in FORMATTERS, name
        assert style_for(name).name


def test_the_derived_tables_are_the_molmo_recipes():
    assert default_groups() == {
        "pixmo-cap": "chat", "pixmo-ask-model-anything": "chat", "pixmo-cap-qa": "chat",
        "pixmo-point-explanations": "chat", "pixmo-docs": "academic", "pixmo-clocks": "academic",
        "pixmo-points": "pointing", "pixmo-points-eval": "pointing", "pixmo-count": "pointing",
    }  # fmt: skip
    styles = {name: (style_for(name).name, style_for(name).always) for name in schemas.DATASETS}
    assert styles == {
        "pixmo-cap": ("long_caption", False), "pixmo-points": ("pointing", False),
        "pixmo-points-eval": ("pointing", False), "pixmo-count": ("point_count", False),
        "pixmo-ask-model-anything": ("user_qa", False), "pixmo-cap-qa": ("pixmo_cap_qa", True),
        "pixmo-point-explanations": ("point_qa", True), "pixmo-docs": ("pixmo_docs", True),
        "pixmo-clocks": ("pixmo_clocks", True),
    }  # fmt: skip


@pytest.fixture
def new_dataset(monkeypatch):
    """A dataset registered only in pixmo_builders: spoken captions of a new image source."""
    schema = dataclasses.replace(schemas.CAP, name="pixmo-cap-sketches")
    monkeypatch.setitem(schemas.DATASETS, schema.name, schema)
    return schema.name


def test_a_dataset_added_to_the_registry_trains_and_scores_as_its_task(new_dataset):
    rows = [{"caption": "A pencil sketch of a cat.", "transcripts": []}]
    (ann,) = format_example(new_dataset, "pretrain", rows, random.Random(0), (10, 10))
    assert ann.prompt.startswith("long_caption") and ann.answer == " A pencil sketch of a cat."
    assert style_for(new_dataset).name == "long_caption" and not style_for(new_dataset).always
    assert DataConfig().groups[new_dataset] == "chat"
    assert [q[0] for q in _questions(new_dataset, rows, (10, 10))] == ["caption"]


def test_clock_evaluation_prompt_carries_the_trained_prefix():
    ((_, prompt, truth),) = _questions("pixmo-clocks", [{"text": "7:57 PM"}], (5, 5))
    assert prompt == "pixmo_clocks: What time is being shown?" and truth == (7, 57)  # scored on the dial
    ((_, _, truth),) = _questions("pixmo-clocks", [{"text": "5:12 PM", "hour_visible": 17, "minute_visible": 12}], (5, 5))
    assert truth == (5, 12)
