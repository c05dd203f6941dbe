"""The molmo2 family on CPU: transformers' own Molmo2ForConditionalGeneration, built from the
tiny preset, fed by our data path, trained by our trainer, exported to a native folder."""

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from pixmo_formats import molmo2_points
from tests.training.test_molmo2_images import MAKE_REF_VENV, REF_PYTHON
from training.formatting import Annotation
from training.molmo2.config import Molmo2ModelConfig
from training.molmo2.data import pack, tokenize_example
from training.molmo2.model import build
from training.molmo2.text import CHAT_TEMPLATE
from training.presets import resolve
from training.train import train

ROOT = Path(__file__).resolve().parents[2]
ATOL = 1e-5  # float32 logits of the same weights on the same tokens, ours vs transformers' forward


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model, inputs = build(Molmo2ModelConfig(preset="tiny"), None)
    return model.eval(), inputs


def noise_image(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def chat(question: str, answer: str) -> Annotation:
    return Annotation(f" User: {question} Assistant:", f" {answer}", chat_turns=((question, answer),))


def native_logits(model, inputs, image, tokens: np.ndarray) -> torch.Tensor:
    """transformers' forward as its processor would call it: one sequence, no mask of ours, its
    image block from mm_token_type_ids."""
    image_in = inputs.image(image)
    out = model.hf(
        input_ids=torch.from_numpy(tokens)[None],
        pixel_values=torch.from_numpy(image_in["pixel_values"]),
        image_token_pooling=torch.from_numpy(image_in["image_token_pooling"]),
        image_grids=torch.from_numpy(np.asarray(image_in["image_grids"]))[None],
        image_num_crops=torch.tensor([image_in["image_num_crops"]]),
        mm_token_type_ids=torch.from_numpy(inputs.is_image_token(tokens).astype(np.int64))[None],
    )
    return out.logits[0]


@torch.no_grad()
def test_packed_training_forward_equals_transformers_forward_per_annotation(tiny):
    """Two images (different tilings) in one row, the first with two annotations: every
    annotation's logits from our packed forward (4D mask, positions restarting after the image)
    equal transformers' forward on that image and that annotation alone."""
    model, inputs = tiny
    images = [noise_image(120, 80, 1), noise_image(60, 150, 2)]
    annotations = [
        [
            chat("What time is being shown?", "It is 3:15."),
            chat("Point to the hand", '<points coords="1 1 500 500">hand</points>'),
        ],
        [chat("Describe this image in detail.", "Grey noise on a tall card.")],
    ]
    examples = [
        tokenize_example(a, inputs.image(im), inputs.text, max_len=4000, sqrt_weight=True)
        for a, im in zip(annotations, images)
    ]
    batch = pack(examples, 4000, inputs)
    assert batch["input_ids"].shape[0] == 1  # one row: the image features must go to the right image
    keys = ("input_ids", "position_ids", "attention_mask", "pixel_values", "image_token_pooling", "image_grids",
            "image_num_crops", "mm_token_type_ids")  # fmt: skip
    ours = model(**{k: batch[k] for k in keys})[0]

    # the first example sits where first-fit put it; locate each example by its tokens
    row = batch["input_ids"][0].numpy()
    compared = 0
    for example, image in zip(examples, images):
        n = len(example.tokens)
        start = next(s for s in range(len(row) - n + 1) if np.array_equal(row[s : s + n], example.tokens))
        prefix = int((example.segments == 0).sum())
        for k in range(1, example.segments.max() + 1):
            mine = np.flatnonzero(example.segments == k)
            alone = np.concatenate([example.tokens[:prefix], example.tokens[mine]])
            expected = native_logits(model, inputs, image, alone)
            got = torch.cat([ours[start : start + prefix], ours[start + mine]])
            torch.testing.assert_close(got, expected, atol=ATOL, rtol=1e-4)
            compared += len(alone)
    assert compared > 2 * 100


@torch.no_grad()
def test_image_tokens_see_each_other_both_ways(tiny):
    """The first image token's output depends on the last image token (bidirectional block), and
    the first annotation's outputs do not depend on the second annotation."""
    _, inputs = tiny
    image = noise_image(90, 90, 3)
    ex = tokenize_example([chat("a?", "b."), chat("c?", "d.")], inputs.image(image), inputs.text,
                          max_len=4000, sqrt_weight=True)  # fmt: skip
    batch = pack([ex], 4000, inputs)
    mask = batch["attention_mask"][0, 0].numpy()
    is_image = batch["mm_token_type_ids"][0].numpy().astype(bool)
    first, last = np.flatnonzero(is_image)[[0, -1]]
    assert mask[first, last] and mask[last, first]
    seg = ex.segments
    assert not mask[np.ix_(seg == 1, seg == 2)].any() and not mask[np.ix_(seg == 2, seg == 1)].any()


def test_chat_turns_render_as_the_template_does(tiny):
    """Our token pieces of a two-turn dialogue are exactly the template's text of the whole
    dialogue, tokenised, minus the image placeholder, plus EOS; the loss is on answers and EOS."""
    _, inputs = tiny
    text = inputs.text
    turns = [("What is this?", "A clock."), ("What time?", "Ten past two.")]
    encoded = text.encode_turns(turns)
    rendered = text.render(turns).replace("<|image|>", "")
    assert encoded.tokens == text.encode(rendered) + [text.eos_id]
    answer = [t for t, a in zip(encoded.tokens, encoded.is_answer) if a]
    assert text.hf.decode(answer) == "A clock.<|im_end|>Ten past two.<|im_end|>"
    assert rendered.startswith("<|im_start|>user\nWhat is this?<|im_end|>\n<|im_start|>assistant\nA clock.")


def test_point_text_in_molmo2_format():
    assert molmo2_points.format_points([(30.0, 7.1), (12.3, 45.6)], "cat") == (
        '<points coords="1 1 123 456 2 300 071">cat</points>'
    )
    assert molmo2_points.format_count([(50, 50)], "dog") == (
        'Counting the <points coords="1 1 500 500">dog</points> shows a total of 1.'
    )
    assert molmo2_points.format_points([], "cat") == "There are none."
    assert molmo2_points.parse_points('x <points alt="a" coords="1 1 123 456 2 300 071">cat</points>') == [
        (12.3, 45.6),
        (30.0, 7.1),
    ]
    from training.points import parse_count, parse_points

    assert parse_points('<points coords="1 1 999 001">cat</points>') == [(99.9, 0.1)]
    assert parse_count('Counting the <points coords="1 1 500 500">dog</points> shows a total of 1.') == 1
    with pytest.raises(ValueError, match="outside 0-100"):
        molmo2_points.format_points([(101, 5)], "cat")


def test_pointing_release_trains_in_molmo2_point_format(tiny):
    from training.formatting import format_example
    from training.molmo2.data import MOLMO2_POINTS

    rows = [{"label": "cat", "points": [{"x": 12.3, "y": 45.6}], "collection_method": "pointing"}]
    (annotation,) = format_example(
        "pixmo-points", "sft", rows, random.Random(0), (100, 100), point_text=MOLMO2_POINTS
    )
    assert annotation.chat_turns[0][1] == '<points coords="1 1 123 456">cat</points>'


def test_loss_falls_on_a_clocks_release_and_the_export_round_trips(clocks_release, tmp_path):
    """Training molmo2_tiny lowers the loss; RUN/model is a native Molmo2 folder: in a fresh
    process from_pretrained finds every key (no missing, no unexpected) and gives the trainer
    model's logits on the same batch."""
    config = resolve("molmo2_tiny")
    records = train(config, [clocks_release], tmp_path / "run", steps=12)
    assert records[-1]["loss"] < 0.8 * records[0]["loss"], [r["loss"] for r in records]
    folder = tmp_path / "run" / "model"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja",
                 "preprocessor_config.json", "processor_config.json"):  # fmt: skip
        assert (folder / name).is_file(), name
    assert json.loads((folder / "config.json").read_text())["model_type"] == "molmo2"
    # the released key layout, with the text and image-token embeddings apart at the vocabulary's end
    from safetensors.torch import load_file

    saved = load_file(folder / "model.safetensors")
    assert saved["model.transformer.wte.embedding"].shape[0] == 259
    assert saved["model.transformer.wte.new_embedding"].shape[0] == 128

    # the trainer's model (rebuilt from the checkpoint) and a batch of the run's own stream
    torch.manual_seed(0)
    model, inputs = build(config.model, str(folder))
    image = noise_image(100, 70, 5)
    ex = tokenize_example([chat("What time is being shown?", "It is 3:15.")], inputs.image(image), inputs.text,
                          max_len=4000, sqrt_weight=False)  # fmt: skip
    batch = pack([ex], 4000, inputs)
    torch.save({k: v for k, v in batch.items()}, tmp_path / "batch.pt")
    with torch.no_grad():
        expected = model.eval()(
            **{
                k: v
                for k, v in batch.items()
                if k not in ("targets", "loss_weight", "n_real_tokens", "n_images")
            }
        )
    script = f"""
import torch
from transformers import Molmo2ForConditionalGeneration
model, info = Molmo2ForConditionalGeneration.from_pretrained({str(folder)!r}, output_loading_info=True)
assert not info["missing_keys"] and not info["unexpected_keys"], info
batch = torch.load({str(tmp_path / "batch.pt")!r})
with torch.no_grad():
    out = model(input_ids=batch["input_ids"], pixel_values=batch["pixel_values"],
                image_token_pooling=batch["image_token_pooling"], image_grids=batch["image_grids"],
                image_num_crops=batch["image_num_crops"], mm_token_type_ids=batch["mm_token_type_ids"])
torch.save(out.logits, {str(tmp_path / "logits.pt")!r})
"""
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=300,
                          env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    got = torch.load(tmp_path / "logits.pt")
    torch.testing.assert_close(got, expected, atol=ATOL, rtol=1e-4)


