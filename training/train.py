"""The training loop. Launch with `pixmo train` (one process) or `torchrun ... -m training.train`.

One step: fetch grad_accum packed micro-batches -> agree on the global loss-token count ->
forward/backward each (gradients all-reduced on the last) -> per-group clip -> AdamW -> log.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict
from pathlib import Path

import torch

from training import checkpoint
from training.config import TrainConfig
from training.distributed import Dist, all_reduce_sum, gradient_sync, setup, unwrap, wrap
from training.flops import batch_counts, flops_per_step, peak_flops
from training.optim import build_optimizer, clip_per_group, set_learning_rates

# what a packed batch holds besides the model's inputs (which differ by model family)
NOT_MODEL_INPUTS = ("targets", "loss_weight", "n_real_tokens", "n_images")


def loss_sums(
    model, batch: dict, z_loss: float, caption_dropout: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sums over loss tokens of weight * cross-entropy and of weight * z_loss * logsumexp^2 (the
    z-loss weighted by the loss mask, as the released code: a position without loss adds nothing,
    and an annotation's 1/sqrt(n) scales both). With `caption_dropout` (pre-training) the LLM's
    residual dropout hits only the positions that predict caption tokens; otherwise (SFT) every
    position."""
    keep = batch["loss_weight"] > 0
    inputs = {k: v for k, v in batch.items() if k not in NOT_MODEL_INPUTS}
    logits = model(**inputs, logit_mask=keep, dropout_where=keep if caption_dropout else None).float()
    lse = torch.logsumexp(logits, dim=-1)
    ce = lse - logits.gather(-1, batch["targets"][keep].unsqueeze(-1)).squeeze(-1)
    weight = batch["loss_weight"][keep]
    return (ce * weight).sum(), z_loss * (lse**2 * weight).sum()


def forward_backward(
    model, micro_batches: list[dict], *, world_size: int, z_loss: float, autocast, caption_dropout=False
) -> dict[str, float]:
    """Gradients of sum(weighted loss) / (mean per device, over all devices, of the summed loss
    weights), as the released code (its "global_batch" divisor): with DDP's gradient averaging
    over world_size this is the weighted mean over every loss token of the global batch, whatever
    the split into devices and micro-batches. Where every weight is 1 (pre-training) the divisor
    is the mean loss-token count; in SFT an image's n annotations weigh 1/sqrt(n) each."""
    local_tokens = sum(int((b["loss_weight"] > 0).sum()) for b in micro_batches)
    local_weight = sum(float(b["loss_weight"].double().sum()) for b in micro_batches)
    # sync point: every rank needs the global sum before its first backward
    totals = all_reduce_sum(
        torch.tensor([local_weight], dtype=torch.float64, device=micro_batches[0]["input_ids"].device)
    )
    normaliser = max(float(totals[0]) / world_size, 1e-12)
    ce_total = z_total = 0.0
    for i, batch in enumerate(micro_batches):
        # sync point: gradients are reduced across ranks (DDP all-reduce, FSDP reduce-scatter)
        # during the last micro-batch's backward only; the others accumulate locally
        with gradient_sync(model, enabled=i == len(micro_batches) - 1):
            with autocast():
                ce, z = loss_sums(model, batch, z_loss, caption_dropout)
            ((ce + z) / normaliser).backward()
        ce_total, z_total = ce_total + ce.detach(), z_total + z.detach()
    # one host sync per step, after every backward has been queued
    return {"ce_sum": float(ce_total), "z_sum": float(z_total), "loss_tokens": local_tokens,
            "loss_weight": local_weight}  # fmt: skip


