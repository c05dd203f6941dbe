#!/usr/bin/env bash
# Short prepared GPU runs on one GPU, each printing tokens/s and MFU (PaLM formula):
#   1. the 1B config (CLIP ViT-L/14-336 shape + OLMo-1B-shaped LLM, both randomly initialised,
#      bf16 autocast, SDPA);
#   2. a Molmo2-4B-shaped random model (transformers' Molmo2ForConditionalGeneration, the molmo2
#      family) under FSDP2 (torchrun, one rank), bf16, the same release.
#
# Assumes: run from the repository root; a Python with CUDA-enabled torch (2.x), transformers,
# safetensors, numpy, pillow, pyarrow, tqdm is on the machine (set PYTHON=...; the default tries
# .venv/bin/python and falls back to python3 when the venv's torch is CPU-only). Installs nothing,
# downloads nothing. Takes about 3-5 minutes on one H100 including start-up.
#
# usage: bash bench/train_gpu.sh [STEPS=20] [IMAGES_PER_BATCH=16] [MOLMO2_IMAGES_PER_BATCH=4]
set -euo pipefail
STEPS=${1:-20}
IMAGES=${2:-16}
MOLMO2_IMAGES=${3:-4}
export HF_HUB_OFFLINE=1 PYTHONPATH="$PWD" TOKENIZERS_PARALLELISM=false
PY=${PYTHON:-.venv/bin/python}
if ! "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  PY=python3
fi
"$PY" -c 'import torch; assert torch.cuda.is_available(), "no CUDA torch found"; print("torch", torch.__version__, torch.cuda.get_device_name(0))'
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 1. a small synthetic release (CPU, a few seconds): 384 px clock faces, 64 images per shard
"$PY" - "$WORK/clocks" <<'PYEOF'
import sys
from pixmo_builders.clocks import write_clocks_release
write_clocks_release(n=1024, location=sys.argv[1], size=384, shard_max_samples=64)
PYEOF

# 2. the 1B model with the SFT hyper-parameters; no checkpoints written
cat > "$WORK/gpu_1b.toml" <<TOML
steps = 1000        # schedule length; the run stops after --steps
save = false
parallel = "ddp"
precision = "bf16"
[model]
preset = "1b"
[data]
stage = "sft"
max_seq_len = 2304
images_per_batch = $IMAGES
num_workers = 8
shuffle_buffer = 64
[optim]
preset = "sft"
TOML
"$PY" -m training.train --config "$WORK/gpu_1b.toml" --data "$WORK/clocks" --out "$WORK/run" --steps "$STEPS"

summary() {  # over the steps after warm-up
"$PY" - "$1" "$2" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
steady = rows[5:] or rows
med = lambda k: statistics.median(r[k] for r in steady if r.get(k) is not None)
print(f"== {sys.argv[2]}")
print(f"steps {len(rows)}  loss {rows[0]['loss']:.3f} -> {rows[-1]['loss']:.3f}")
print(f"tokens/s {med('tokens_per_s'):.0f}  step {med('step_s'):.3f} s  data-wait share {med('data_wait_share'):.2f}")
print(f"MFU {100 * med('mfu'):.1f} %" if any('mfu' in r for r in steady) else "MFU n/a (unknown GPU peak)")
PYEOF
}
summary "$WORK/run/metrics.jsonl" "1B, DDP, bf16"

# 3. a Molmo2-4B-shaped random model (byte tokenizer over the released 151,936-token vocabulary),
#    FSDP2 over its decoder and ViT blocks, bf16; released image settings (8 crops of 378 px)
cat > "$WORK/gpu_molmo2_4b.toml" <<TOML
preset = "molmo2_4b"
steps = 1000
save = false
parallel = "fsdp"
precision = "bf16"
[data]
stage = "sft"
max_seq_len = 4096
images_per_batch = $MOLMO2_IMAGES
num_workers = 8
shuffle_buffer = 64
TOML
"$PY" -m torch.distributed.run --standalone --nproc_per_node 1 -m training.train \
  --config "$WORK/gpu_molmo2_4b.toml" --data "$WORK/clocks" --out "$WORK/run_molmo2" --steps "$STEPS"
summary "$WORK/run_molmo2/metrics.jsonl" "Molmo2-4B shape, FSDP2, bf16"
