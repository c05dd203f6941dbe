"""MFU's FLOP count: a CNN backbone's own FLOPs, not 6 x its parameters per patch."""

import pytest
import torch
from torch import nn

from training import presets
from training.flops import flops_per_step, vision_flops_per_crop
from training.model import MolmoForCausalLM


@pytest.fixture(scope="module")
def effnet_model():
    torch.manual_seed(0)
    return MolmoForCausalLM.from_parts(presets.model("tiny_effnet")).eval()


def conv_flops(module: nn.Module, crop_px: int) -> int:
    """2 x multiply-adds of every convolution, from the shapes a forward hook sees."""
    total = 0

    def count(conv, _inputs, output):
        nonlocal total
        kernel = conv.kernel_size[0] * conv.kernel_size[1]
        total += 2 * output.numel() * (conv.in_channels // conv.groups) * kernel

    hooks = [m.register_forward_hook(count) for m in module.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        module(torch.zeros(1, 3, crop_px, crop_px))
    for hook in hooks:
        hook.remove()
    return total


def test_efficientnet_flops_are_its_convolutions(effnet_model):
    crop = effnet_model.config.parts.preprocessor.crop_px
    counted = vision_flops_per_crop(effnet_model.vision, crop)
    assert counted == conv_flops(effnet_model.vision, crop)
    assert 700e6 < counted < 760e6  # 224 px crop, the blocks up to the last one
    # the old count (6 x parameters per patch for training, 2 forward) came to 52 % of it here,
    # and it followed the patch grid (8 x 8 "patches" of 28 px), which a CNN's FLOPs do not
    params = sum(p.numel() for p in effnet_model.vision.parameters())
    patches = effnet_model.config.parts.preprocessor.crop_patches**2
    assert 2 * params * patches / counted == pytest.approx(0.52, abs=0.01)


def test_flops_per_step_counts_three_forwards_per_crop(effnet_model):
    stats = {"tokens": 100, "seq_len": 100, "crops": 5, "pooled": 80}
    without_vision = flops_per_step(effnet_model, stats, 0.0)
    assert flops_per_step(effnet_model, stats, 1e9) - without_vision == pytest.approx(3 * 1e9 * 5)
    llm = sum(p.numel() for p in effnet_model.llm.parameters())
    assert without_vision > 6 * llm * 100


def test_a_run_logs_mfu_where_the_peak_is_known(clocks_release, tmp_path, monkeypatch):
    """The GPU path on a CPU: with a peak to divide by, every logged step carries an MFU."""
    import training.train

    monkeypatch.setattr(training.train, "peak_flops", lambda device: 1e12)
    config = presets.run("tiny")
    config.steps, config.save = 2, False
    records = training.train.train(config, [clocks_release], tmp_path)
    assert all(0 < r["mfu"] < 1 for r in records)