def test_init_from_an_export_starts_from_its_weights(clocks_release, tmp_path):
    first = resolve("molmo2_tiny")
    records = train(first, [clocks_release], tmp_path / "a", steps=10)
    exported = tmp_path / "a" / "model"
    model, _ = build(first.model, str(exported))
    # the trained weights, as the run's last checkpoint holds them (our keys: "hf." + transformers')
    trained = torch.load(tmp_path / "a" / "checkpoint" / "state.pt", weights_only=False)["model"]
    loaded = {f"hf.{k}": v for k, v in model.hf.state_dict().items()}
    assert trained.keys() == loaded.keys()
    for key, value in trained.items():
        torch.testing.assert_close(loaded[key], value, atol=0, rtol=0, msg=key)
    second = resolve("molmo2_tiny")
    second.init_from = str(exported)
    again = train(second, [clocks_release], tmp_path / "b", steps=3)
    # the warm start begins near where the first run ended, far below a fresh model's first loss
    assert again[0]["loss"] < 0.8 * records[0]["loss"]


def test_resumed_run_matches_uninterrupted(clocks_release, tmp_path):
    config = resolve("molmo2_tiny")
    config.save_every = 2
    straight = train(config, [clocks_release], tmp_path / "a", steps=4)
    train(config, [clocks_release], tmp_path / "b", steps=2)
    resumed = train(config, [clocks_release], tmp_path / "b", steps=4)
    assert [r["step"] for r in resumed] == [3, 4]
    assert [r["loss"] for r in resumed] == pytest.approx([r["loss"] for r in straight[2:]], rel=1e-6)


