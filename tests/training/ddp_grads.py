"""Worker for test_distributed: under torchrun, rank r takes micro-batches [r*accum, (r+1)*accum)
of 2*accum packed batches and runs the training step's forward/backward; rank 0 saves the
(reduced) gradients and how many gradient reductions one step made, next to how many a step of a
single micro-batch makes.

usage: torchrun --nproc_per_node 2 tests/training/ddp_grads.py RELEASE OUT.pt ddp|fsdp ACCUM
"""

import contextlib
import gc
import sys

import torch
import torch.distributed as dist

from training.distributed import setup, teardown, unwrap, wrap
from training.train import forward_backward


def make_model_and_batches(release: str, n_batches: int = 2):
    from training import presets
    from training.data import PackedStream, release_summary
    from training.language import load_tokenizer_for
    from training.model import MolmoForCausalLM
    from training.preprocessor import ImagePreprocessor

    config = presets.run("tiny")
    # the two runs draw different dropout masks; gradients compare only without dropout
    config.model.language.residual_dropout = 0.0
    torch.manual_seed(0)
    model = MolmoForCausalLM.from_parts(config.model)
    tok = load_tokenizer_for(model.config.parts.language, model.config.llm_vocab_size)
    pre = ImagePreprocessor(model.config.parts.preprocessor, tok.image_ids)
    config.data.images_per_batch = 3
    stream = iter(PackedStream([release_summary(release, "train")], config.data, pre, tok))
    return model, [next(stream) for _ in range(n_batches)]


def full_grads(model) -> dict[str, torch.Tensor]:
    out = {}
    for name, p in unwrap(model).named_parameters():
        g = p.grad
        out[name] = (g.full_tensor() if hasattr(g, "full_tensor") else g).detach().clone()
    return out


class ReductionCounter:
    """Counts gradient reductions: DDP's through a communication hook (its reducer calls the
    collective from C++), FSDP2's by wrapping the reduce-scatter it calls."""

    def __init__(self, model, parallel: str):
        self.calls = 0
        if parallel == "ddp":
            model.register_comm_hook(None, self._ddp_hook)
        else:
            self._patch("reduce_scatter_single")
            self._patch("reduce_scatter_tensor")

    def _ddp_hook(self, state, bucket):
        self.calls += 1
        tensor = bucket.buffer().div_(dist.get_world_size())
        return dist.all_reduce(tensor, async_op=True).get_future().then(lambda f: f.value()[0])

    def _patch(self, name: str):
        original = getattr(dist, name)

        def counted(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        setattr(dist, name, counted)


def main():
    release, out, parallel, accum = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    d = setup()
    model, batches = make_model_and_batches(release, 2 * accum)
    model = wrap(model, parallel, d, bf16=False)
    counter = ReductionCounter(model, parallel)
    mine = batches[d.rank * accum : (d.rank + 1) * accum]
    step = {"world_size": d.world_size, "z_loss": 1e-4, "autocast": contextlib.nullcontext}
    forward_backward(model, mine, **step)
    grads, accum_calls = full_grads(model), counter.calls
    for p in model.parameters():
        p.grad = None
    forward_backward(model, mine[:1], **step)
    single_calls = counter.calls - accum_calls
    if d.rank == 0:
        torch.save({"grads": grads, "reductions": accum_calls, "single_reductions": single_calls}, out)
    # free DDP's reducer while the process group is alive: dropping the last reference to the
    # group at interpreter exit can deadlock with gloo's work threads
    del model
    gc.collect()
    teardown()


if __name__ == "__main__":
    main()
