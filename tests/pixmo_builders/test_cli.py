"""`pixmo generate clocks` and `pixmo validate` through the real argparse entry point."""

from pixmo_cli.main import main


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