def to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def build(config: TrainConfig, releases: list[str], d: Dist, skip_batches: int):
    """The model, what the export saves beside it (tokenizer and settings), and the batch stream,
    for the configuration's model family: our Molmo recipe or transformers' Molmo2."""
    from training.data import PackedStream, release_summaries
    from training.molmo2.config import Molmo2ModelConfig

    torch.manual_seed(config.seed)  # identical initialisation on every rank
    if isinstance(config.model, Molmo2ModelConfig):
        from training.molmo2.data import Molmo2PackedStream
        from training.molmo2.model import build as build_molmo2

        model, inputs = build_molmo2(config.model, config.init_from)
        stream_class, preprocessor, tokenizer = Molmo2PackedStream, inputs, inputs
    else:
        model, tokenizer = _build_molmo(config)
        from training.preprocessor import ImagePreprocessor

        stream_class, preprocessor = (
            PackedStream,
            ImagePreprocessor(model.config.parts.preprocessor, tokenizer.image_ids),
        )
    checkpoint.seed_rank(config.seed, d.rank)  # from here on each rank draws its own dropout masks
    summaries = release_summaries(releases, config.data)
    stream = stream_class(
        summaries,
        config.data,
        preprocessor,
        tokenizer,
        rank=d.rank,
        world_size=d.world_size,
        skip_batches=skip_batches,
    )
    return model, tokenizer, stream


def _build_molmo(config: TrainConfig):
    from training.language import load_tokenizer_for
    from training.model import MolmoForCausalLM
    from training.molmo2.model import init_from_mismatch
    from training.tokenizer import Tokenizer

    if config.init_from:
        if mismatch := init_from_mismatch(config.model, config.init_from):
            raise ValueError(mismatch)
        if not (Path(config.init_from) / "config.json").exists():
            raise ValueError(f"init_from={config.init_from} is not an exported Molmo folder (no config.json)")
        model = MolmoForCausalLM.from_pretrained(config.init_from)
        return model, Tokenizer.load(Path(config.init_from) / "tokenizer", model.config.llm_vocab_size)
    model = MolmoForCausalLM.from_parts(config.model)
    return model, load_tokenizer_for(model.config.parts.language, model.config.llm_vocab_size)


