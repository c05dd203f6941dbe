"""`pixmo image-tokens`, `pixmo train`, `pixmo eval`, `pixmo infer`: the training module's doors.
torch and transformers are imported inside the handlers so `pixmo --help` stays fast."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pixmo_cli.commands.eval_score import BENCHMARK_HELP, DATA_HELP, evaluate_benchmark
from pixmo_cli.main import CommandError

CHECKPOINT_HELP = "the run folder `pixmo train --out` wrote, or its model/ folder"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "image-tokens", help="print an image's crop tiling, scaled sizes and image-token count"
    )
    p.add_argument("width", type=int)
    p.add_argument("height", type=int)
    p.add_argument("--max-crops", type=int, help="most crops of the tiling (default 12; Molmo2's 8)")
    p.add_argument(
        "--config",
        default="1b",
        help="model preset whose preprocessor sizes to use (tiny, tiny_effnet, 1b, 7b), or molmo2 "
        "(the released Molmo2 image settings) / molmo2_tiny",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of sentences")
    p.set_defaults(func=image_tokens)

    p = subparsers.add_parser(
        "train", help="train a Molmo model on releases (run under torchrun for several GPUs)"
    )
    p.add_argument(
        "--config",
        required=True,
        help="preset (tiny, molmo2_tiny, molmo2_4b, molmo2_8b) or a TOML file, e.g. training/configs/1b_sft.toml",
    )
    p.add_argument(
        "--data",
        nargs="+",
        required=True,
        metavar="RELEASE",
        help="releases (folders or s3:// prefixes) or dataset folders inside them; from a whole release, "
        "the config's data.datasets (default: every dataset the mixture knows)",
    )
    p.add_argument("--out", required=True, help="run folder: metrics.jsonl, checkpoint/, model/")
    p.add_argument("--steps", type=int, help="total steps (overrides the config)")
    p.add_argument("--stage", choices=["pretrain", "sft"], help="override the config's data stage")
    p.add_argument(
        "--init-from",
        metavar="CHECKPOINT",
        help="start from this folder: for a molmo2 config a released Molmo2 folder (e.g. Molmo2-4B) or a "
        "RUN/model the molmo2 family exported; for our Molmo an exported RUN/model",
    )
    p.set_defaults(func=train)

    p = subparsers.add_parser(
        "eval",
        help="score a checkpoint on a release split (pointing P/R/F1, counting, captions) or, with "
        "--benchmark, on an academic benchmark (written to CHECKPOINT/eval/)",
    )
    p.add_argument("--checkpoint", required=True, help=CHECKPOINT_HELP)
    p.add_argument("--data", required=True, metavar="RELEASE",
                   help="a dataset folder, or a release of one dataset; with --benchmark, " + DATA_HELP)  # fmt: skip
    p.add_argument("--benchmark", help=BENCHMARK_HELP)
    p.add_argument("--split", help="release split (default validation); with --benchmark, the split of a "
                   "parquet folder holding several (default: the benchmark's published one)")  # fmt: skip
    p.add_argument("--limit", type=int, help="at most this many images (with --benchmark, questions)")
    p.add_argument(
        "--threshold",
        type=float,
        default=5.0,
        help="pointing distance threshold in 0-100 units where no masks exist",
    )
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.set_defaults(func=evaluate)

    p = subparsers.add_parser(
        "infer",
        help="answer a prompt about an image (draws parsed points to a PNG), or a file of prompts",
        description="One image and prompt: print the answer and draw its points. --prompts FILE: answer every "
        "line {prompt_id, image, prompt} and write {prompt_id, model, answer} lines to --answers "
        "(what `pixmo arena import` reads).",
    )
    p.add_argument("--checkpoint", required=True, help=CHECKPOINT_HELP)
    p.add_argument("--image")
    p.add_argument("--prompt")
    p.add_argument(
        "--prompts", help="JSON Lines of prompts (image paths relative to the file): answer them all"
    )
    p.add_argument("--answers", help="with --prompts: the JSON Lines file to write the answers to")
    p.add_argument(
        "--model-name",
        help="with --prompts: the model name written with each answer (default: the run folder's name)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="PNG path for the image with points drawn (default: IMAGE stem + .points.png)",
    )
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.set_defaults(func=infer)


def image_tokens(args) -> int:
    from dataclasses import replace

    from training.preprocessor import ImagePreprocessor, ImageTokenIds
    from training.presets import preprocessor

    if args.config in MOLMO2_IMAGES:
        return _molmo2_image_tokens(args)
    try:
        config = replace(preprocessor(args.config), max_crops=12 if args.max_crops is None else args.max_crops)
        t = ImagePreprocessor(config, ImageTokenIds(0, 1, 2, 3)).tiling(args.width, args.height)
    except ValueError as error:
        raise CommandError(str(error)) from None
    report = image_tokens_report(args.width, args.height, config, t)
    if args.json:
        print(json.dumps(report))
        return 0
    crops = t.rows * t.cols
    print(f"image {args.width}x{args.height}, max crops {config.max_crops}")
    print(f"tiling {t.rows} rows x {t.cols} cols ({crops} crops + 1 global view)")
    side = config.crop_px
    print(f"global view: scaled to {t.global_w}x{t.global_h} px, letterboxed to {side}x{side}")
    print(f"tiled image: scaled to {t.scaled_w}x{t.scaled_h} px, letterboxed to {t.canvas_w}x{t.canvas_h}, "
          f"cut into {crops} crops of {config.crop_px} px")  # fmt: skip
    print(f"pooled grid {t.pooled_h} x {t.pooled_w}")
    print(f"image tokens {t.n_tokens}")
    return 0


MOLMO2_IMAGES = {"molmo2": "4b", "molmo2_tiny": "tiny"}  # --config name -> the molmo2 preset whose images


def _molmo2_image_tokens(args) -> int:
    """Molmo2's tiling and token count: the global view and the canvas are resized without
    keeping the aspect (no letterbox), and every pooled row ends with <im_col>."""
    from dataclasses import replace

    from training.molmo2.config import Molmo2ModelConfig
    from training.molmo2.images import Molmo2TokenIds, crop_tiling, image_token_ids, token_pooling

    try:
        config = Molmo2ModelConfig(preset=MOLMO2_IMAGES[args.config]).image_config()
        if args.max_crops is not None:
            config = replace(config, max_crops=args.max_crops)
        if args.width < 1 or args.height < 1:
            raise ValueError(f"the image must be at least 1x1 px, got {args.width}x{args.height}")
        rows, cols = crop_tiling(args.height, args.width, config)
    except ValueError as error:
        raise CommandError(str(error)) from None
    _, grids = token_pooling(rows, cols, config)
    window = config.window_patches * config.patch_size
    margins = sum(config.overlap_margins) * config.patch_size
    canvas = {"width": cols * window + margins, "height": rows * window + margins}
    tokens = len(image_token_ids(grids, Molmo2TokenIds(0, 1, 2, 3, 4)))  # the count, whatever the ids
    report = {
        "image": {"width": args.width, "height": args.height},
        "max_crops": config.max_crops,
        "tiling": {"rows": rows, "cols": cols},
        "crops": rows * cols,
        "global_view": {"width": config.size, "height": config.size},
        "canvas": canvas,
        "pooled_grid": {
            "global": {"rows": int(grids[0]), "cols": int(grids[1])},
            "crops": {"rows": int(grids[2]), "cols": int(grids[3])},
        },
        "image_tokens": tokens,
    }
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"image {args.width}x{args.height}, max crops {config.max_crops} (Molmo2)")
    print(f"tiling {rows} rows x {cols} cols ({rows * cols} crops + 1 global view)")
    print(f"global view: resized to {config.size}x{config.size} px (aspect not kept)")
    print(f"canvas: resized to {canvas['width']}x{canvas['height']} px, cut into {rows * cols} crops of {config.size} px")
    print(f"pooled grid {int(grids[0])} x {int(grids[1])} (global) + {int(grids[2])} x {int(grids[3])} (crops)")
    print(f"image tokens {tokens}")
    return 0


def image_tokens_report(width: int, height: int, config, t) -> dict:
    """What `pixmo image-tokens --json` prints; sizes in px, "scaled" = before letterboxing."""
    return {
        "image": {"width": width, "height": height},
        "max_crops": config.max_crops,
        "tiling": {"rows": t.rows, "cols": t.cols},
        "crops": t.rows * t.cols,
        "global_view": {"width": t.global_w, "height": t.global_h},
        "tiled_image": {"width": t.scaled_w, "height": t.scaled_h},
        "canvas": {"width": t.canvas_w, "height": t.canvas_h},
        "pooled_grid": {"rows": t.pooled_h, "cols": t.pooled_w},
        "image_tokens": t.n_tokens,
    }


def train(args) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.steps is not None and args.steps < 1:
        raise CommandError(f"--steps must be at least 1, got {args.steps}")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise CommandError(f"--out {args.out} is a file; name a folder for the run")
    config = _config(args)
    _check_family(config)
    _check_data(args.data, config)
    from training.distributed import teardown
    from training.train import train as run

    records = run(config, args.data, args.out, progress=True)
    teardown()
    if records:
        print(
            f"step {records[-1]['step']}: loss {records[-1]['loss']:.4f} (first logged {records[0]['loss']:.4f}); metrics in {args.out}/metrics.jsonl"
        )
    return 0


def _config(args):
    import tomllib

    from training.presets import resolve

    try:
        config = resolve(args.config)
        if args.steps:
            config.steps = args.steps
        if args.stage:
            config.data.stage = args.stage
        if args.init_from:
            config.init_from = _init_folder(args.init_from)
    except tomllib.TOMLDecodeError as error:
        raise CommandError(f"{args.config} is not valid TOML ({error})") from None
    except UnicodeDecodeError:
        raise CommandError(
            f"{args.config} is not a text file; --config takes a preset name or a TOML file"
        ) from None
    except ValueError as error:
        raise CommandError(str(error)) from None
    return config


def _init_folder(path: str) -> str:
    """--init-from: a model folder, or a run folder whose model/ export is meant."""
    from training.model_folder import model_folder

    try:
        return str(model_folder(path))
    except ValueError as error:
        raise CommandError(f"--init-from: {error}") from None


def _check_family(config) -> None:
    """A Molmo2 folder starts a molmo2 config and our Molmo's export one of ours, told before
    any model is built."""
    from training.molmo2.model import init_from_mismatch

    if config.init_from and (mismatch := init_from_mismatch(config.model, config.init_from)):
        raise CommandError(f"--init-from {mismatch}")


def _check_data(paths: list[str], config) -> None:
    """Each --data path read as training will read it, before any model is built."""
    from pixmo_builders.manifest import ReleaseNotFound, ReleaseUnreadable
    from training.data import release_summaries

    try:
        release_summaries(paths, config.data)
    except (ReleaseNotFound, ReleaseUnreadable, ValueError) as error:
        raise CommandError(str(error)) from None


def _one_dataset(path: str):
    """The dataset folder `pixmo eval --data` scores: the path itself, or a release's only dataset."""
    from pixmo_builders.manifest import ReleaseNotFound, ReleaseUnreadable, open_release

    try:
        layout = open_release(location=path)
    except (ReleaseNotFound, ReleaseUnreadable, ValueError) as error:
        raise CommandError(str(error)) from None
    folders = list(layout.datasets.values())
    if len(folders) > 1:
        raise CommandError(
            f"{layout.describe()}; eval scores one dataset: name its folder, e.g. {folders[0].location}"
        )
    return folders[0]


