"""Worker for test_distributed: under torchrun, each rank takes one of two packed batches and
runs the training step's forward/backward; rank 0 saves the (all-reduced) gradients.

usage: torchrun --nproc_per_node 2 tests/training/ddp_grads.py RELEASE OUT.pt ddp|fsdp
"""

import contextlib
import sys

import torch

from training.distributed import setup, teardown, unwrap, wrap
from training.train import forward_backward


def make_model_and_batches(release: str):
    from training.config import TrainConfig
    from training.data import PackedStream, release_info
    from training.language import load_tokenizer_for
    from training.model import MolmoForCausalLM
    from training.preprocessor import ImagePreprocessor

    config = TrainConfig.preset("tiny")
    # the two runs draw different dropout masks; gradients compare only without dropout
    config.model.language.residual_dropout = 0.0
    torch.manual_seed(0)
    model = MolmoForCausalLM.from_parts(config.model)
    tok = load_tokenizer_for(model.config.parts.language, model.config.llm_vocab_size)
    pre = ImagePreprocessor(model.config.parts.preprocessor, tok.image_ids)
    config.data.images_per_batch = 3
    stream = iter(PackedStream([release_info(release, "train")], config.data, pre, tok))
    return model, [next(stream), next(stream)]


def full_grads(model) -> dict[str, torch.Tensor]:
    out = {}
    for name, p in unwrap(model).named_parameters():
        g = p.grad
        out[name] = (g.full_tensor() if hasattr(g, "full_tensor") else g).detach().clone()
    return out


def main():
    release, out, parallel = sys.argv[1], sys.argv[2], sys.argv[3]
    d = setup()
    model, batches = make_model_and_batches(release)
    model = wrap(model, parallel, d, bf16=False)
    forward_backward(
        model, [batches[d.rank]], world_size=d.world_size, z_loss=1e-4, autocast=contextlib.nullcontext
    )
    grads = full_grads(model)
    if d.rank == 0:
        torch.save(grads, out)
    teardown()


if __name__ == "__main__":
    main()
