"""The harness adapters (training/harness): the shared prompting everywhere; lmms-eval on a local
3-row parquet task and VLMEvalKit on a local 3-row TSV, each with a checkpoint trained 2 steps by
`pixmo train`. The harness tests run only where the harness imports (the venv of training/README.md,
"Evaluation harnesses"); elsewhere they skip and say why."""

import base64
import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from training.harness.prompting import benchmark_style, cut_at_stop, first_image, styled_prompt

ROOT = Path(__file__).resolve().parents[2]
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220)}


def _import_error(module: str) -> str | None:
    """Why `module` cannot be imported here, or None. Not only ImportError: a CUDA-built torchvision
    beside the CPU torch raises RuntimeError from VLMEvalKit's own imports."""
    try:
        importlib.import_module(module)
    except Exception as error:  # noqa: BLE001 - any failure to import is a reason to skip
        first_line = (str(error).strip().splitlines() or [""])[0]
        return f"{module} does not import here ({type(error).__name__}: {first_line}); see training/README.md"
    return None


def _needs(module: str):
    reason = _import_error(module)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def _png(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    """A run folder of `pixmo train --config tiny --steps 2`, as a user makes one."""
    from pixmo_builders.clocks import write_clocks_release

    folder = tmp_path_factory.mktemp("harness")
    write_clocks_release(
        n=24, location=str(folder / "clocks"), size=64, shard_max_samples=8, validation_fraction=0.2
    )
    command = [sys.executable, "-m", "pixmo_cli", "train", "--config", "tiny", "--steps", "2",
               "--data", str(folder / "clocks"), "--out", str(folder / "run")]  # fmt: skip
    done = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **OFFLINE})  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return str(folder / "run")


def test_style_prefix_is_added_for_our_benchmarks_under_harness_names():
    assert benchmark_style("ChartQA_TEST") == "chart_qa"
    assert benchmark_style("docvqa_val") == "doc_qa"
    assert benchmark_style("MMMU_DEV_VAL") == "a_okvqa_mc"
    assert styled_prompt(" How many bars? ", "chartqa") == "chart_qa: How many bars?"
    assert styled_prompt("What is it?", "pixmo_colours") == "What is it?"
    assert styled_prompt("What is it?", None) == "What is it?"


def test_answers_are_cut_at_the_first_stop_string():
    assert cut_at_stop("blue\nUser: more", ["\n", "User:"]) == "blue"
    assert cut_at_stop("blue. red", ".") == "blue"
    assert cut_at_stop(" blue ", None) == "blue"


def test_first_image_reads_images_paths_and_bytes(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(_png(COLOURS["red"]))
    assert first_image([str(path)]).size == (64, 64)
    assert first_image(_png(COLOURS["blue"])).getpixel((0, 0)) == COLOURS["blue"]
    with pytest.raises(ValueError, match="no image"):
        first_image(["not a file"])


TASK_YAML = """\
task: pixmo_colours
dataset_path: parquet
dataset_kwargs:
  data_files:
    test: {parquet}
test_split: test
output_type: generate_until
doc_to_visual: !function pixmo_colours_utils.doc_to_visual
doc_to_text: !function pixmo_colours_utils.doc_to_text
doc_to_target: answer
generation_kwargs:
  max_new_tokens: 6
  until: ["\\n"]
process_results: !function pixmo_colours_utils.process_results
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 0.0
"""

TASK_UTILS = """\
import io

from PIL import Image


def doc_to_visual(doc):
    return [Image.open(io.BytesIO(doc["image"])).convert("RGB")]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    return doc["question"]


def process_results(doc, results):
    return {"exact_match": float(results[0].strip().lower() == doc["answer"])}
"""


@_needs("lmms_eval")
def test_lmms_eval_runs_our_checkpoint_on_a_local_task(checkpoint, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"question_id": i, "question": "What colour is the image?", "answer": name, "image": _png(rgb)}
            for i, (name, rgb) in enumerate(COLOURS.items())]  # fmt: skip
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tasks / "colours.parquet")
    (tasks / "pixmo_colours.yaml").write_text(TASK_YAML.format(parquet=tasks / "colours.parquet"))
    (tasks / "pixmo_colours_utils.py").write_text(TASK_UTILS)
    command = [sys.executable, "-m", "lmms_eval", "--model", "pixmo_molmo", "--model_args", f"checkpoint={checkpoint}",
               "--tasks", "pixmo_colours", "--include_path", str(tasks), "--limit", "3", "--batch_size", "1",
               "--output_path", str(tmp_path / "out"), "--log_samples"]  # fmt: skip
    env = {**os.environ, **OFFLINE, "HF_DATASETS_CACHE": str(tmp_path / "hf-datasets")}
    done = subprocess.run(
        command, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = sorted((tmp_path / "out").rglob("*_results.json"))
    assert results, f"lmms-eval wrote no results file: {done.stdout[-2000:]}"
    scores = json.loads(results[-1].read_text())["results"]["pixmo_colours"]
    assert 0.0 <= scores["exact_match,none"] <= 1.0
    samples = sorted((tmp_path / "out").rglob("*samples_pixmo_colours*.jsonl"))
    assert samples and len(samples[-1].read_text().splitlines()) == 3


@_needs("vlmeval")
def test_vlmeval_runs_our_checkpoint_on_a_local_tsv(checkpoint, tmp_path, monkeypatch):
    import pandas as pd

    monkeypatch.setenv("LMUData", str(tmp_path))  # where VLMEvalKit reads DATASET.tsv
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    rows = [{"index": i, "image": base64.b64encode(_png(rgb)).decode(), "question": "What colour is the image?",
             "answer": name} for i, (name, rgb) in enumerate(COLOURS.items())]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "PixmoColours.tsv", sep="\t", index=False)

    from vlmeval.dataset.image_vqa import CustomVQADataset
    from vlmeval.inference import infer_data
    from vlmeval.smp import load

    from training.harness.vlmeval_model import PixmoMolmo

    out_file = tmp_path / "pixmo_molmo_PixmoColours.pkl"
    infer_data(model=PixmoMolmo(checkpoint, max_new_tokens=6), model_name="pixmo_molmo", work_dir=str(tmp_path),
               dataset=CustomVQADataset("PixmoColours"), out_file=str(out_file))  # fmt: skip
    predictions = load(str(out_file))
    assert sorted(predictions) == [0, 1, 2]
    assert all(isinstance(answer, str) for answer in predictions.values())
