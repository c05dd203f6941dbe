import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.training.ddp_grads import full_grads, make_model_and_batches
from training.train import forward_backward

ROOT = Path(__file__).resolve().parents[2]


def torchrun_grads(release: str, out: Path, parallel: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(ROOT / "tests/training/ddp_grads.py"), release, str(out), parallel]  # fmt: skip
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return torch.load(out)


@pytest.mark.parametrize("parallel", ["ddp", pytest.param("fsdp", marks=pytest.mark.slow)])
def test_two_process_gloo_gradients_match_one_process(clocks_release, tmp_path, parallel):
    """Rank r trains on batch r; the all-reduced gradients must equal one process training on both
    batches, which holds only if the loss is divided by the global loss-token count."""
    model, batches = make_model_and_batches(clocks_release)
    forward_backward(model, batches, world_size=1, z_loss=1e-4, autocast=contextlib.nullcontext)
    expected = full_grads(model)
    got = torchrun_grads(clocks_release, tmp_path / "grads.pt", parallel)
    assert got.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], atol=1e-6, rtol=1e-4, msg=name)
