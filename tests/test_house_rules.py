"""The rules of the house between the top-level parts: every door opens one way, so each lower
room runs and tests on its own. Read from the source (imports at the top and inside functions)."""

import sys
from pathlib import Path

import pytest

from tests.pixmo_formats.test_imports import _imported_tops

ROOT = Path(__file__).resolve().parents[1]
PARTS = {"annotation_app", "pipelines", "pixmo_builders", "training", "pixmo_formats", "pixmo_cli", "devtools"}
MAY_IMPORT = {
    "pixmo_cli": {"annotation_app", "pixmo_builders", "pipelines", "training", "pixmo_formats"},
    "annotation_app": {"pixmo_builders", "pipelines", "pixmo_formats"},
    "pixmo_builders": {"pipelines", "pixmo_formats"},
    "training": {"pixmo_builders", "pixmo_formats"},
    "pipelines": {"pixmo_formats"},
    "pixmo_formats": set(),
    "devtools": set(),
}
NEVER_IMPORT = {"pipelines": {"django"}, "pixmo_builders": {"django"}, "training": {"django"}, "pixmo_formats": {"django"}}


def _breaches(part: str) -> dict[str, set[str]]:
    allowed = MAY_IMPORT[part] | {part}
    found = {}
    for path in sorted((ROOT / part).rglob("*.py")):
        tops = _imported_tops(path)
        bad = (tops & PARTS - allowed) | (tops & NEVER_IMPORT.get(part, set()))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


@pytest.mark.parametrize("part", sorted(MAY_IMPORT))
def test_each_part_imports_only_the_rooms_below_it(part):
    assert _breaches(part) == {}


def test_the_checker_sees_a_breach(tmp_path, monkeypatch):
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "bad.py").write_text("def f():\n    from annotation_app.models import Image\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _breaches("pipelines") == {"pipelines/bad.py": {"annotation_app"}}
