"""`pixmo generate clocks` and `pixmo validate` through the real argparse entry point."""

import json
from pathlib import Path

from pixmo_cli.main import main

from .conftest import write_release


def test_generate_clocks_then_validate(tmp_path, capsys):
    release = tmp_path / "clocks"
    assert (
        main(
            ["generate", "clocks", "--n", "6", "--out", str(release), "--size", "64", "--shard-samples", "4"]
        )
        == 0
    )
    assert "wrote pixmo-clocks" in capsys.readouterr().out
    assert main(["validate", str(release)]) == 0
    shard = sorted((release / "shards").iterdir())[0]
    shard.write_bytes(shard.read_bytes() + b"\0" * 512)
    assert main(["validate", str(release)]) == 1
    assert f"{shard.relative_to(release)} has sha256" in capsys.readouterr().err


def test_bad_input_is_one_sentence_and_exit_code_2(tmp_path, capsys):
    assert main(["generate", "clocks", "--n", "0", "--out", str(tmp_path / "r")]) == 2
    assert "--n must be between 1" in capsys.readouterr().err
    assert main(["generate", "clocks", "--n", "2", "--out", str(tmp_path / "r"), "--size", "9"]) == 2
    assert "size must be between 32" in capsys.readouterr().err


def test_validate_takes_a_whole_release_or_one_dataset_folder_in_it(whole_release, capsys):
    assert main(["validate", whole_release]) == 0
    assert f"{whole_release}: valid (release of pixmo-points, pixmo-count)." in capsys.readouterr().out
    assert main(["validate", f"{whole_release}/pixmo-count"]) == 0
    assert "valid (dataset pixmo-count)" in capsys.readouterr().out
    index = json.loads((Path(whole_release) / "manifest.json").read_text())
    index["datasets"]["pixmo-count"]["splits"]["train"]["rows"] += 1
    (Path(whole_release) / "manifest.json").write_text(json.dumps(index))
    assert main(["validate", whole_release]) == 1
    assert "the index counts pixmo-count as train" in capsys.readouterr().err


def test_a_folder_that_is_no_release_is_a_sentence_and_exit_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "neither a release nor a dataset folder" in err and "Traceback" not in err


def test_an_old_release_validates_as_its_datasets_and_gets_its_index_on_request(tmp_path, capsys):
    old = write_release(str(tmp_path / "old"), index=False)
    assert main(["validate", old]) == 0
    captured = capsys.readouterr()
    assert "has no release index" in captured.err and "--write-index" in captured.err
    assert not (Path(old) / "manifest.json").exists()
    assert main(["validate", old, "--write-index"]) == 0
    assert "wrote" in capsys.readouterr().out and (Path(old) / "manifest.json").exists()
    assert main(["validate", old]) == 0
    assert "valid (release of pixmo-count, pixmo-points)" in capsys.readouterr().out