def train(
    config: TrainConfig,
    releases: list[str],
    out: str | Path,
    *,
    steps: int | None = None,
    progress: bool = False,
) -> list[dict]:
    """Runs (or resumes, if `out` holds a checkpoint) until `config.steps`; `steps` stops early
    at that step without changing the schedule. Returns the logged records."""
    d = setup()
    out = Path(out)
    ckpt_dir = out / "checkpoint"
    bf16 = config.precision == "bf16" or (
        config.precision == "auto" and d.device.type == "cuda" and torch.cuda.is_bf16_supported()
    )
    autocast = (
        (lambda: torch.autocast(d.device.type, dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext
    )

    saved = checkpoint.position(ckpt_dir, d.rank)
    skip = saved["micro_batches"] if saved else 0  # the stream replays (without decoding) what was consumed
    model, tokenizer, stream = build(config, releases, d, skip)
    model.to(d.device)
    peak = peak_flops(d.device)
    # counted once, on the unwrapped model; MFU is logged only where the device's peak is known
    mfu_basis = (peak, model.vision_flops_per_crop() if peak else 0.0)
    model = wrap(model, config.parallel, d, bf16)
    optimizer = build_optimizer(unwrap(model).param_groups(), config.optim)
    # restores this rank's RNG, replacing the fresh per-rank seed drawn in build
    resumed = checkpoint.load(ckpt_dir, model, optimizer, d.rank)
    start = resumed["step"] if resumed else 0
    # the loader draws its workers' seed from its own generator, not from the (restored) global RNG
    # that dropout draws from; the batches themselves depend only on (seed, rank, worker)
    loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=config.data.num_workers, pin_memory=d.device.type == "cuda",
                                         persistent_workers=config.data.num_workers > 0,
                                         generator=torch.Generator().manual_seed(config.seed))  # fmt: skip
    batches = iter(loader)
    if d.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(asdict(config), indent=2, default=str))
    end = min(config.steps, steps or config.steps)
    records: list[dict] = []
    bar = _progress(progress and d.is_main, start, end)
    model.train()
    for step in range(start, end):
        t0 = time.perf_counter()
        micro = [to_device(next(batches), d.device) for _ in range(config.grad_accum)]
        t_data = time.perf_counter() - t0
        lrs = set_learning_rates(optimizer, step, config.steps, config.optim)
        stats = forward_backward(
            model, micro, world_size=d.world_size, z_loss=config.optim.z_loss, autocast=autocast,
            caption_dropout=config.data.stage == "pretrain",
        )  # fmt: skip
        norms = clip_per_group(optimizer, config.optim.clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if d.device.type == "cuda":
            torch.cuda.synchronize()  # honest step time
        t_step = time.perf_counter() - t0

        if (step + 1) % config.log_every == 0 or step == start:
            record = _log_record(step, stats, micro, lrs, norms, t_data, t_step, model, mfu_basis, d)
            records.append(record)
            if d.is_main:
                with open(out / "metrics.jsonl", "a") as f:
                    f.write(json.dumps(record) + "\n")
            if bar:
                bar.set_postfix(loss=f"{record['loss']:.3f}", tok_s=f"{record['tokens_per_s']:.0f}")
        if bar:
            bar.update(1)
        if config.save and ((step + 1) % config.save_every == 0 or step + 1 == end):
            checkpoint.save(
                ckpt_dir,
                model,
                optimizer,
                step=step + 1,
                micro_batches=(step + 1) * config.grad_accum,
                is_main=d.is_main,
            )
    if config.save and start < end:
        export(model, tokenizer, out / "model", is_main=d.is_main)
    if bar:
        bar.close()
    return records


def _log_record(step, stats, micro, lrs, norms, t_data, t_step, model, mfu_basis, d: Dist) -> dict:
    # sync point: loss and token counts are summed over ranks so every rank logs the global value
    tokens = sum(int(b["n_real_tokens"]) for b in micro)
    totals = all_reduce_sum(
        torch.tensor(
            [stats["ce_sum"], stats["z_sum"], stats["loss_weight"], stats["loss_tokens"], tokens],
            dtype=torch.float64,
            device=d.device,
        )
    )
    ce, z, weight, loss_tokens, tokens = totals.tolist()
    record = {
        "step": step + 1,
        # the weighted means the gradient is of (see forward_backward)
        "loss": ce / weight if weight else 0.0,
        "z_loss": z / weight if weight else 0.0,
        "lr": lrs,
        "grad_norm": norms,
        "loss_tokens": int(loss_tokens),
        "tokens_per_s": tokens / t_step,
        "data_wait_share": t_data / t_step,
        "step_s": t_step,
    }
    peak, vision_flops = mfu_basis  # device peak FLOP/s, backbone forward FLOPs per crop
    if peak:
        counts = [batch_counts(b) for b in micro]
        batch_stats = {
            "tokens": tokens, "seq_len": micro[0]["input_ids"].shape[1],
            "crops": d.world_size * sum(c["crops"] for c in counts),
            "pooled": d.world_size * sum(c["pooled"] for c in counts),
        }  # fmt: skip
        step_flops = flops_per_step(unwrap(model), batch_stats, vision_flops)
        record["mfu"] = step_flops / t_step / (peak * d.world_size)
    return record


def export(model, tokenizer, folder: Path, *, is_main: bool = True) -> None:
    """A Hugging Face folder for eval and inference: our Molmo's (config, safetensors,
    tokenizer/), or a native Molmo2 folder (training.molmo2.model.export). Collective under FSDP:
    every rank calls it, rank 0 writes."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    from training.molmo2.model import Molmo2ForTraining
    from training.molmo2.model import export as export_molmo2

    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if not is_main:
        return
    if isinstance(unwrap(model), Molmo2ForTraining):
        export_molmo2(unwrap(model), state, tokenizer, folder)
        return
    unwrap(model).save_pretrained(str(folder), state_dict=state)
    tokenizer.save(folder / "tokenizer")


def _progress(enabled: bool, start: int, end: int):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=end - start, initial=0, desc="train", unit="step")


def main() -> None:
    """torchrun entry point: python -m training.train CONFIG OUT RELEASE..."""
    import argparse

    from training.distributed import teardown
    from training.presets import resolve

    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--data", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int)
    p.add_argument("--init-from")
    args = p.parse_args()
    config = resolve(args.config)
    if args.steps:
        config.steps = args.steps
    if args.init_from:
        config.init_from = args.init_from
    train(config, args.data, args.out, progress=True)
    teardown()


if __name__ == "__main__":
    main()
