import json

import numpy as np
import pytest
import torch
from PIL import Image

from training import presets
from training.efficientnet import LITE_MEAN, LITE_STD, EfficientNetLite0, load_lite0, package_weights_path
from training.model import MolmoForCausalLM
from training.train import train

CAT_CLASSES = range(281, 286)  # ImageNet tabby, tiger, Persian, Siamese, Egyptian cat
ESPRESSO, CUP = 967, 968


def lite_input(pixels: np.ndarray, side: int = 224) -> torch.Tensor:
    image = Image.fromarray(pixels).convert("RGB").resize((side, side), Image.BICUBIC)
    x = torch.from_numpy(np.asarray(image, np.float32) / 255).permute(2, 0, 1)
    return ((x - torch.tensor(LITE_MEAN)[:, None, None]) / torch.tensor(LITE_STD)[:, None, None])[None]


def test_package_weights_classify_real_photos():
    """The architecture matches the shipped state dict (strict load) and the weights are ImageNet's:
    scikit-image's photo of a cat and of an espresso are classified as such."""
    from skimage import data

    net = load_lite0(package_weights_path()).eval()
    with torch.no_grad():
        cat = net(lite_input(data.chelsea())).softmax(-1)[0]
        coffee = net(lite_input(data.coffee())).softmax(-1)[0]
        random_cat = EfficientNetLite0().eval()(lite_input(data.chelsea())).softmax(-1)[0]
    assert int(cat.argmax()) in CAT_CLASSES and float(cat[list(CAT_CLASSES)].sum()) > 0.8
    assert int(coffee.argmax()) in (ESPRESSO, CUP) and float(coffee[[ESPRESSO, CUP]].sum()) > 0.8
    assert float(random_cat[list(CAT_CLASSES)].sum()) < 0.1


@pytest.fixture(scope="module")
def effnet_model():
    torch.manual_seed(0)
    return MolmoForCausalLM.from_parts(presets.model("tiny_effnet")).eval()


def test_backbone_features_are_the_pretrained_blocks_on_the_patch_grid(effnet_model):
    """The Molmo backbone returns the package network's own block outputs (stride 32 and 16),
    resampled to the preprocessor's 8 x 8 patch grid and concatenated per patch."""
    reference = load_lite0(package_weights_path()).eval()
    crops = torch.randn(3, 3, 224, 224)
    with torch.no_grad():
        feats = effnet_model.vision(crops)
        blocks = reference.block_outputs(crops)
    assert feats.shape == (3, 64, 320 + 112)
    deep = torch.nn.functional.interpolate(blocks[-1], size=(8, 8), mode="bilinear", align_corners=False)
    mid = torch.nn.functional.adaptive_avg_pool2d(blocks[-6], 8)
    expected = torch.cat([deep.flatten(2), mid.flatten(2)], dim=1).transpose(1, 2)
    torch.testing.assert_close(feats, expected)
    assert len(effnet_model.vision.tower._blocks) == 16 and not hasattr(effnet_model.vision.tower, "_fc")


def test_frozen_batch_norm_is_the_same_in_train_and_eval(effnet_model):
    crops = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        eval_feats = effnet_model.vision(crops)
        effnet_model.vision.train()
        train_feats = effnet_model.vision(crops)
        effnet_model.vision.eval()
    torch.testing.assert_close(train_feats, eval_feats)


def test_round_trip_rebuilds_the_cnn_without_the_package_path(effnet_model, tmp_path):
    effnet_model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())["molmo"]["vision"]
    assert saved["kind"] == "efficientnet_lite0" and saved["path"] is None
    loaded = MolmoForCausalLM.from_pretrained(tmp_path).eval()
    crops = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(loaded.vision(crops), effnet_model.vision(crops))


def test_tiny_effnet_config_trains_on_a_release(clocks_release, tmp_path):
    """The whole loop (loader, forward, backward, AdamW, export) on the real-weights backbone, and
    the CNN is trained (its weights move) rather than left frozen."""
    config = presets.resolve("tiny_effnet")
    config.steps, config.data.images_per_batch = 3, 4
    records = train(config, [clocks_release], tmp_path)
    assert [r["step"] for r in records] == [1, 2, 3]
    assert all(np.isfinite(r["loss"]) and r["grad_norm"]["vit"] > 0 for r in records)
    trained = MolmoForCausalLM.from_pretrained(tmp_path / "model")
    start = load_lite0(package_weights_path())
    stem = trained.vision.tower._conv_stem.weight
    assert not torch.equal(stem, start._conv_stem.weight)
    torch.testing.assert_close(stem, start._conv_stem.weight, atol=0.05, rtol=0)  # moved, from the start
