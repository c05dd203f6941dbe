import glob
import io
import random

import pytest
from PIL import Image

from pixmo_builders.clock_faces import face_catalogue
from pixmo_builders.clock_render import ClockTime, render_clock
from pixmo_builders.clocks import clock_answer, generate_clocks, write_clocks_release
from pixmo_builders.schemas import CLOCKS
from pixmo_builders.validate import validate_release


def test_answers_and_hidden_hands():
    assert clock_answer(time=ClockTime(hour=7, minute=57, second=39), shows_seconds=True) == "7:57:39 AM"
    assert clock_answer(time=ClockTime(hour=0, minute=5, second=0), shows_seconds=False) == "12:05 AM"
    assert clock_answer(time=ClockTime(hour=13, minute=0, second=0), shows_seconds=False) == "1:00 PM"
    with pytest.raises(ValueError, match="not a time of day"):
        ClockTime(hour=24, minute=0, second=0)


def test_rows_carry_the_released_columns_and_are_reproducible():
    first = list(generate_clocks(n=12, seed=4, size=96))
    again = list(generate_clocks(n=12, seed=4, size=96))
    assert [r.image for r in first] == [r.image for r in again]
    for item in first:
        assert list(item.row) == list(CLOCKS.columns)
        assert (item.row["second_visible"] == -1) != item.row["shows_seconds"]
        assert Image.open(io.BytesIO(item.row["image"]["bytes"])).size == (96, 96)
    assert len({r.row["watchface_id"] for r in first}) > 5
    assert {r.row["shows_seconds"] for r in first} == {True, False}


def test_hands_move_with_the_time():
    face = face_catalogue(count=1)[0]
    draw = lambda hour: render_clock(
        face=face,
        time=ClockTime(hour=hour, minute=0, second=0),
        shows_seconds=False,
        size=96,
        rng=random.Random(0),
    )
    assert draw(3).tobytes() != draw(9).tobytes()


def test_a_clocks_release_is_complete_valid_and_readable_by_real_clients(tmp_path):
    datasets = pytest.importorskip("datasets")
    webdataset = pytest.importorskip("webdataset")
    release = tmp_path / "clocks"
    manifest = write_clocks_release(
        n=24, location=str(release), size=64, validation_fraction=0.0, shard_max_samples=10
    )
    assert manifest["splits"]["train"]["rows"] == 24
    assert validate_release(release=str(release)) == []
    files = sorted(glob.glob(str(release / "data" / "train-*.parquet")))
    loaded = datasets.load_dataset("parquet", data_files={"train": files}, cache_dir=str(tmp_path / "hf"))[
        "train"
    ]
    assert loaded.column_names == list(CLOCKS.columns) and len(loaded) == 24
    assert isinstance(loaded[0]["image"], Image.Image) and loaded[0]["text"].endswith("M")
    shards = sorted(glob.glob(str(release / "shards" / "train-*.tar")))
    samples = list(webdataset.WebDataset(shards, shardshuffle=False).decode("pil"))
    assert len(samples) == 24 and isinstance(samples[0]["jpg"], Image.Image)
    assert samples[0]["json"]["rows"][0]["text"] == loaded[0]["text"]
