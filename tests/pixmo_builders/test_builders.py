import glob
import hashlib

import pytest

from pixmo_builders.builders.explanations import PLACEHOLDER, build_point_explanations_rows
from pixmo_builders.builders.points import (
    build_count_rows,
    build_points_eval_rows,
    build_points_rows,
    distance_note,
)
from pixmo_builders.builders.sources import (
    CountSource,
    DialogueSource,
    ImageCaptionSource,
    PointExplanationSource,
    PointSetSource,
    PointsEvalSource,
    QuestionAnswerSource,
)
from pixmo_builders.builders.text import build_ask_model_anything_rows, build_cap_qa_rows, build_cap_rows
from pixmo_builders.manifest import ReleaseInfo
from pixmo_builders.schemas import DATASETS
from pixmo_builders.split import SplitPolicy
from pixmo_builders.validate import validate_release
from pixmo_builders.writer import ReleaseWriter

from .conftest import png_bytes


def _image(index: int) -> tuple[str, str, bytes]:
    data = png_bytes(index=index)
    return f"https://images.example/{index}.png", hashlib.sha256(data).hexdigest(), data


def _point_set(index: int, label: str, points, **kwargs) -> PointSetSource:
    url, sha, data = _image(index)
    return PointSetSource(
        image_url=url, image_sha256=sha, image=data, label=label, points_percent=points, **kwargs
    )


def test_points_group_per_image_and_label_and_flag_large_sets():
    many = [(float(i), 50.0) for i in range(41)]
    sources = [
        _point_set(1, "cat", [(10.0, 10.0)]),
        _point_set(1, "cat", [(20.0, 10.0), (10.0, 10.0)]),
        _point_set(1, "unicorn", [], not_present=True),
        _point_set(2, "bead", many, collection_method="counting"),
    ]
    rows = list(build_points_rows(sources))
    assert [r.row["label"] for r in rows] == ["cat", "unicorn", "bead"]
    assert (
        rows[0].row["points"] == [{"x": 10.0, "y": 10.0}, {"x": 20.0, "y": 10.0}]
        and rows[0].row["count"] == 2
    )
    assert rows[1].row["points"] == [] and rows[1].row["count"] == 0 and rows[1].meta["not_present"]
    assert rows[2].meta["over_40_points"] and rows[2].row["collection_method"] == "counting"
    with pytest.raises(ValueError, match="collection_method"):
        list(build_points_rows([_point_set(3, "x", [], collection_method="guessing")]))


def test_point_explanations_and_cap_qa_text():
    url, sha, data = _image(3)
    response = 'See the <points x1="10.0" y1="20.0" x2="30.5" y2="40.1" alt="red car">cars</points> here.'
    [row] = [
        r.row
        for r in build_point_explanations_rows(
            [
                PointExplanationSource(
                    image_url=url, image_sha256=sha, image=data, question="Where?", response=response
                )
            ]
        )
    ]
    assert row["parsed_response"] == f"See the {PLACEHOLDER} here."
    assert row["alt_text"] == ["red car"] and row["inline_text"] == ["cars"]
    assert row["points"] == [[{"x": 10.0, "y": 20.0}, {"x": 30.5, "y": 40.1}]]
    [qa] = [
        r.row
        for r in build_cap_qa_rows(
            [DialogueSource(image_url=url, image_sha256=sha, image=data, turns=[("q1", "a1"), ("q2", "a2")])]
        )
    ]
    assert qa == {"image_url": url, "question": "[USER] q1 [ASSISTANT] a1 [USER] q2", "answer": "a2"}


def test_points_eval_needs_one_mask_per_instance():
    url, sha, data = _image(4)
    with pytest.raises(ValueError, match="one mask per instance"):
        list(
            build_points_eval_rows(
                [
                    PointsEvalSource(
                        image_url=url,
                        image_sha256=sha,
                        image=data,
                        label="cat",
                        points_percent=[(1.0, 1.0)],
                        masks=[[[True]], [[False]]],
                    )
                ]
            )
        )


def _sources_for(dataset: str, images: int):
    for index in range(images):
        url, sha, data = _image(index)
        common = {"image_url": url, "image_sha256": sha, "image": data}
        if dataset == "pixmo-cap":
            yield ImageCaptionSource(
                **common, caption=f"A red square number {index}.", transcripts=["um a red square"]
            )
        elif dataset == "pixmo-ask-model-anything":
            yield QuestionAnswerSource(**common, question="What colour?", answer="Red.")
        elif dataset == "pixmo-cap-qa":
            yield DialogueSource(**common, turns=[("What is it?", "A square.")])
        elif dataset == "pixmo-point-explanations":
            yield PointExplanationSource(
                **common, question="Where?", response='<point x="5.0" y="6.0" alt="dot">dot</point>'
            )
        elif dataset == "pixmo-count":
            yield CountSource(**common, label="dot", count=2, points_px=[(1.0, 2.0), (3.0, 4.0)])
        elif dataset == "pixmo-points-eval":
            yield PointsEvalSource(
                **common, label="dot", points_percent=[(5.0, 5.0)], masks=[[[True, False], [False, False]]]
            )
        else:
            yield PointSetSource(**common, label="dot", points_percent=[(5.0, 5.0)])


BUILDERS = {
    "pixmo-cap": build_cap_rows,
    "pixmo-points": build_points_rows,
    "pixmo-points-eval": build_points_eval_rows,
    "pixmo-ask-model-anything": build_ask_model_anything_rows,
    "pixmo-cap-qa": build_cap_qa_rows,
    "pixmo-point-explanations": build_point_explanations_rows,
    "pixmo-count": build_count_rows,
}


@pytest.mark.parametrize("dataset", sorted(BUILDERS))
def test_every_human_dataset_writes_a_valid_release_that_datasets_loads(dataset, tmp_path):
    datasets = pytest.importorskip("datasets")
    policy = (
        SplitPolicy(fixed_split="test")
        if dataset == "pixmo-points-eval"
        else SplitPolicy(validation_fraction=0.0)
    )
    notes = (distance_note(threshold_percent=5.0),) if dataset == "pixmo-points-eval" else ()
    release = tmp_path / "release"
    manifest = ReleaseWriter(
        location=str(release),
        info=ReleaseInfo(dataset=dataset, notes=notes),
        split_policy=policy,
        shard_max_samples=3,
    ).write_all(BUILDERS[dataset](_sources_for(dataset, 7)))
    assert validate_release(release=str(release)) == []
    [split] = manifest["splits"]
    files = sorted(glob.glob(str(release / "data" / f"{split}-*.parquet")))
    loaded = datasets.load_dataset("parquet", data_files={split: files}, cache_dir=str(tmp_path / "hf"))[
        split
    ]
    assert loaded.column_names == list(DATASETS[dataset].columns) and len(loaded) == 7
