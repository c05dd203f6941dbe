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

    scored = pixmo("eval", "--checkpoint", str(run), "--data", clocks_folder, "--limit", "1", "--max-new-tokens", "4")
    assert scored.returncode == 0, scored.stderr
    assert '"dataset": "pixmo-clocks"' in scored.stdout
    written = json.loads((run / "eval" / "pixmo-clocks.validation.json").read_text())  # what the dashboard shows
    assert written["dataset"] == "pixmo-clocks" and written["n_clock"] >= 1 and 0 <= written["clock_exact"] <= 1


def test_an_empty_answer_is_said_as_such():
    assert answer_line("") == "(the model answered nothing)"
    assert answer_line(" \n ") == "(the model answered nothing)"
    assert answer_line('<point x="1.0" y="2.0" alt="man">man</point>') == '<point x="1.0" y="2.0" alt="man">man</point>'
