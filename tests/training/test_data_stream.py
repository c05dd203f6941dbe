"""What the training stream does to each image before packing: EXIF orientation, annotation
order (shuffled each time the image is packed), pre-training's transcripts."""

import io

import numpy as np
import pytest
from PIL import Image

from training.data import DataConfig, PackedStream, ReleaseSummary
from training.preprocessor import load_image

TIMES = [f"{h}:{m:02d} AM" for h, m in [(1, 5), (2, 10), (3, 15), (4, 20), (5, 25), (6, 30)]]


def png_bytes(image: Image.Image, **save) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **save)
    return buffer.getvalue()


def stream(tiny_parts, kind="pixmo-clocks", **data) -> PackedStream:
    _, tokenizer, preprocessor = tiny_parts
    config = DataConfig(**{"max_seq_len": 512, "images_per_batch": 1, "num_workers": 0, **data})
    return PackedStream([ReleaseSummary("unused", kind, 1)], config, preprocessor, tokenizer)


def answers(batch, tokenizer) -> list[str]:
    """The answers a packed batch trains on, in order (the targets with loss, split at EOS)."""
    targets = batch["targets"][batch["loss_weight"] > 0].tolist()
    out, current = [], []
    for token in targets:
        if token == tokenizer.eos_id:
            out.append(tokenizer.decode(current).strip())
            current = []
        else:
            current.append(token)
    return out


@pytest.fixture(scope="module")
def clock_image() -> bytes:
    return png_bytes(Image.new("RGB", (60, 60), (200, 200, 200)), format="PNG")


def test_annotations_are_shuffled_each_time_an_image_is_packed(tiny_parts, clock_image):
    """Six annotations of which two fit: over a few packings of the same image (epochs) every one
    of them is trained on; without shuffling the same first two always are. Seeded by the batch:
    the same batch packs the same way (so a resumed run replays it)."""
    _, tokenizer, preprocessor = tiny_parts
    rows = [{"text": t} for t in TIMES]
    one = stream(tiny_parts).make_batch([(0, (clock_image, rows[:1], []))], "0-0-0-0")
    prefix = 1 + len(preprocessor(load_image(Image.open(io.BytesIO(clock_image))))["tokens"])
    per_annotation = one["input_ids"].shape[1] - prefix
    room = prefix + 2 * per_annotation + per_annotation // 2  # two annotations fit, not three
    shuffled = stream(tiny_parts, max_seq_len=room)
    fixed = stream(tiny_parts, max_seq_len=room, shuffle_annotations=False)

    def packed(s, epoch):
        return answers(s.make_batch([(0, (clock_image, rows, []))], f"0-0-0-{epoch}"), tokenizer)

    seen, seen_fixed = set(), set()
    for epoch in range(16):
        got = packed(shuffled, epoch)
        assert len(got) == 2
        seen.update(got)
        seen_fixed.update(packed(fixed, epoch))
    assert seen == set(TIMES)
    assert seen_fixed == set(TIMES[:2])
    assert packed(shuffled, 3) == packed(shuffled, 3)


def test_pretraining_packs_the_caption_and_one_transcript(tiny_parts, clock_image):
    tokenizer = tiny_parts[1]
    spoken = ["um a clock", "a grey clock", "so a clock"]
    rows = [{"image_url": "u", "caption": "A clock.", "transcripts": spoken}]
    one = stream(tiny_parts, kind="pixmo-cap", stage="pretrain")
    every = stream(tiny_parts, kind="pixmo-cap", stage="pretrain", transcripts="all")
    drawn = set()
    for k in range(12):
        got = answers(one.make_batch([(0, (clock_image, rows, []))], f"0-0-0-{k}"), tokenizer)
        assert sorted(got)[0] == "A clock." and len(got) == 2
        drawn.update(set(got) - {"A clock."})
    assert drawn == set(rows[0]["transcripts"])
    got = answers(every.make_batch([(0, (clock_image, rows, []))], "0-0-0-0"), tokenizer)
    assert sorted(got) == sorted(["A clock.", *rows[0]["transcripts"]])
    with pytest.raises(ValueError, match="data.transcripts"):
        DataConfig(transcripts="two")


def exif_rotated(width=40, height=20) -> bytes:
    """A JPEG stored width x height (left half red, right half blue) whose EXIF orientation 6 says:
    turn 90 degrees clockwise to show it."""
    image = Image.new("RGB", (width, height), (255, 0, 0))
    image.paste((0, 0, 255), (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    return png_bytes(image, format="JPEG", quality=95, exif=exif.tobytes())


def test_load_image_applies_exif_orientation():
    upright = load_image(Image.open(io.BytesIO(exif_rotated())))
    assert upright.size == (20, 40) and upright.mode == "RGB"
    pixels = np.asarray(upright).astype(int)
    assert pixels[2, 10, 0] > 200 and pixels[-3, 10, 2] > 200  # red on top, blue below


def test_training_reads_images_upright(tiny_parts):
    """The stream preprocesses the EXIF-oriented image: its image tokens are those of the upright
    (tall) image, not of the stored (wide) one."""
    _, tokenizer, preprocessor = tiny_parts
    stored = exif_rotated(width=200, height=48)
    batch = stream(tiny_parts).make_batch([(0, (stored, [{"text": "1:05 AM"}], []))], "0-0-0-0")
    upright = preprocessor(load_image(Image.open(io.BytesIO(stored))))
    sideways = preprocessor(Image.open(io.BytesIO(stored)).convert("RGB"))
    n = len(upright["tokens"])
    assert not np.array_equal(upright["tokens"], sideways["tokens"])
    assert batch["input_ids"][0, 1 : 1 + n].tolist() == upright["tokens"].tolist()
    np.testing.assert_array_equal(batch["crops"].numpy(), upright["crops"])
