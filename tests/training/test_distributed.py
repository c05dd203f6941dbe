import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.training.ddp_grads import full_grads, make_model_and_batches
from training.train import forward_backward

ROOT = Path(__file__).resolve().parents[2]


def torchrun(script: str, *args: str, timeout: int = 240) -> None:
    """Two gloo ranks on this machine. A hung run is killed with all its workers (their own
    process group) and fails with its output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(ROOT / "tests/training" / script), *args]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"torchrun {script} hung for {timeout} s:\n{output[-3000:]}")
    assert proc.returncode == 0, output[-3000:]


@pytest.mark.parametrize(
    ("parallel", "accum"),
    [pytest.param("ddp", 1, marks=pytest.mark.slow), ("ddp", 2),
     pytest.param("fsdp", 1, marks=pytest.mark.slow), ("fsdp", 2)],
)  # fmt: skip
def test_two_process_gloo_gradients_match_one_process(clocks_release, tmp_path, parallel, accum):
    """Rank r trains on micro-batches r*accum.. (r+1)*accum - 1; the reduced gradients must equal
    one process training on all of them, which holds only if the loss is divided by the global
    loss-token count. With accumulation, gradients are reduced once per step (the last
    micro-batch's backward), exactly as often as in a step of one micro-batch."""
    model, batches = make_model_and_batches(clocks_release, 2 * accum)
    forward_backward(model, batches, world_size=1, z_loss=1e-4, autocast=contextlib.nullcontext)
    expected = full_grads(model)
    torchrun("ddp_grads.py", clocks_release, str(tmp_path / "grads.pt"), parallel, str(accum))
    got = torch.load(tmp_path / "grads.pt")
    assert got["grads"].keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(got["grads"][name], expected[name], atol=1e-6, rtol=1e-4, msg=name)
    assert got["reductions"] == got["single_reductions"] > 0


def test_two_rank_resume_restores_every_rank(clocks_release, tmp_path):
    """With dropout on, each rank draws its own masks: the resumed 2-rank run matches the
    uninterrupted one only if every rank gets back its own RNG states and data position."""
    torchrun("resume_ranks.py", clocks_release, str(tmp_path))
    records = json.loads((tmp_path / "records.json").read_text())
    straight, resumed = records["straight"], records["resumed"]
    assert [r["step"] for r in resumed] == [r["step"] for r in straight] == [1, 2, 3, 4]
    assert [r["loss_tokens"] for r in resumed] == [r["loss_tokens"] for r in straight]
    assert [r["loss"] for r in resumed] == pytest.approx([r["loss"] for r in straight], rel=1e-5)
    a, b = (
        load_file(tmp_path / "a/model/model.safetensors"),
        load_file(tmp_path / "b/model/model.safetensors"),
    )
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=1e-5, msg=k)
    # the checkpoint holds two different RNG streams and both ranks' positions
    state = torch.load(tmp_path / "b/checkpoint/state.pt", weights_only=False)
    assert len(state["ranks"]) == 2
    assert not torch.equal(state["ranks"][0]["rng"]["torch"], state["ranks"][1]["rng"]["torch"])
    assert [r["micro_batches"] for r in state["ranks"]] == [4, 4]
