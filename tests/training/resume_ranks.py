"""Worker for test_distributed: under torchrun, a 2-rank run straight through OUT/a, and the same
run stopped at its checkpoint and resumed in OUT/b. Rank 0 writes the logged records of both.

usage: torchrun --nproc_per_node 2 tests/training/resume_ranks.py RELEASE OUT
"""

import gc
import json
import sys
from pathlib import Path

from training import presets
from training.config import TrainConfig
from training.distributed import setup, teardown
from training.train import train

STEPS, STOP = 4, 2


def config() -> TrainConfig:
    c = presets.run("tiny")
    c.steps, c.save_every = STEPS, STOP
    # dropout on: each rank draws its own masks, so a resume must restore every rank's RNG
    c.model.language.residual_dropout = 0.1
    c.data.images_per_batch, c.data.num_workers = 2, 1
    return c


def main():
    release, out = sys.argv[1], Path(sys.argv[2])
    d = setup()
    straight = train(config(), [release], out / "a")
    first = train(config(), [release], out / "b", steps=STOP)
    resumed = train(config(), [release], out / "b")
    if d.is_main:
        (out / "records.json").write_text(json.dumps({"straight": straight, "resumed": first + resumed}))
    gc.collect()  # the models are gone; free their process-group references before teardown
    teardown()


if __name__ == "__main__":
    main()
