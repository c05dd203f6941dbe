import pytest
import torch

from tests.training.test_model import batch_for
from tests.training.test_packing import FORWARD_KEYS
from training import presets
from training.model import MolmoForCausalLM

RATE = 0.5


@pytest.fixture(scope="module")
def model():
    parts = presets.model("tiny")
    parts.language.residual_dropout = RATE
    torch.manual_seed(0)
    return MolmoForCausalLM.from_parts(parts)


def branch_outputs(model, batch, *, train: bool, where=None, seed=0) -> list[torch.Tensor]:
    """What every attention o_proj and MLP down_proj adds to the residual stream, after dropout."""
    seen, handles = [], []
    for layer in model.llm.get_decoder().layers:
        for branch in (layer.self_attn.o_proj, layer.mlp.down_proj):
            # registered after the dropout hook, so it sees the dropped output
            handles.append(branch.register_forward_hook(lambda m, i, out: seen.append(out.detach())))
    model.train(train)
    torch.manual_seed(seed)
    try:
        with torch.no_grad():
            model(**{k: batch[k] for k in FORWARD_KEYS}, dropout_where=where)
    finally:
        for h in handles:
            h.remove()
        model.eval()
    return seen


def test_every_residual_branch_is_hooked(model):
    layers = model.llm.get_decoder().layers
    assert all(len(layer.self_attn.o_proj._forward_hooks) == 1 for layer in layers)
    assert all(len(layer.mlp.down_proj._forward_hooks) == 1 for layer in layers)


def test_dropout_is_active_in_train_mode_only(model, tiny_parts):
    _, tok, pre = tiny_parts
    batch = batch_for(tok, pre)
    clean = branch_outputs(model, batch, train=False)
    again = branch_outputs(model, batch, train=False, seed=1)
    assert all(torch.equal(a, b) for a, b in zip(clean, again))  # eval: deterministic, no dropout
    dropped = branch_outputs(model, batch, train=True)[0]  # layer 0's attention: same input as in eval
    zero = dropped == 0
    assert 0.4 < zero.float().mean() < 0.6
    torch.testing.assert_close(dropped[~zero], clean[0][~zero] / (1 - RATE))


def test_caption_mask_limits_dropout_to_those_positions(model, tiny_parts):
    """Pre-training passes the loss mask: positions that predict caption tokens are dropped out,
    the image and prompt positions are untouched."""
    _, tok, pre = tiny_parts
    batch = batch_for(tok, pre)
    where = batch["loss_weight"] > 0
    clean = branch_outputs(model, batch, train=False)[0]
    dropped = branch_outputs(model, batch, train=True, where=where)[0]
    assert torch.equal(dropped[~where], clean[~where])
    hit = dropped[where] == 0
    assert 0.3 < hit.float().mean() < 0.7
    torch.testing.assert_close(dropped[where][~hit], clean[where][~hit] / (1 - RATE))


def test_training_step_uses_the_caption_mask_only_in_pretraining(model, tiny_parts):
    """loss_sums hands the loss mask to the model in pre-training and nothing in SFT."""
    from training.train import loss_sums

    _, tok, pre = tiny_parts
    batch = batch_for(tok, pre)
    passed = []
    hook = model.register_forward_pre_hook(
        lambda m, args, kwargs: passed.append(kwargs["dropout_where"]), with_kwargs=True
    )
    try:
        loss_sums(model, batch, 1e-4, caption_dropout=True)
        loss_sums(model, batch, 1e-4, caption_dropout=False)
    finally:
        hook.remove()
    assert torch.equal(passed[0], batch["loss_weight"] > 0) and passed[1] is None


def test_rate_zero_adds_no_hooks():
    parts = presets.model("tiny")
    parts.language.residual_dropout = 0.0
    m = MolmoForCausalLM.from_parts(parts)
    assert not any(mod._forward_hooks for mod in m.llm.modules())
