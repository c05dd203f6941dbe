"""A crashed docs run resumes from its journal: attempts already made cost no model call."""

import pytest

from pixmo_builders.docs.journal import PREFIX
from pixmo_builders.docs.release import write_docs_release
from pixmo_builders.docs.renderers import available_renderers
from pixmo_builders.reader import iter_rows
from pixmo_builders.validate import validate_release

CALLS_PER_ATTEMPT = 6  # data, code, four questions


class Crash(Exception):
    pass


class ScriptedChat:
    """A text model that answers every prompt with one fixed line (so every attempt falls back to
    the templates), counts its calls, and can die at a given call like a killed worker."""

    identity = {"name": "scripted", "revision": "1"}

    def __init__(self, *, crash_at: int | None = None) -> None:
        self.calls = 0
        self.crash_at = crash_at

    def chat(self, messages, *, max_new_tokens: int) -> str:
        self.calls += 1
        if self.crash_at is not None and self.calls >= self.crash_at:
            raise Crash()
        return "I am not sure."


@pytest.fixture
def renderers():
    usable = {name: r for name, r in available_renderers().items() if name in ("graphviz", "latex")}
    if len(usable) < 2:
        pytest.skip("graphviz and latex are needed here")
    return usable


def _rows(location):
    return [(row["image_id"], row["questions"]) for split in ("train",) for row in iter_rows(location, split=split)]


def test_a_resumed_run_replays_finished_attempts_without_the_model(tmp_path, renderers):
    location = str(tmp_path / "docs")
    crashing = ScriptedChat(crash_at=3 * CALLS_PER_ATTEMPT + 2)
    with pytest.raises(Crash):
        write_docs_release(chat=crashing, n=6, location=location, validation_fraction=0.0, renderers=renderers)
    assert len(list((tmp_path / "docs" / PREFIX).glob("*.json"))) == 3

    resumed = ScriptedChat()
    manifest, stats = write_docs_release(
        chat=resumed, n=6, location=location, validation_fraction=0.0, renderers=renderers
    )
    assert resumed.calls == 3 * CALLS_PER_ATTEMPT, "only the three unfinished attempts call the model"
    assert stats.replayed == 3 and stats.attempts == 6 and stats.rendered == 6
    assert manifest["splits"]["train"]["rows"] == 6
    assert validate_release(release=location) == []
    assert not (tmp_path / "docs" / "_work").exists() or not any((tmp_path / "docs" / "_work").rglob("*.json"))

    clean = str(tmp_path / "clean")
    write_docs_release(chat=ScriptedChat(), n=6, location=clean, validation_fraction=0.0, renderers=renderers)
    assert _rows(location) == _rows(clean)


def test_a_run_under_another_model_does_not_resume_the_journal(tmp_path, renderers):
    location = str(tmp_path / "docs")
    with pytest.raises(Crash):  # two attempts made, each committed in a one-sample shard
        write_docs_release(chat=ScriptedChat(crash_at=2 * CALLS_PER_ATTEMPT + 1), n=3, location=location,
                           validation_fraction=0.0, renderers=renderers, shard_max_samples=1)

    class OtherModel(ScriptedChat):
        identity = {"name": "another model", "revision": "2"}

    other = OtherModel()
    with pytest.raises(ValueError, match="other settings"):
        write_docs_release(chat=other, n=3, location=location, validation_fraction=0.0, renderers=renderers,
                           shard_max_samples=1)
    assert other.calls == 0


def test_a_journal_record_from_other_settings_is_made_again(tmp_path):
    from pixmo_builders.docs.journal import StorageJournal
    from pixmo_builders.storage import open_storage

    storage = open_storage(location=str(tmp_path / "j"))
    StorageJournal(storage=storage, fingerprint="a").put(0, {"outcome": "render_failed", "renderer": "latex"})
    assert StorageJournal(storage=storage, fingerprint="a").get(0) == {"outcome": "render_failed", "renderer": "latex"}
    assert StorageJournal(storage=storage, fingerprint="b").get(0) is None
