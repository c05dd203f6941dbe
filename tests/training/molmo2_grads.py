"""Worker for test_molmo2's two-process run: the same check as ddp_grads.py (rank r's reduced
gradients equal one process's on every micro-batch) for a tiny Molmo2, wrapped by DDP or FSDP2
(which shards its Molmo2DecoderLayer and Molmo2VisionEncoderLayer blocks).

usage: torchrun --nproc_per_node 2 tests/training/molmo2_grads.py RELEASE OUT.pt ddp|fsdp
"""

import contextlib
import gc
import sys

import torch

from tests.training.ddp_grads import ReductionCounter, full_grads
from training.distributed import setup, teardown, wrap
from training.train import forward_backward


def make_model_and_batches(release: str, n_batches: int = 2):
    from training import presets
    from training.data import release_summary
    from training.molmo2.data import Molmo2PackedStream
    from training.molmo2.model import build

    config = presets.run("molmo2_tiny")
    torch.manual_seed(0)
    model, inputs = build(config.model, None)
    config.data.images_per_batch = 3
    stream = iter(Molmo2PackedStream([release_summary(release, "train")], config.data, inputs, inputs))
    return model, [next(stream) for _ in range(n_batches)]


def main():
    release, out, parallel = sys.argv[1], sys.argv[2], sys.argv[3]
    d = setup()
    model, batches = make_model_and_batches(release, 2)
    model = wrap(model, parallel, d, bf16=False)
    counter = ReductionCounter(model, parallel)
    forward_backward(model, batches[d.rank : d.rank + 1], world_size=d.world_size, z_loss=1e-4,
                     autocast=contextlib.nullcontext)  # fmt: skip
    grads = full_grads(model)
    if d.rank == 0:
        torch.save({"grads": grads, "reductions": counter.calls}, out)
    del model
    gc.collect()
    teardown()


if __name__ == "__main__":
    main()