def test_presets_have_the_released_shapes():
    """The 4b/8b presets build (on the meta device) with the released models' sizes."""
    from transformers import Molmo2Config, Molmo2ForConditionalGeneration

    sizes = {}
    for preset in ("4b", "8b"):
        config = Molmo2Config(**Molmo2ModelConfig(preset=preset).hf_config_dict())
        with torch.device("meta"):
            model = Molmo2ForConditionalGeneration(config)
        sizes[preset] = sum(p.numel() for p in model.parameters()) / 1e9
        assert config.vision_config.num_hidden_layers == 25
        assert config.image_patch_id == config.text_config.vocab_size + 2
    assert 4.0 < sizes["4b"] < 5.5 and 8.0 < sizes["8b"] < 9.5, sizes


def test_config_mistakes_are_named(tmp_path):
    with pytest.raises(ValueError, match="unknown molmo2 preset 'huge'"):
        Molmo2ModelConfig(preset="huge")
    with pytest.raises(ValueError, match="flash attention"):
        Molmo2ModelConfig(attn_implementation="flash_attention_2")
    with pytest.raises(ValueError, match="model.images has no setting crop_px"):
        Molmo2ModelConfig(images={"crop_px": 3})
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(ValueError, match="not a Molmo2 checkpoint folder"):
        build(Molmo2ModelConfig(), str(tmp_path))


