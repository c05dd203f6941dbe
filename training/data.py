"""Stream releases into packed batches: read shards (split across ranks and loader workers),
group rows by image, shuffle with a buffer, mix releases, preprocess, tokenise, pack.

Determinism contract (exact resume): every random choice is drawn from an RNG seeded by
(seed, rank, worker, counter), so a worker that skips its first k batches without decoding
them produces the same batch k+1 as an uninterrupted worker.
"""

from __future__ import annotations

import io
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from PIL import Image

from pixmo_builders.schemas import DATASETS
from training.formatting import TRANSCRIPT_CHOICES, format_example, style_for
from training.packing import pack, tokenize_example
from training.preprocessor import load_image

# SFT mixture groups by task (PIXMO_SPEC §4): chat-style PixMo, academic + synthetic, pointing/counting
TASK_GROUPS = {
    "caption": "chat", "user_qa": "chat", "dialogue_qa": "chat", "point_qa": "chat",
    "doc_qa": "academic", "clock_reading": "academic", "pointing": "pointing", "counting": "pointing",
}  # fmt: skip
DEFAULT_GROUP_WEIGHTS = {"chat": 0.15, "academic": 0.50, "pointing": 0.35}


def default_groups() -> dict[str, str]:
    """Every registered dataset's group, by its task; a release of a dataset with none is a group
    of its own."""
    return {name: TASK_GROUPS[s.task] for name, s in DATASETS.items() if s.task in TASK_GROUPS}


@dataclass
class DataConfig:
    stage: str = "sft"  # pretrain | sft
    split: str = "train"
    max_seq_len: int = 2304
    images_per_batch: int = 8  # per device micro-batch, packed into rows of max_seq_len
    shuffle_buffer: int = 512  # image groups held per release per worker
    num_workers: int = 2
    seed: int = 0
    group_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_GROUP_WEIGHTS))
    groups: dict[str, str] = field(default_factory=default_groups)
    # SFT style prefixes by dataset (`pixmo-docs`) or dataset/config (`pixmo-docs/charts`), over
    # the defaults of formatting.style_for; "" = no prefix
    styles: dict[str, str] = field(default_factory=dict)
    # Datasets to read from a whole release (`--data RELEASE`); empty: every dataset of it that
    # the mixture (`groups`) knows and that has the split. A dataset folder given as `--data`
    # is read as given.
    datasets: list[str] = field(default_factory=list)
    # pre-training on captions: the caption plus "one" of its transcripts drawn at random per
    # example (the released recipe, `pixmo_cap_with_transcripts`), or "all" of them
    transcripts: str = "one"
    # shuffle an image's annotations each time it is packed, so the ones that do not fit in
    # max_seq_len (and are dropped) differ from epoch to epoch; drawn from the batch's seeded RNG
    shuffle_annotations: bool = True

    def __post_init__(self):
        if self.stage not in ("pretrain", "sft"):
            raise ValueError(f"data.stage={self.stage!r} must be pretrain or sft")
        if self.transcripts not in TRANSCRIPT_CHOICES:
            raise ValueError(f"data.transcripts={self.transcripts!r} must be one of {TRANSCRIPT_CHOICES}")
        if self.max_seq_len < 16 or self.images_per_batch < 1 or self.num_workers < 0:
            raise ValueError("data needs max_seq_len >= 16, images_per_batch >= 1, num_workers >= 0")
        if any(w < 0 for w in self.group_weights.values()):
            raise ValueError(f"group weights must be >= 0, got {self.group_weights}")
        if not all(isinstance(name, str) and name for name in self.datasets):
            raise ValueError(f"data.datasets must be a list of dataset names, got {self.datasets!r}")


@dataclass
class ReleaseSummary:
    """What the loader needs of one release split, read from its manifest (not the manifest's
    own `pixmo_builders.manifest.ReleaseInfo`, which describes how a release was made)."""

    path: str
    kind: str  # released dataset name, e.g. pixmo-clocks
    size: int  # rows in the split
    config: str | None = None  # the dataset config the whole release is of (e.g. charts), if stated


def release_summary(path: str, split: str) -> ReleaseSummary:
    """One dataset folder's split (a whole release is refused: see `release_summaries`)."""
    from pixmo_builders.manifest import load_manifest

    return _summary(str(path), load_manifest(release=str(path)), split)


def _summary(path: str, manifest: dict, split: str) -> ReleaseSummary:
    splits = manifest["splits"]
    if split not in splits:
        raise ValueError(f"release {path} has no split {split!r}; it has {sorted(splits)}")
    config = manifest.get("release", {}).get("filters", {}).get("config")
    return ReleaseSummary(path, manifest["dataset"], int(splits[split]["rows"]), config)


def release_summaries(paths: list[str], config: DataConfig) -> list[ReleaseSummary]:
    """What to read from each `--data` path: a dataset folder as it is; from a whole release (or a
    folder of datasets written before releases had an index) the datasets `config.datasets` names,
    else every one the mixture knows that has the split. Raises ReleaseNotFound or ValueError
    with a sentence naming what the path holds."""
    from pixmo_builders.manifest import KIND_DATASET, open_release

    summaries = []
    for path in paths:
        layout = open_release(location=str(path))
        folders = list(layout.datasets.values())
        if layout.kind == KIND_DATASET:
            summaries.append(_summary(folders[0].location, folders[0].manifest, config.split))
            continue
        summaries += _chosen(layout, folders, config)
    return summaries


