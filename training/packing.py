"""Tokenise one image's annotations into one example, and pack examples into batch rows.

One example is `BOS, image tokens, annotation 1, annotation 2, ...`. Each annotation may attend
to the shared prefix (BOS + image) and to itself only, and its position ids restart right after
the image, so n annotations cost one image encoding yet train as n independent sequences.
Examples are then packed first-fit into rows of `max_len`; tokens of different examples never
attend to each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from training.formatting import Annotation


@dataclass
class Example:
    tokens: np.ndarray  # int64 [L]
    targets: np.ndarray  # int64 [L], the token predicted at each position
    weights: np.ndarray  # float32 [L], loss weight of that prediction (0 = no loss)
    positions: np.ndarray  # int64 [L]
    segments: np.ndarray  # int64 [L], 0 = shared prefix, k = annotation k
    image: dict[str, np.ndarray]  # preprocessor output; pooled_index relative to tokens

    def __len__(self) -> int:
        return len(self.tokens)


def encode_turns(annotation: Annotation, tokenizer) -> tuple[list[int], list[bool]]:
    """Tokens of every (prompt, answer) turn, each answer followed by EOS, and which of them the
    loss is on (answers and their EOS)."""
    tokens, is_answer = [], []
    for prompt, answer in annotation.turns:
        p, a = tokenizer.encode(prompt), tokenizer.encode(answer) + [tokenizer.eos_id]
        tokens += p + a
        is_answer += [False] * len(p) + [True] * len(a)
    return tokens, is_answer


def tokenize_example(
    annotations: list[Annotation], image: dict, tokenizer, *, max_len: int, sqrt_weight: bool
) -> Example:
    """Annotations that do not fit in `max_len` are dropped; a first one that alone does not fit
    is cut at the end (it then ends without EOS), unless no answer token would be left."""
    prefix = np.concatenate([[tokenizer.bos_id], image["tokens"]]).astype(np.int64)
    encoded = (encode_turns(ann, tokenizer) for ann in annotations)
    return example_from_pieces(prefix, encoded, image, max_len=max_len, sqrt_weight=sqrt_weight)


def example_from_pieces(
    prefix: np.ndarray, encoded, image: dict, *, max_len: int, sqrt_weight: bool
) -> Example:
    """One example from the shared prefix (BOS + image tokens) and each annotation's (tokens,
    is_answer), encoded lazily: annotations that do not fit in `max_len` are dropped; a first
    one that alone does not fit is cut at the end (it then ends without EOS), unless no answer
    token would be left."""
    if len(prefix) >= max_len:
        raise ValueError(
            f"the image alone needs {len(prefix)} tokens but max_seq_len is {max_len}; raise max_seq_len or lower max_crops"
        )
    pieces, room = [], max_len - len(prefix)
    for tokens, is_answer in encoded:
        if len(tokens) > room:
            if pieces or not any(is_answer[:room]):
                break
            tokens, is_answer = tokens[:room], is_answer[:room]
        pieces.append((tokens, is_answer))
        room -= len(tokens)
    if not pieces:
        raise ValueError(
            f"no annotation fits after the {len(prefix)} image tokens within max_seq_len {max_len}"
        )

    n = len(pieces)
    weight = 1.0 / math.sqrt(n) if sqrt_weight else 1.0
    tokens, is_loss, positions, segments = (
        [prefix],
        [np.zeros(len(prefix), bool)],
        [np.arange(len(prefix))],
        [np.zeros(len(prefix), np.int64)],
    )
    for k, (piece, is_answer) in enumerate(pieces, start=1):
        tokens.append(np.array(piece, np.int64))
        is_loss.append(np.array(is_answer, bool))
        positions.append(len(prefix) + np.arange(len(piece)))
        segments.append(np.full(len(piece), k, np.int64))
    tokens, is_loss = np.concatenate(tokens), np.concatenate(is_loss)
    segments = np.concatenate(segments)
    targets = np.r_[tokens[1:], 0]
    # position t predicts token t+1; it counts only if t+1 is an answer/EOS token of the same annotation
    predicts_loss = np.r_[is_loss[1:] & (segments[1:] == segments[:-1]), False]
    weights = np.where(predicts_loss, weight, 0.0).astype(np.float32)
    return Example(tokens, targets, weights, np.concatenate(positions), segments, image)


def first_fit(lengths: list[int], max_len: int) -> list[list[int]]:
    """Bins of example indices, longest first, each summing to at most max_len."""
    bins: list[list[int]] = []
    room: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        for b, r in enumerate(room):
            if lengths[i] <= r:
                bins[b].append(i)
                room[b] -= lengths[i]
                break
        else:
            bins.append([i])
            room.append(max_len - lengths[i])
    return bins


@dataclass
class Rows:
    """Examples laid into padded rows: the text tensors every model family shares, and where
    each example went (row, start, example index), in row-major order."""

    tokens: np.ndarray
    placed: list[tuple[int, int, int]]
    tensors: dict[str, torch.Tensor]


def lay_out(
    examples: list[Example], max_len: int, pad_id: int, bidirectional: np.ndarray | None = None
) -> Rows:
    """Rows padded to the longest row. attention_mask is bool [R, 1, T, T], True = may attend:
    causal within an example's shared prefix and each annotation, never across examples. Where
    `bidirectional(tokens)` is true (bool [R, T] from the laid-out tokens, e.g. a model's image
    tokens), tokens of one example also see each other both ways."""
    rows = first_fit([len(e) for e in examples], max_len)
    t = max(sum(len(examples[i]) for i in row) for row in rows)
    r = len(rows)
    tokens = np.full((r, t), pad_id, np.int64)
    targets = np.zeros((r, t), np.int64)
    weights = np.zeros((r, t), np.float32)
    positions = np.zeros((r, t), np.int64)
    doc = np.full((r, t), -1, np.int64)
    seg = np.zeros((r, t), np.int64)
    placed = []
    for ri, row in enumerate(rows):
        start = 0
        for i in row:
            e, end = examples[i], start + len(examples[i])
            tokens[ri, start:end], targets[ri, start:end], weights[ri, start:end] = (
                e.tokens,
                e.targets,
                e.weights,
            )
            positions[ri, start:end], seg[ri, start:end], doc[ri, start:end] = e.positions, e.segments, i
            placed.append((ri, start, i))
            start = end
    same_doc = (doc[:, :, None] == doc[:, None, :]) & (doc[:, :, None] >= 0)
    own_or_prefix = (seg[:, None, :] == 0) | (seg[:, :, None] == seg[:, None, :])
    mask = same_doc & own_or_prefix & np.tril(np.ones((t, t), bool))[None]
    if bidirectional is not None:
        both = bidirectional(tokens) & (doc >= 0)
        mask |= same_doc & both[:, :, None] & both[:, None, :]
    mask |= np.eye(t, dtype=bool)[None]  # padding attends to itself so softmax stays finite
    tensors = {
        "input_ids": torch.from_numpy(tokens),
        "position_ids": torch.from_numpy(positions),
        "attention_mask": torch.from_numpy(mask[:, None]),
        "targets": torch.from_numpy(targets),
        "loss_weight": torch.from_numpy(weights),
        "n_real_tokens": torch.tensor(int((doc >= 0).sum())),
        "n_images": torch.tensor(len(examples)),
    }
    return Rows(tokens, placed, tensors)


def pack(examples: list[Example], max_len: int, pad_id: int) -> dict[str, torch.Tensor]:
    """Our Molmo's batch: the shared rows plus each image's crops, patch fractions and the flat
    [R * T] position of every pooled feature's <im_patch>."""
    rows = lay_out(examples, max_len, pad_id)
    t = rows.tokens.shape[1]
    crops, real, pooled = [], [], []
    for ri, start, i in rows.placed:
        e = examples[i]
        idx = e.image["pooled_index"]
        crops.append(e.image["crops"])
        real.append(e.image["patch_real"])
        pooled.append(np.where(idx >= 0, idx + 1 + ri * t + start, -1))  # +1: BOS precedes the image
    return {
        **rows.tensors,
        "crops": torch.from_numpy(np.concatenate(crops)),
        "patch_real": torch.from_numpy(np.concatenate(real)),
        "pooled_index": torch.from_numpy(np.concatenate(pooled)),
    }