def test_toml_config_of_the_molmo2_family(tmp_path):
    from training.presets import load_config

    path = tmp_path / "m2.toml"
    path.write_text('preset = "molmo2_tiny"\nsteps = 7\n[model]\npreset = "tiny"\nimages = {max_crops = 2}\n')
    config = load_config(path)
    assert isinstance(config.model, Molmo2ModelConfig) and config.steps == 7
    assert config.model.image_config().max_crops == 2


def test_our_template_matches_the_layout_of_released_molmo2(tiny):
    """The tiny preset's template writes the released layout: image placeholder, user turn,
    assistant turn, the next user turn after <|im_end|>, and the generation prompt."""
    _, inputs = tiny
    assert inputs.text.hf.chat_template == CHAT_TEMPLATE
    text = inputs.text.render([("Q1", "A1"), ("Q2", None)])
    assert text == (
        "<|image|><|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n"
        "<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n"
    )


@pytest.mark.parametrize("parallel", ["ddp", "fsdp"])
def test_two_process_gloo_gradients_match_one_process(clocks_release, tmp_path, parallel):
    """Two gloo ranks, one micro-batch each, wrapped by DDP or FSDP2: the reduced gradients of
    every parameter (ViT, adapter, text model) equal one process's on both micro-batches."""
    import contextlib

    from tests.training.molmo2_grads import make_model_and_batches
    from tests.training.test_distributed import torchrun
    from training.train import forward_backward

    model, batches = make_model_and_batches(clocks_release, 2)
    forward_backward(model, batches, world_size=1, z_loss=1e-4, autocast=contextlib.nullcontext)
    expected = {name: p.grad.detach().clone() for name, p in model.named_parameters()}
    torchrun("molmo2_grads.py", clocks_release, str(tmp_path / "grads.pt"), parallel)
    got = torch.load(tmp_path / "grads.pt")
    assert got["grads"].keys() == expected.keys()
    assert any(name.startswith("hf.model.vision_tower.") for name in expected)
    for name, grad in expected.items():
        torch.testing.assert_close(got["grads"][name], grad, atol=1e-6, rtol=1e-4, msg=name)
    assert got["reductions"] > 0


def test_a_template_that_renders_past_answers_differently_still_trains_on_the_inference_prompt(tiny):
    """A template may write a past assistant turn differently from its generation prompt (the
    released one puts a space before `<|im_start|>assistant` there). A one-turn annotation still
    trains on exactly the tokens inference sends, and a later turn's piece is what the template
    writes after the previous answer."""
    import copy

    from training.molmo2.text import Molmo2Text

    _, inputs = tiny
    hf = copy.deepcopy(inputs.text.hf)
    hf.chat_template = CHAT_TEMPLATE.replace(
        "{%- else -%}{{ '<|im_start|>assistant", "{%- else -%}{{ ' <|im_start|>assistant"
    )
    text = Molmo2Text(hf, inputs.text.vocab_size)
    assert " <|im_start|>assistant\nA1" in text.render([("Q1", "A1")])
    one = text.encode_turns([("Q1", "A1")])
    assert one.tokens == text.prompt_tokens("Q1") + text.encode("A1") + [text.eos_id]
    two = text.encode_turns([("Q1", "A1"), ("Q2", "A2")])
    assert text.hf.decode(two.tokens) == (
        "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n"
        "<|im_start|>assistant\nA2<|im_end|>"
    )


