"""The training loss as the released code computes it: cross-entropy and z-loss both weighted by
the loss mask (1/sqrt(n) per annotation in SFT), divided by the summed weights."""

import contextlib

import pytest
import torch

from tests.training.test_packing import ANNS, FORWARD_KEYS, image_input
from training.packing import pack, tokenize_example
from training.train import forward_backward, loss_sums

Z = 1e-4


@pytest.fixture()
def batch(tiny_parts):
    _, tok, pre = tiny_parts
    examples = [
        tokenize_example(anns, image_input(pre, seed), tok, max_len=512, sqrt_weight=True)
        for seed, anns in enumerate([ANNS, ANNS, ANNS[:1]])
    ]
    return pack(examples, 1024, tok.eos_id)  # weights 1/sqrt(2) for two images, 1 for the third


def per_position(model, batch):
    with torch.no_grad():
        logits = model(**{k: batch[k] for k in FORWARD_KEYS}).logits.float()
    lse = torch.logsumexp(logits, -1)
    targets = batch["targets"].clamp(max=logits.shape[-1] - 1)  # image-token targets carry no loss
    ce = lse - logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return ce, lse**2


def test_z_loss_is_weighted_by_the_loss_mask(tiny_parts, batch):
    model = tiny_parts[0]
    weight = batch["loss_weight"]
    assert sorted({round(w, 6) for w in weight[weight > 0].tolist()}) == [round(2**-0.5, 6), 1.0]
    ce, z2 = per_position(model, batch)
    with torch.no_grad():
        ce_sum, z_sum = loss_sums(model, batch, Z)
    torch.testing.assert_close(ce_sum, (ce * weight).sum(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(z_sum, Z * (z2 * weight).sum(), rtol=1e-5, atol=1e-9)
    # a position without loss contributes nothing, whatever its logits
    dropped = dict(batch, loss_weight=weight.clone())
    first = torch.nonzero(weight)[0]
    dropped["loss_weight"][first[0], first[1]] = 0
    with torch.no_grad():
        _, z_dropped = loss_sums(model, dropped, Z)
    torch.testing.assert_close(z_sum - z_dropped, Z * z2[first[0], first[1]] * weight[first[0], first[1]])


def test_gradient_is_the_weighted_mean_over_the_summed_weights(tiny_parts, batch):
    """The released "global_batch" divisor: the sum of the loss weights (not the loss-token
    count; they differ once an image has several annotations)."""
    model = tiny_parts[0]
    params = [p for p in model.parameters() if p.requires_grad]
    model.zero_grad(set_to_none=True)
    stats = forward_backward(model, [batch], world_size=1, z_loss=Z, autocast=contextlib.nullcontext)
    got = [p.grad.clone() for p in params]
    model.zero_grad(set_to_none=True)
    ce, z = loss_sums(model, batch, Z)
    weight_sum = batch["loss_weight"].double().sum()
    assert stats["loss_weight"] == pytest.approx(float(weight_sum))
    assert stats["loss_weight"] < stats["loss_tokens"]
    ((ce + z) / weight_sum.float()).backward()
    for g, p in zip(got, params):
        torch.testing.assert_close(g, p.grad, rtol=1e-5, atol=1e-8)
    model.zero_grad(set_to_none=True)
