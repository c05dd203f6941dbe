import re

import pytest

from pipelines.prompt_library import TEMPLATES
from pipelines.prompts import all_prompts, get_prompt
from pipelines.provenance import text_sha256

PLACEHOLDERS = {
    "refine.single": {"transcript"},
    "refine.merge": {"count", "transcripts"},
    "refine.sentence": {"sentence"},
    "qa.answer": {"caption", "ocr_text", "question"},
    "qa.revise": {"feedback", "question"},
    "qa.point_answer": {"caption", "ocr_text", "points", "question"},
    "qa.point_revise": {"feedback", "question"},
    "capqa.dialogue": {"caption", "turns"},
}


def test_every_template_uses_exactly_its_documented_placeholders():
    for template in all_prompts():
        assert set(re.findall(r"{(\w+)}", template.user)) == PLACEHOLDERS[template.id], template.key


def test_hash_covers_system_and_user_text():
    template = get_prompt("refine.single@v1")
    assert template.sha256 == text_sha256(f"{template.system}\x00{template.user}")
    assert template.ref() == {"id": "refine.single@v1", "sha256": template.sha256}


def test_keys_are_unique_and_newest_version_wins():
    keys = [f"{entry['id']}@v{entry['version']}" for entry in TEMPLATES]
    assert len(keys) == len(set(keys))
    assert get_prompt("qa.answer").version == max(e["version"] for e in TEMPLATES if e["id"] == "qa.answer")


def test_render_gives_text_messages_and_refuses_missing_values():
    messages = get_prompt("refine.single").render(transcript="a red car")
    assert [m.role for m in messages] == ["system", "user"] and "a red car" in messages[1].content
    with pytest.raises(KeyError):
        get_prompt("refine.single").render()


def test_unknown_prompt_lists_the_known_ones():
    with pytest.raises(KeyError, match="refine.single@v1"):
        get_prompt("nope")