def released_layout(folder: Path, out: Path) -> None:
    """`folder` (an export) rewritten as the hub's Molmo2 folders are: the config in their keys
    (`vit_config` declaring more ViT layers than the weights hold, `vit_layers` counted from the
    end, `image_default_input_size`, `qkv_bias`, `layer_norm_eps`, `rope_theta`, keys of the
    original code), and a chat template that writes past assistant turns with a leading space."""
    import shutil

    shutil.copytree(folder, out)
    config = json.loads((folder / "config.json").read_text())
    vision, adapter, text = config.pop("vision_config"), config["adapter_config"], config["text_config"]
    declared = vision["num_hidden_layers"] + 2
    config["vit_config"] = {
        "model_type": "molmo2", "hidden_size": vision["hidden_size"], "intermediate_size": vision["intermediate_size"],
        "num_hidden_layers": declared, "num_attention_heads": vision["num_attention_heads"],
        "num_key_value_heads": vision["num_key_value_heads"], "head_dim": vision["head_dim"],
        "hidden_act": vision["hidden_act"], "layer_norm_eps": 1e-6, "image_default_input_size": vision["image_size"],
        "image_patch_size": vision["patch_size"], "image_num_pos": vision["num_position_embeddings"],
        "attention_dropout": 0.0, "residual_dropout": 0.0, "float32_attention": True, "initializer_range": 0.02,
    }  # fmt: skip
    adapter.pop("vision_feature_layer")
    adapter.update(
        model_type="molmo2", vit_layers=[-3, -4], pooling_attention_mask=True, float32_attention=True
    )
    rope = text.pop("rope_parameters")
    text.pop("rope_scaling_layers")
    text.update(rope_theta=rope["rope_theta"], rope_scaling=None, rope_scaling_layers=None, qkv_bias=False,
                layer_norm_eps=text.pop("rms_norm_eps"), use_qk_norm=True, embedding_dropout=0.0, residual_dropout=0.0)  # fmt: skip
    text.pop("attention_bias")
    config.update(image_col_id=262, image_high_res_id=261, image_low_res_id=265, use_frame_special_tokens=False,
                  auto_map={"AutoConfig": "configuration_molmo2.Molmo2Config"})  # fmt: skip
    (out / "config.json").write_text(json.dumps(config, indent=2))
    template = (folder / "chat_template.jinja").read_text()
    (out / "chat_template.jinja").write_text(
        template.replace("{%- else -%}{{ '<|im_start|>assistant", "{%- else -%}{{ ' <|im_start|>assistant")
    )


def test_a_folder_in_the_released_layout_fine_tunes(clocks_release, tmp_path):
    """--init-from a folder laid out as the hub's (legacy config keys, 27-layer-style ViT trim,
    released weight names, its own chat template): the model loads with the exported weights, gives
    the same logits, and trains on."""
    config = resolve("molmo2_tiny")
    train(config, [clocks_release], tmp_path / "a", steps=3)
    released = tmp_path / "Molmo2-tiny"
    released_layout(tmp_path / "a" / "model", released)
    ours, inputs = build(config.model, str(tmp_path / "a" / "model"))
    theirs, their_inputs = build(config.model, str(released))
    assert theirs.config.vision_config.num_hidden_layers == ours.config.vision_config.num_hidden_layers
    assert (
        theirs.config.adapter_config.vision_feature_layer == ours.config.adapter_config.vision_feature_layer
    )
    image = noise_image(70, 90, 9)
    ex = tokenize_example(
        [chat("How many hands?", "Two.")], inputs.image(image), inputs.text, max_len=4000, sqrt_weight=False
    )
    batch = pack([ex], 4000, inputs)
    keys = ("input_ids", "position_ids", "attention_mask", "pixel_values", "image_token_pooling", "image_grids",
            "image_num_crops", "mm_token_type_ids")  # fmt: skip
    with torch.no_grad():
        torch.testing.assert_close(
            theirs.eval()(**{k: batch[k] for k in keys}), ours.eval()(**{k: batch[k] for k in keys})
        )
    assert (
        their_inputs.text.encode_turns([("Q", "A")]).tokens == inputs.text.encode_turns([("Q", "A")]).tokens
    )
    config.init_from = str(released)
    records = train(config, [clocks_release], tmp_path / "b", steps=2)
    assert records[-1]["loss"] > 0


