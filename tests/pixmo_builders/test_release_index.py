"""The release index (`<release>/manifest.json`) and what a location is: release, dataset, or neither."""

import hashlib
import json
from pathlib import Path

import pytest

from pixmo_builders.card import filters_sentence
from pixmo_builders.manifest import (
    INDEX_FORMAT,
    KIND_DATASET,
    KIND_FOLDER,
    KIND_RELEASE,
    ReleaseNotFound,
    load_manifest,
    open_release,
)
from pixmo_builders.writer import ReleaseWriter

from .conftest import RELEASE_FILTERS, points_rows, write_release


def test_the_index_lists_every_file_counts_filters_and_code_version(whole_release):
    root = Path(whole_release)
    index = json.loads((root / "manifest.json").read_text())
    assert (index["format"], index["index_version"], index["name"]) == (INDEX_FORMAT, 1, "nov")
    assert index["filters"] == RELEASE_FILTERS
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(index["files"]) == on_disk  # every file but the index itself, keyed from the root
    for key, entry in index["files"].items():
        data = (root / key).read_bytes()
        assert (entry["sha256"], entry["bytes"]) == (hashlib.sha256(data).hexdigest(), len(data)), key
    for path, entry in index["datasets"].items():
        manifest = json.loads((root / path / "manifest.json").read_text())
        assert entry["splits"] == {s: {"rows": v["rows"], "samples": v["samples"]} for s, v in manifest["splits"].items()}
        assert entry["code_version"] == manifest["code_version"] and entry["schema_version"] == "1.0"
        assert entry["manifest_sha256"] == index["files"][f"{path}/manifest.json"]["sha256"]
    assert index["code_version"].startswith(("git:", "pixmo-studio==", "unknown"))


def test_the_index_is_written_after_every_other_file(whole_release):
    files = [p for p in Path(whole_release).rglob("*") if p.is_file()]
    newest = max(files, key=lambda p: p.stat().st_mtime_ns)
    assert newest == Path(whole_release) / "manifest.json"


def test_the_release_card_shows_counts_as_a_table_and_filters_as_a_sentence(whole_release):
    card = (Path(whole_release) / "README.md").read_text()
    assert "| dataset | train | validation |" in card and "| pixmo-count |" in card
    assert "Filters: Accepted rows only, from all projects, by all annotators." in card
    dataset_card = (Path(whole_release) / "pixmo-points" / "README.md").read_text()
    assert "Filters: Accepted rows only, from all projects, by all annotators." in dataset_card
    assert "{'" not in card and "{'" not in dataset_card


def test_open_release_tells_a_release_from_a_dataset_folder_and_an_old_folder(whole_release, tmp_path):
    layout = open_release(location=whole_release)
    assert layout.kind == KIND_RELEASE and layout.names() == ["pixmo-points", "pixmo-count"]
    inside = open_release(location=f"{whole_release}/pixmo-count/")
    assert inside.kind == KIND_DATASET and inside.names() == ["pixmo-count"]
    old = open_release(location=write_release(str(tmp_path / "old"), index=False))
    assert old.kind == KIND_FOLDER and sorted(old.names()) == ["pixmo-count", "pixmo-points"]
    assert "--write-index" in old.describe()


def test_a_folder_that_is_no_release_is_one_sentence(tmp_path):
    with pytest.raises(ReleaseNotFound, match="neither a release nor a dataset folder"):
        open_release(location=str(tmp_path / "nothing"))
    unfinished = tmp_path / "half"
    with pytest.raises(RuntimeError):
        ReleaseWriter(location=str(unfinished / "pixmo-points"), info=_info(), shard_max_samples=2).write_all(_crash())
    with pytest.raises(ReleaseNotFound, match="export of pixmo-points has not finished"):
        open_release(location=str(unfinished))
    with pytest.raises(ReleaseNotFound, match="dataset export that has not finished"):
        open_release(location=str(unfinished / "pixmo-points"))


def test_an_index_naming_a_missing_dataset_is_refused_by_readers(whole_release):
    manifest = Path(whole_release) / "pixmo-count" / "manifest.json"
    manifest.unlink()
    with pytest.raises(ReleaseNotFound, match="lists the dataset .*pixmo-count, which holds no manifest.json"):
        open_release(location=whole_release)


def test_a_one_dataset_reader_given_a_whole_release_names_a_folder(whole_release):
    with pytest.raises(ValueError, match="is a whole release of 2 dataset.*name its folder, e.g. .*/pixmo-points"):
        load_manifest(release=whole_release)


@pytest.mark.parametrize(
    ("filters", "sentence"),
    [
        (RELEASE_FILTERS, "Accepted rows only, from all projects, by all annotators."),
        ({"projects": ["caps"], "annotators": ["anna", "otto"], "since": "2026-01-01", "until": "2026-02-01",
          "accepted_only": False},
         ("Rows whether or not a reviewer accepted them, from project caps, by annotators anna and otto, "
          "made from 2026-01-01 until before 2026-02-01.")),
        ({"generator": "pixmo_builders.clocks", "n": 64, "seed": 0, "size_px": 96},
         "Generated by pixmo_builders.clocks with n 64, seed 0 and size px 96."),
        ({}, "None; every row was included."),
    ],
)
def test_filters_read_as_a_sentence(filters, sentence):
    assert filters_sentence(filters) == sentence


def _info():
    from pixmo_builders.manifest import ReleaseInfo

    return ReleaseInfo(dataset="pixmo-points")


def _crash():
    for index, row in enumerate(points_rows(images=6)):
        if index == 7:
            raise RuntimeError("worker lost")
        yield row