def _load(checkpoint: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from training.model_folder import model_folder

    try:
        folder = model_folder(checkpoint)  # a wrong path is told before torch loads
        from training.infer import load_checkpoint

        return load_checkpoint(folder)
    except ValueError as error:
        raise CommandError(str(error)) from None


def evaluate(args) -> int:
    _at_least(limit=(args.limit, 1), max_new_tokens=(args.max_new_tokens, 1))
    if args.benchmark:
        return evaluate_benchmark(args, load=_load)
    args.split = args.split or "validation"
    if not args.threshold > 0:
        raise CommandError(f"--threshold must be above 0 (0-100 units), got {args.threshold}")
    folder = _one_dataset(args.data)
    splits = sorted(folder.manifest.get("splits", {}))
    if args.split not in splits:
        raise CommandError(f"{folder.location} has no split {args.split!r}; it has {', '.join(splits)}")
    molmo = _load(args.checkpoint)
    from training.evaluate import evaluate as run

    result = run(molmo, folder.location, split=args.split, limit=args.limit, threshold=args.threshold,
                 max_new_tokens=args.max_new_tokens, progress=True)  # fmt: skip
    eval_dir = Path(args.checkpoint) / "eval"  # beside the benchmarks' results; the dashboard reads them
    eval_dir.mkdir(exist_ok=True)
    # DATASET.SPLIT.json: never the name of an academic benchmark's result (pixmo-count is both).
    (eval_dir / f"{result['dataset']}.{args.split}.json").write_text(
        json.dumps({**result, "limit": args.limit}, indent=2) + "\n"
    )
    print(json.dumps(result, indent=2))
    return 0


def _at_least(**flags: tuple[int | None, int]) -> None:
    for name, (value, least) in flags.items():
        if value is not None and value < least:
            raise CommandError(f"--{name.replace('_', '-')} must be at least {least}, got {value}")


def infer(args) -> int:
    _at_least(max_new_tokens=(args.max_new_tokens, 1))
    if args.prompts:
        return _infer_batch(args)
    if args.image is None or args.prompt is None:
        raise CommandError("give --image and --prompt, or --prompts FILE with --answers FILE")
    if not args.prompt.strip():
        raise CommandError("--prompt is empty; ask something, e.g. --prompt 'Point to the person'")
    image = _read_image(args.image)
    out = args.out or str(Path(args.image).with_suffix(".points.png"))
    _check_png_out(out)
    molmo = _load(args.checkpoint)
    from training.infer import answer_with_points

    text, points = answer_with_points(molmo, image, args.prompt, out, args.max_new_tokens)
    print(answer_line(text))
    print(f"{len(points)} points drawn to {out}", flush=True)
    return 0


def _infer_batch(args) -> int:
    """Every prompt of a JSON Lines file answered by one checkpoint; the lines are written as they
    are answered, so an interrupted run keeps what it made."""
    from tqdm import tqdm

    from pixmo_formats.arena import ArenaFormatError, read_prompts
    from pixmo_formats.arena import answer_line as answer_line_json

    if args.image or args.prompt:
        raise CommandError("--prompts answers a whole file; leave out --image and --prompt")
    if not args.answers:
        raise CommandError("--prompts needs --answers FILE, the JSON Lines file to write the answers to")
    prompts_path, answers_path = Path(args.prompts), Path(args.answers)
    if not prompts_path.is_file():
        raise CommandError(f"--prompts {prompts_path} is not a file")
    if answers_path.is_dir() or not answers_path.parent.is_dir():
        raise CommandError(f"--answers {answers_path}: name a file in a folder that exists")
    try:
        prompts, problems = read_prompts(prompts_path)
    except ArenaFormatError as error:
        raise CommandError(str(error)) from None
    if problems:
        raise CommandError(
            f"{problems[0]}" + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else "")
        )
    if not prompts:
        raise CommandError(f"{prompts_path.name} holds no prompts")
    rows = [(prompt.prompt_id, prompt.image_path(prompts_path), prompt.prompt) for prompt in prompts]
    images = {
        path: _read_image(str(path)) for _, path, _ in rows
    }  # every image readable before the model loads
    molmo = _load(args.checkpoint)
    model_name = args.model_name or _run_name(args.checkpoint)
    from training.infer import load_image

    with answers_path.open("w", encoding="utf-8") as out:
        for prompt_id, path, prompt in tqdm(rows, desc=f"answering as {model_name}", unit="prompt"):
            answer = molmo.generate(load_image(images[path], rgb=False), prompt, max_new_tokens=args.max_new_tokens)
            out.write(answer_line_json(prompt_id=prompt_id, model=model_name, answer=answer))
            out.flush()
    print(f"{len(rows)} answers by {model_name} written to {answers_path}")
    return 0


def _run_name(checkpoint: str) -> str:
    folder = Path(checkpoint).resolve()
    return folder.parent.name if folder.name == "model" else folder.name


def answer_line(text: str) -> str:
    """The model's answer as printed: an empty one is said, not shown as a blank line."""
    return text if text.strip() else "(the model answered nothing)"


def _read_image(path: str):
    from PIL import Image, UnidentifiedImageError

    if Path(path).is_dir():
        raise CommandError(f"--image {path} is a folder; name one image file")
    try:
        image = Image.open(path)
        image.load()
    except FileNotFoundError:
        raise CommandError(f"--image {path} does not exist") from None
    except (UnidentifiedImageError, OSError) as error:
        raise CommandError(f"cannot read an image from {path} ({error})") from None
    return image


def _check_png_out(out: str) -> None:
    """Before the model loads: where the drawn image goes must be writable."""
    target = Path(out)
    if target.is_dir():
        raise CommandError(f"--out {out} is a folder; name the PNG file to write")
    if not target.parent.is_dir():
        raise CommandError(f"--out {out}: the folder {target.parent} does not exist")
