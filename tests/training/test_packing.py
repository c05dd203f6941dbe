import math

import numpy as np
import pytest
import torch
from PIL import Image

from training.formatting import Annotation
from training.packing import first_fit, pack, tokenize_example

FORWARD_KEYS = ("input_ids", "position_ids", "attention_mask", "crops", "patch_real", "pooled_index")
ANNS = [
    Annotation(" User: What time? Assistant:", " 7:57 AM"),
    Annotation(" User: Describe. Assistant:", " A round clock face."),
]


def image_input(pre, seed=0, size=(90, 60)):
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return pre(Image.fromarray(pixels))


def test_example_layout_positions_and_loss_weights(tiny_parts):
    _, tok, pre = tiny_parts
    image = image_input(pre)
    ex = tokenize_example(ANNS, image, tok, max_len=512, sqrt_weight=True)
    n_prefix = 1 + len(image["tokens"])
    assert ex.tokens[0] == tok.bos_id and (ex.tokens[1:n_prefix] == image["tokens"]).all()
    second = np.flatnonzero(ex.segments == 2)
    # position ids restart right after the image for every annotation
    assert ex.positions[np.flatnonzero(ex.segments == 1)[0]] == n_prefix == ex.positions[second[0]]
    # loss only where the next token is an answer token or EOS, weighted 1/sqrt(2)
    answer_ids = tok.encode(ANNS[1].answer) + [tok.eos_id]
    predicted = ex.targets[ex.weights > 0]
    assert predicted[-len(answer_ids) :].tolist() == answer_ids
    assert (ex.weights > 0).sum() == len(tok.encode(ANNS[0].answer)) + 1 + len(answer_ids)
    assert np.allclose(ex.weights[ex.weights > 0], 1 / math.sqrt(2))
    assert ex.tokens[second[-1]] == tok.eos_id


def test_mask_annotation_sees_image_and_itself_only(tiny_parts):
    _, tok, pre = tiny_parts
    ex = tokenize_example(ANNS, image_input(pre), tok, max_len=512, sqrt_weight=False)
    batch = pack([ex, ex], max_len=2 * len(ex), pad_id=tok.eos_id)
    mask = batch["attention_mask"][0, 0].numpy()
    assert batch["input_ids"].shape == (1, 2 * len(ex))
    seg, n = ex.segments, len(ex)
    first, second = np.flatnonzero(seg == 1), np.flatnonzero(seg == 2)
    prefix = np.flatnonzero(seg == 0)
    assert mask[np.ix_(second, prefix)].all() and not mask[np.ix_(second, first)].any()
    assert mask[np.ix_(first, first)].sum() == len(first) * (len(first) + 1) // 2  # causal
    assert not mask[n:, :n].any()  # the second example never sees the first


def test_packed_logits_equal_separate_logits(tiny_parts):
    """Packing two annotations (and two images) into one row changes nothing any token sees."""
    model, tok, pre = tiny_parts
    images = [(0, (90, 60)), (1, (40, 120))]
    examples = [
        tokenize_example(ANNS, image_input(pre, *im), tok, max_len=512, sqrt_weight=True) for im in images
    ]
    packed = pack(examples, max_len=1024, pad_id=tok.eos_id)
    (row,) = first_fit([len(e) for e in examples], 1024)  # the order pack lays examples out in
    with torch.no_grad():
        logits = model(**{k: packed[k] for k in FORWARD_KEYS}).logits[0]
        start = 0
        for i in row:
            ex, n_prefix = examples[i], int((examples[i].segments == 0).sum())
            for k, ann in enumerate(ANNS, start=1):
                alone = pack(
                    [
                        tokenize_example(
                            [ann], image_input(pre, *images[i]), tok, max_len=512, sqrt_weight=True
                        )
                    ],
                    512,
                    tok.eos_id,
                )
                solo = model(**{key: alone[key] for key in FORWARD_KEYS}).logits[0]
                where = start + np.flatnonzero(ex.segments == k)
                torch.testing.assert_close(logits[where], solo[n_prefix:], atol=1e-5, rtol=1e-5)
            start += len(ex)


def test_first_fit_and_padding_rows():
    assert first_fit([5, 4, 3, 2], 7) == [[0, 3], [1, 2]]
    assert sum(map(len, first_fit([1] * 9, 4))) == 9


def test_too_long_image_names_the_limit(tiny_parts):
    _, tok, pre = tiny_parts
    with pytest.raises(ValueError, match="max_seq_len is 20"):
        tokenize_example(ANNS, image_input(pre), tok, max_len=20, sqrt_weight=True)


def test_annotations_that_do_not_fit_are_dropped(tiny_parts):
    _, tok, pre = tiny_parts
    image = image_input(pre)
    one = tokenize_example(ANNS[:1], image, tok, max_len=512, sqrt_weight=True)
    ex = tokenize_example(ANNS, image, tok, max_len=len(one) + 3, sqrt_weight=True)
    assert ex.segments.max() == 1 and len(ex) == len(one)


def test_multi_turn_dialogue_puts_loss_on_every_answer_and_its_eos(tiny_parts):
    """A CapQA dialogue is one annotation whose every assistant answer (each followed by EOS)
    carries loss; its prompts do not."""
    _, tok, pre = tiny_parts
    dialogue = Annotation(
        " User: Colour? Assistant:", " Green.", history=((" User: What is it? Assistant:", " A clock."),)
    )
    ex = tokenize_example([dialogue], image_input(pre), tok, max_len=512, sqrt_weight=True)
    first_answer = tok.encode(" A clock.") + [tok.eos_id]
    last_answer = tok.encode(" Green.") + [tok.eos_id]
    assert ex.targets[ex.weights > 0].tolist() == first_answer + last_answer
    assert np.allclose(ex.weights[ex.weights > 0], 1.0)  # one annotation: 1/sqrt(1)
    n_prefix = 1 + len(image_input(pre)["tokens"])
    expected = tok.encode(" User: What is it? Assistant:") + first_answer
    expected += tok.encode(" User: Colour? Assistant:") + last_answer
    assert ex.tokens[n_prefix:].tolist() == expected