def _chosen(layout, folders, config: DataConfig) -> list[ReleaseSummary]:
    has = ", ".join(f"{f.name} ({', '.join(f.manifest['splits'])})" for f in folders)
    if config.datasets:
        missing = sorted(set(config.datasets) - {f.name for f in folders})
        if missing:
            raise ValueError(f"{layout.location} has no dataset {', '.join(missing)} (data.datasets); it has {has}")
        return [_summary(f.location, f.manifest, config.split) for f in folders if f.name in config.datasets]
    chosen = [f for f in folders if f.name in config.groups and config.split in f.manifest["splits"]]
    if not chosen:
        raise ValueError(
            f"{layout.location} has no dataset the training mixture knows with a {config.split!r} split; it has {has}"
        )
    return [_summary(f.location, f.manifest, config.split) for f in chosen]


def image_config(metas: list[dict], release: ReleaseSummary) -> str | None:
    """The config of one image: its rows' `config` meta (a pixmo-docs release made by the builders
    mixes charts, tables, diagrams and other), else the release's."""
    return next((m["config"] for m in metas if m.get("config")), release.config)


def mixture_rates(releases: list[ReleaseSummary], config: DataConfig) -> list[float]:
    """Within a group rates are proportional to sqrt(size); groups get their configured weight,
    renormalised over the groups present."""
    groups = [config.groups.get(r.kind, r.kind) for r in releases]
    present = set(groups)
    weight = {g: config.group_weights.get(g, 1.0) for g in present}
    if sum(weight.values()) <= 0:
        raise ValueError(f"group weights {weight} sum to 0 over the groups present")
    total = sum(weight.values())
    rates = []
    for r, g in zip(releases, groups):
        in_group = sum(math.sqrt(max(o.size, 1)) for o, og in zip(releases, groups) if og == g)
        rates.append(weight[g] / total * math.sqrt(max(r.size, 1)) / in_group)
    return rates


def image_groups(
    release: str, split: str, rank: int, world: int, worker: int, workers: int
) -> Iterator[tuple[bytes, list[dict], list[dict]]]:
    """(image bytes, released rows of that image, their metas), cycling over this reader's shards
    endlessly."""
    from pixmo_builders.reader import iter_samples

    while True:
        seen = False
        for sample in iter_samples(
            release, split=split, rank=rank, world_size=world, worker_id=worker, num_workers=workers
        ):
            seen = True
            yield sample.image_bytes, sample.record["rows"], sample.record.get("metas") or []
        if not seen:
            raise ValueError(
                f"release {release} gave no {split} samples to rank {rank}/{world} worker {worker}/{workers}; "
                "it has fewer shards than ranks x loader workers"
            )


def shuffled(stream: Iterator, buffer: int, rng: random.Random) -> Iterator:
    pool = []
    for item in stream:
        pool.append(item)
        if len(pool) >= buffer:
            i = rng.randrange(len(pool))
            pool[i], pool[-1] = pool[-1], pool[i]
            yield pool.pop()


class PackedStream(torch.utils.data.IterableDataset):
    """Yields packed batches (dicts of tensors); use with DataLoader(batch_size=None)."""

    def __init__(
        self,
        releases: list[ReleaseSummary],
        config: DataConfig,
        preprocessor,
        tokenizer,
        *,
        rank=0,
        world_size=1,
        skip_batches=0,
    ):
        super().__init__()
        self.releases, self.config = releases, config
        self.preprocessor, self.tokenizer = preprocessor, tokenizer
        self.rank, self.world_size, self.skip_batches = rank, world_size, skip_batches
        self.rates = mixture_rates(releases, config)

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        c, tag = self.config, f"{self.config.seed}-{self.rank}-{worker}"
        streams = [
            shuffled(
                image_groups(r.path, c.split, self.rank, self.world_size, worker, workers),
                c.shuffle_buffer,
                random.Random(f"shuffle-{tag}-{i}"),
            )
            for i, r in enumerate(self.releases)
        ]
        pick = random.Random(f"mix-{tag}")
        # global batch b comes from worker b % workers (DataLoader reads workers round-robin)
        skip = len(range(worker, self.skip_batches, workers))
        for local in itertools.count():
            chosen = [
                pick.choices(range(len(streams)), weights=self.rates)[0] for _ in range(c.images_per_batch)
            ]
            groups = [(i, next(streams[i])) for i in chosen]
            if local < skip:
                continue
            yield self.make_batch(groups, f"{tag}-{local}")

    def make_batch(self, groups, tag: str) -> dict[str, torch.Tensor]:
        examples, c = [], self.config
        for j, (i, (image_bytes, rows, metas)) in enumerate(groups):
            image = load_image(Image.open(io.BytesIO(image_bytes)))
            release = self.releases[i]
            style = style_for(release.kind, image_config(metas, release), c.styles)
            rng = random.Random(f"fmt-{tag}-{j}")
            annotations = format_example(
                release.kind, c.stage, rows, rng, image.size, style, transcripts=c.transcripts
            )
            if not annotations:
                continue
            if c.shuffle_annotations:
                rng.shuffle(annotations)
            image_input = self.preprocessor(image)
            examples.append(tokenize_example(annotations, image_input, self.tokenizer,
                                             max_len=c.max_seq_len, sqrt_weight=c.stage == "sft"))  # fmt: skip
        if not examples:
            raise ValueError("a batch had no trainable annotations (every row filtered out)")
        return pack(examples, c.max_seq_len, self.tokenizer.eos_id)
