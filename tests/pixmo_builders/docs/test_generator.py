"""The docs generator end to end with the bundled text-only model (SmolLM2-135M-Instruct)."""

import os

import pytest

from pixmo_builders.docs.generator import DocsYield, generate_docs
from pixmo_builders.docs.release import write_docs_release
from pixmo_builders.docs.renderers import available_renderers
from pixmo_builders.reader import iter_samples
from pixmo_builders.schemas import DOCS
from pixmo_builders.validate import validate_release


@pytest.fixture(scope="module")
def bundled_chat():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    pipelines_errors = pytest.importorskip("pipelines.errors")
    from pixmo_builders.docs.chat import default_text_chat

    try:
        return default_text_chat()
    except pipelines_errors.ModelNotFoundError as error:
        pytest.skip(str(error))


def test_a_generated_docs_release_is_valid_and_records_its_yield(bundled_chat, tmp_path):
    manifest, stats = write_docs_release(
        chat=bundled_chat, n=1, location=str(tmp_path / "docs"), validation_fraction=0.0
    )
    assert stats.attempts == 1 and manifest["splits"]["train"]["rows"] == stats.rendered == 1
    assert validate_release(release=str(tmp_path / "docs")) == []
    assert "Generation yield" in (tmp_path / "docs" / "README.md").read_text()
    [sample] = list(iter_samples(str(tmp_path / "docs"), split="train"))
    assert sample.record["metas"][0]["code"] and sample.image_bytes.startswith(b"\x89PNG")
    assert sample.record["rows"][0]["questions"][-1]["answer"].startswith("This cannot be answered")


@pytest.mark.slow
def test_every_attempt_is_rendered_or_counted_as_a_failure(bundled_chat):
    renderers = {name: r for name, r in available_renderers().items() if name in ("graphviz", "vegalite")}
    if not renderers:
        pytest.skip("neither graphviz nor vl-convert is installed here")
    stats = DocsYield()
    rows = list(generate_docs(chat=bundled_chat, n=2, seed=1, renderers=renderers, stats=stats))
    assert stats.attempts == 2 and stats.rendered == len(rows) >= 1
    for row in rows:
        assert list(row.row) == list(DOCS.columns)
        kinds = row.meta["question_sources"]
        assert len(row.row["questions"]) == 5 and len(kinds) == 5
        assert row.row["questions"][-1]["answer"].startswith("This cannot be answered")
    assert stats.rendered + sum(stats.failures.values()) == stats.attempts
