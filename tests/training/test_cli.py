import shutil

from PIL import Image

from pixmo_cli.main import main


def test_image_tokens_prints_tiling_and_count(capsys):
    assert main(["image-tokens", "1024", "768"]) == 0
    out = capsys.readouterr().out
    assert "tiling 3 rows x 4 cols" in out and "image tokens 1196" in out
    assert main(["image-tokens", "336", "336", "--max-crops", "4"]) == 0
    assert "image tokens 316" in capsys.readouterr().out


def test_image_tokens_bad_input_is_one_sentence(capsys):
    assert main(["image-tokens", "0", "10"]) == 2
    assert "at least 1x1" in capsys.readouterr().err
    assert main(["image-tokens", "10", "10", "--max-crops", "0"]) == 2


def test_train_then_infer_writes_points_png(clocks_release, tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(["train", "--config", "tiny", "--data", clocks_release, "--out", str(out), "--steps", "3"]) == 0
    )
    image = tmp_path / "face.png"
    Image.new("RGB", (80, 60), (10, 200, 30)).save(image)
    png = tmp_path / "points.png"
    code = main(["infer", "--checkpoint", str(out / "model"), "--image", str(image), "--prompt", "Point to the dial",
                 "--out", str(png), "--max-new-tokens", "8"])  # fmt: skip
    assert code == 0 and png.exists() and Image.open(png).size == (80, 60)
    assert "points drawn to" in capsys.readouterr().out


def test_train_rejects_a_missing_release(tmp_path, capsys):
    assert (
        main(["train", "--config", "tiny", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
        == 2
    )
    err = capsys.readouterr().err
    assert "neither a release nor a dataset folder" in err and "Traceback" not in err


def test_train_reads_the_datasets_of_a_whole_release(clocks_release, tmp_path, capsys):
    from pixmo_builders.manifest import release_index_write

    release = tmp_path / "nov"
    shutil.copytree(clocks_release, release / "pixmo-clocks")
    release_index_write(release=str(release), datasets=["pixmo-clocks"])
    out = tmp_path / "run"
    assert main(["train", "--config", "tiny", "--data", str(release), "--out", str(out), "--steps", "2"]) == 0
    assert "step 2: loss" in capsys.readouterr().out


def test_eval_scores_one_dataset_and_says_which_folder_to_name(tmp_path, capsys):
    from tests.pixmo_builders.conftest import write_release

    release = write_release(str(tmp_path / "nov"))
    assert main(["eval", "--checkpoint", str(tmp_path / "none"), "--data", release]) == 2
    assert f"eval scores one dataset: name its folder, e.g. {release}/pixmo-points" in capsys.readouterr().err
    assert main(["eval", "--checkpoint", str(tmp_path / "none"), "--data", str(tmp_path / "nothing")]) == 2
    assert "neither a release nor a dataset folder" in capsys.readouterr().err
