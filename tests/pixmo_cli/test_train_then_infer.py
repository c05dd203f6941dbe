"""The README's way through training: `pixmo train --out RUN`, then `pixmo infer --checkpoint RUN`
(and `pixmo eval`) on the folder train wrote, each as its own process."""

import json

from PIL import Image

from pixmo_cli.commands.train import answer_line
from tests.pixmo_cli.conftest import pixmo


def test_infer_and_eval_take_the_run_folder_train_wrote(clocks_folder, tmp_path):
    run = tmp_path / "run"
    trained = pixmo("train", "--config", "tiny", "--data", clocks_folder, "--steps", "2", "--out", str(run))
    assert trained.returncode == 0, trained.stderr
    assert "step 2: loss" in trained.stdout
    image = tmp_path / "street.png"
    Image.new("RGB", (96, 64), (90, 120, 160)).save(image)
    png = tmp_path / "street.points.png"

    answered = pixmo("infer", "--checkpoint", str(run), "--image", str(image), "--prompt", "Point to the person",
                     "--max-new-tokens", "6")  # fmt: skip
    assert answered.returncode == 0, answered.stderr
    answer, drawn = answered.stdout.splitlines()[-2:]
    assert answer.strip(), answered.stdout  # an empty answer is said in words, never a blank line
    assert drawn.endswith(f"points drawn to {png}") and Image.open(png).size == (96, 64)

    scored = pixmo(
        "eval", "--checkpoint", str(run), "--data", clocks_folder, "--limit", "1", "--max-new-tokens", "4"
    )
    assert scored.returncode == 0, scored.stderr
    assert '"dataset": "pixmo-clocks"' in scored.stdout
    written = json.loads(
        (run / "eval" / "pixmo-clocks.validation.json").read_text()
    )  # what the dashboard shows
    assert (
        written["dataset"] == "pixmo-clocks" and written["n_clock"] >= 1 and 0 <= written["clock_exact"] <= 1
    )


def test_an_empty_answer_is_said_as_such():
    assert answer_line("") == "(the model answered nothing)"
    assert answer_line(" \n ") == "(the model answered nothing)"
    assert (
        answer_line('<point x="1.0" y="2.0" alt="man">man</point>')
        == '<point x="1.0" y="2.0" alt="man">man</point>'
    )


def test_molmo2_family_from_train_to_a_warm_start_to_infer_and_eval(clocks_folder, tmp_path):
    """`--config molmo2_tiny` trains transformers' Molmo2; its run folder feeds --init-from of the
    next run, and infer and eval load the native export; each a process of its own."""
    first, second = tmp_path / "m2a", tmp_path / "m2b"
    trained = pixmo(
        "train", "--config", "molmo2_tiny", "--data", clocks_folder, "--steps", "4", "--out", str(first)
    )
    assert trained.returncode == 0, trained.stderr
    assert json.loads((first / "model" / "config.json").read_text())["model_type"] == "molmo2"
    warm = pixmo("train", "--config", "molmo2_tiny", "--init-from", str(first), "--data", clocks_folder,
                 "--steps", "2", "--out", str(second))  # fmt: skip
    assert warm.returncode == 0, warm.stderr
    assert json.loads((second / "config.json").read_text())["init_from"] == str(first / "model")

    image = tmp_path / "card.png"
    Image.new("RGB", (80, 60), (200, 180, 40)).save(image)
    answered = pixmo("infer", "--checkpoint", str(second), "--image", str(image), "--prompt", "Point to the card",
                     "--max-new-tokens", "5")  # fmt: skip
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.splitlines()[-1].endswith(f"points drawn to {tmp_path / 'card.points.png'}")
    scored = pixmo(
        "eval", "--checkpoint", str(second), "--data", clocks_folder, "--limit", "1", "--max-new-tokens", "4"
    )
    assert scored.returncode == 0, scored.stderr
    assert json.loads((second / "eval" / "pixmo-clocks.validation.json").read_text())["n_clock"] >= 1


def test_init_from_the_wrong_family_or_folder_is_one_sentence(clocks_folder, tmp_path):
    molmo_run = tmp_path / "molmo"
    assert (
        pixmo(
            "train", "--config", "tiny", "--data", clocks_folder, "--steps", "1", "--out", str(molmo_run)
        ).returncode
        == 0
    )
    wrong = pixmo("train", "--config", "molmo2_tiny", "--init-from", str(molmo_run), "--data", clocks_folder,
                  "--steps", "1", "--out", str(tmp_path / "x"))  # fmt: skip
    assert wrong.returncode == 2
    assert "is not a Molmo2 checkpoint folder (config.json with model_type molmo2)" in wrong.stderr
    missing = pixmo("train", "--config", "molmo2_tiny", "--init-from", str(tmp_path / "nowhere"), "--data",
                    clocks_folder, "--out", str(tmp_path / "y"))  # fmt: skip
    assert missing.returncode == 2 and "--init-from:" in missing.stderr and "does not exist" in missing.stderr