def test_transparent_images_train_as_the_processor_shows_them(clocks_release, tiny):
    """The stream hands Molmo2 the image upright but in its own mode, so transparency is
    composited onto white as Molmo2Processor does (converting to RGB first would drop it)."""
    import io

    from training.data import release_summary
    from training.molmo2.data import Molmo2PackedStream
    from training.molmo2.images import image_inputs

    _, inputs = tiny
    rgba = Image.new("RGBA", (64, 48), (200, 10, 10, 0))  # fully transparent red: white to the processor
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    stream = Molmo2PackedStream(
        [release_summary(clocks_release, "train")], resolve("molmo2_tiny").data, inputs, inputs
    )
    batch = stream.make_batch([(0, (buffer.getvalue(), [{"text": "1:05 AM"}], []))], "0-0-0-0")
    expected = image_inputs(Image.new("RGB", (64, 48), (255, 255, 255)), inputs.images)["pixel_values"]
    np.testing.assert_array_equal(batch["pixel_values"].numpy(), expected)


@pytest.mark.skipif(
    not REF_PYTHON.exists(), reason=f"no Molmo2 reference venv at {REF_PYTHON}: {MAKE_REF_VENV}"
)
def test_auto_processor_loads_the_export_and_gives_our_inputs(clocks_release, tmp_path):
    """In a venv with torchvision: AutoProcessor.from_pretrained(RUN/model) works, its inputs for
    5 images x 3 questions (through the saved chat template) equal ours, and transformers'
    generate on them gives our answers (bench/molmo2_export_processor.py)."""
    train(resolve("molmo2_tiny"), [clocks_release], tmp_path / "run", steps=5)
    done = subprocess.run([str(REF_PYTHON), "bench/molmo2_export_processor.py", str(tmp_path / "run" / "model")],
                          check=False, capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "AutoProcessor.from_pretrained" in done.stdout and ": 0 mismatches" in done.stdout


def test_bf16_autocast_keeps_fp32_master_weights(clocks_release, tmp_path):
    """precision = bf16: the forward runs under bf16 autocast (here on the CPU), the weights and the
    exported folder stay float32, and the loss falls."""
    config = resolve("molmo2_tiny")
    config.precision = "bf16"
    records = train(config, [clocks_release], tmp_path / "run", steps=6)
    assert all(np.isfinite(r["loss"]) for r in records) and records[-1]["loss"] < records[0]["loss"]
    assert json.loads((tmp_path / "run" / "model" / "config.json").read_text())["dtype"] == "float32"


def test_mfu_counts_for_molmo2(tiny, clocks_release):
    """The FLOPs the GPU run's MFU is made of: the ViT's own per crop (counted by torch), and per
    step 6 N per token for the text model plus the adapter per pooled token."""
    from training.data import release_summary
    from training.flops import batch_counts, flops_per_step
    from training.molmo2.data import Molmo2PackedStream

    model, inputs = tiny
    per_crop = model.vision_flops_per_crop()
    vision = model.vision.config
    n_pos, width, mlp, layers = (
        vision.num_position_embeddings,
        vision.hidden_size,
        vision.intermediate_size,
        3,
    )
    matmuls = 2 * n_pos * (vision.patch_size**2 * 3 * width + layers * (4 * width * width + 2 * width * mlp))
    assert matmuls <= per_crop <= 1.5 * matmuls
    batch = next(
        iter(
            Molmo2PackedStream(
                [release_summary(clocks_release, "train")], resolve("molmo2_tiny").data, inputs, inputs
            )
        )
    )
    counts = batch_counts(batch)
    assert counts == {
        "crops": batch["pixel_values"].shape[0],
        "pooled": batch["image_token_pooling"].shape[0],
    }
    stats = {"tokens": int(batch["n_real_tokens"]), "seq_len": batch["input_ids"].shape[1], **counts}
    assert flops_per_step(model, stats, per_crop) > 3 * per_crop * counts["crops"]
