import hashlib
import io
import random

import pytest
from PIL import Image

from training.formatting import format_example, style_for

QUESTION = {"question": "What is the largest value?", "answer": "42"}


def test_style_derives_from_dataset_and_config_names():
    assert style_for("pixmo-docs", "charts").name == "pixmo_docs_charts"
    assert style_for("pixmo-docs", "diagrams").name == "pixmo_docs_diagrams"
    assert style_for("pixmo-docs").name == "pixmo_docs"
    assert style_for("pixmo-clocks").name == "pixmo_clocks"
    assert style_for("pixmo-cap-qa").name == "pixmo_cap_qa"
    assert style_for("pixmo-point-explanations").name == "point_qa"  # Molmo's name for it
    # synthetic and academic sets always carry their prefix; chat-style PixMo tasks 10% of the time
    assert style_for("pixmo-docs", "charts").always and style_for("pixmo-point-explanations").always
    assert not any(style_for(k).always for k in ("pixmo-cap", "pixmo-points", "pixmo-count"))


def test_config_overrides_take_dataset_config_then_dataset():
    overrides = {"pixmo-docs/charts": "chartqa", "pixmo-docs": "docqa", "pixmo-clocks": ""}
    assert style_for("pixmo-docs", "charts", overrides).name == "chartqa"
    assert style_for("pixmo-docs", "tables", overrides).name == "docqa"
    clocks = format_example(
        "pixmo-clocks",
        "sft",
        [{"text": "7:57 AM"}],
        random.Random(0),
        (5, 5),
        style_for("pixmo-clocks", None, overrides),
    )
    assert clocks[0].prompt == " User: What time is being shown? Assistant:"  # "" = no prefix


def test_chat_style_tasks_carry_their_prefix_a_tenth_of_the_time():
    rows = [{"question": "What colour is it?", "answer": "Red."}]
    prompts = [
        format_example("pixmo-ask-model-anything", "sft", rows, random.Random(i), (5, 5))[0].prompt
        for i in range(1000)
    ]
    share = sum(p.startswith(" User: user_qa: ") for p in prompts) / len(prompts)
    assert 0.07 < share < 0.13
    docs = format_example("pixmo-docs", "sft", [{"questions": [QUESTION]}], random.Random(0), (5, 5),
                          style_for("pixmo-docs", "tables"))  # fmt: skip
    assert docs[0].prompt == f" User: pixmo_docs_tables: {QUESTION['question']} Assistant:"


def test_cap_qa_prefix_goes_on_the_first_user_turn_only():
    rows = [{"question": "[USER] What is it? [ASSISTANT] A dog. [USER] Is it big?", "answer": "Yes."}]
    (ann,) = format_example("pixmo-cap-qa", "sft", rows, random.Random(0), (5, 5))
    assert ann.turns[0][0] == " User: pixmo_cap_qa: What is it? Assistant:"
    assert ann.turns[1][0] == " User: Is it big? Assistant:"


def write_docs_release(location: str, configs: list[str]) -> None:
    """A pixmo-docs release as the builders' generator writes it: one row per document, its
    config (charts, tables, ...) in the row's shard meta."""
    from pixmo_builders.manifest import ReleaseInfo
    from pixmo_builders.split import SplitPolicy
    from pixmo_builders.writer import ExportRow, ReleaseWriter

    writer = ReleaseWriter(location=location, info=ReleaseInfo(dataset="pixmo-docs"),
                           split_policy=SplitPolicy(validation_fraction=0.0), shard_max_samples=8)  # fmt: skip
    with writer:
        for i, config in enumerate(configs):
            buffer = io.BytesIO()
            Image.new("RGB", (40 + i, 30), (i * 20, 100, 200)).save(buffer, "PNG")
            png = buffer.getvalue()
            row = {"image": {"bytes": png, "path": f"{config}-{i}.png"}, "image_id": f"{config}-0-{i:06d}",
                   "questions": [QUESTION]}  # fmt: skip
            sha = hashlib.sha256(png).hexdigest()
            writer.add(ExportRow(row=row, image_sha256=sha, image=png, meta={"config": config}))
        writer.finish()


@pytest.mark.parametrize("overrides", [{}, {"pixmo-docs/tables": "table_qa"}])
def test_stream_prefixes_each_docs_image_by_its_config(tmp_path, tiny_parts, overrides):
    """Through the real data path (shard reader -> formatting -> tokens): a docs release mixing
    charts and tables gives each image its own config's prefix, overridable in DataConfig.styles."""
    from training import presets
    from training.data import PackedStream, release_summary

    _, tok, pre = tiny_parts
    write_docs_release(str(tmp_path / "docs"), ["charts", "tables"] * 3)
    data = presets.run("tiny").data
    data.images_per_batch, data.shuffle_buffer, data.styles = 6, 1, overrides
    batch = next(iter(PackedStream([release_summary(str(tmp_path / "docs"), "train")], data, pre, tok)))
    text = tok.decode(batch["input_ids"].flatten().tolist())
    tables = overrides.get("pixmo-docs/tables", "pixmo_docs_tables")
    assert text.count("User: pixmo_docs_charts: What is") + text.count(f"User: {tables}: What is") == 6
    assert text.count(f"User: {tables}: What is") > 0 and text.count("pixmo_docs_charts") > 0
