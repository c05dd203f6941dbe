"""The browser's pointtext.js over the shared point-text vectors (pixmo_formats/vectors/point_text.json),
the same cases tests/pixmo_formats/test_point_text.py runs the Python reader over. Runs in Node where
it is installed, else in Debian's Chromium."""

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from pixmo_formats.points import find_point_tags

POINTTEXT = Path(__file__).resolve().parents[2] / "annotation_app/static/annotation_app/ui/pointtext.js"
VECTORS = json.loads(resources.files("pixmo_formats").joinpath("vectors/point_text.json").read_text())
TEXTS = [case["text"] for case in VECTORS["parse"]] + [case["text"] for case in VECTORS["render"]]

NODE_RUNNER = """
import { readFileSync } from "node:fs";
const { parsePointTags, parsePointText } = await import(process.argv[2]);
const texts = JSON.parse(readFileSync(0, "utf8"));
console.log(JSON.stringify(texts.map((text) => [parsePointTags(text), parsePointText(text)])));
"""
BROWSER_RUNNER = """([source, texts]) => {
  const module = new Function(source.replaceAll("export function", "function")
    + "\\nreturn { parsePointTags, parsePointText };")();
  return texts.map((text) => [module.parsePointTags(text), module.parsePointText(text)]);
}"""


@pytest.fixture(scope="module")
def parsed(request, tmp_path_factory) -> list:
    """[(parsePointTags(text), parsePointText(text))] for every text in the vectors."""
    node = shutil.which("node")
    if node:
        folder = tmp_path_factory.mktemp("pointtext")
        (folder / "pointtext.mjs").write_text(POINTTEXT.read_text())
        (folder / "run.mjs").write_text(NODE_RUNNER)
        result = subprocess.run(
            [node, str(folder / "run.mjs"), (folder / "pointtext.mjs").as_uri()],
            input=json.dumps(TEXTS),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)
    from tests.annotation_app.browser_support import launch

    browser = launch(request.getfixturevalue("playwright"))
    try:
        return browser.new_page().evaluate(BROWSER_RUNNER, [POINTTEXT.read_text(), TEXTS])
    finally:
        browser.close()


def _tags(pieces) -> list[dict]:
    return [
        {
            "name": p["tag"],
            "alt": p["alt"],
            "text": p["text"],
            "points": [[q["x"], q["y"]] for q in p["points"]],
            "malformed": p["malformed"],
        }
        for p in pieces
        if "points" in p
    ]


@pytest.mark.parametrize("index", range(len(VECTORS["parse"])), ids=[c["name"] for c in VECTORS["parse"]])
def test_pointtext_reads_the_tags_the_python_reader_reads(parsed, index):
    case = VECTORS["parse"][index]
    pieces, drawn = parsed[index]
    assert _tags(pieces) == case["tags"]
    assert [p["text"] for p in pieces if "points" not in p] == _gaps(case["text"])
    for piece, shown in zip(pieces, drawn, strict=True):
        if "points" in piece:
            assert shown["label"] == (piece["text"] if piece["alt"] is None else piece["alt"])
            assert shown["points"] == [
                p for p in piece["points"] if 0 <= p["x"] <= 100 and 0 <= p["y"] <= 100
            ]
        else:
            assert shown == piece


@pytest.mark.parametrize("index", range(len(VECTORS["render"])), ids=[c["name"] for c in VECTORS["render"]])
def test_pointtext_reads_back_what_python_renders(parsed, index):
    case = VECTORS["render"][index]
    pieces, _ = parsed[len(VECTORS["parse"]) + index]
    rounded = sorted([round(x, 1), round(y, 1)] for x, y in case["points"])
    assert [point for tag in _tags(pieces) for point in tag["points"]] == rounded


def _gaps(text: str) -> list[str]:
    """The non-empty stretches of `text` between the tags that the Python reader finds."""
    gaps, last = [], 0
    for tag in find_point_tags(text):
        gaps.append(text[last : tag.start])
        last = tag.end
    return [gap for gap in [*gaps, text[last:]] if gap]
