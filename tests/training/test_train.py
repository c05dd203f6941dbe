import json

import pytest
import torch
from safetensors.torch import load_file

from training import presets
from training.optim import lr_at
from training.presets import load_config, resolve
from training.train import train


def tiny(steps=40, **data):
    config = presets.run("tiny")
    config.steps = steps
    for key, value in data.items():
        setattr(config.data, key, value)
    return config


def test_loss_falls_and_metrics_are_logged_from_step_one(clocks_release, tmp_path):
    records = train(tiny(40), [clocks_release], tmp_path)
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == list(range(1, 41))
    assert {"step", "loss", "lr", "tokens_per_s", "data_wait_share"} <= lines[0].keys()
    assert set(lines[0]["lr"]) == {"vit", "connector", "llm"}
    first, last = records[0]["loss"], sum(r["loss"] for r in records[-5:]) / 5
    assert last < 0.6 * first, (first, last)
    assert (tmp_path / "model" / "model.safetensors").exists()


def test_resumed_run_matches_uninterrupted(clocks_release, tmp_path):
    config = tiny(8, num_workers=2, images_per_batch=4)
    config.save_every = 4
    straight = train(config, [clocks_release], tmp_path / "a")
    first = train(config, [clocks_release], tmp_path / "b", steps=4)
    resumed = train(config, [clocks_release], tmp_path / "b")
    assert [r["step"] for r in first + resumed] == list(range(1, 9))
    # CPU kernels are not bitwise reproducible even between two fresh runs (~1e-7 relative), so
    # the model is compared to that tolerance; the data position is checked bitwise below
    assert [r["loss"] for r in first + resumed] == pytest.approx([r["loss"] for r in straight], rel=1e-5)
    assert [r["loss_tokens"] for r in first + resumed] == [r["loss_tokens"] for r in straight]
    a, b = (
        load_file(tmp_path / "a/model/model.safetensors"),
        load_file(tmp_path / "b/model/model.safetensors"),
    )
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=1e-4)


def test_skipping_batches_reproduces_the_stream_bitwise(clocks_release, tiny_parts):
    from training.data import PackedStream, release_summary

    _, tok, pre = tiny_parts
    config = tiny().data
    config.images_per_batch = 3
    summaries = [release_summary(clocks_release, "train")]
    full = iter(PackedStream(summaries, config, pre, tok))
    expected = [next(full) for _ in range(5)][3:]
    skipped = iter(PackedStream(summaries, config, pre, tok, skip_batches=3))
    for want in expected:
        got = next(skipped)
        assert all(torch.equal(got[k], want[k]) for k in want)


def test_schedule_warmup_then_cosine_to_ten_percent():
    assert lr_at(0, 1.0, 10, 100, 0.1) == pytest.approx(0.1)
    assert lr_at(9, 1.0, 10, 100, 0.1) == pytest.approx(1.0)
    assert lr_at(100, 1.0, 10, 100, 0.1) == pytest.approx(0.1)
    assert 0.1 < lr_at(55, 1.0, 10, 100, 0.1) < 1.0


@pytest.mark.parametrize("name", ["1b_pretrain", "1b_sft", "7b_pretrain", "7b_sft"])
def test_real_run_configs_load(name):
    config = resolve(name)
    assert config.data.max_seq_len == 2304
    if name.endswith("pretrain"):
        assert (
            config.optim.lr == {"vit": 6e-6, "connector": 2e-4, "llm": 2e-5}
            and config.data.stage == "pretrain"
        )
    else:
        assert config.optim.lr == {"vit": 5e-6, "connector": 5e-6, "llm": 1e-5} and config.data.stage == "sft"


def test_config_errors_name_the_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('preset = "tiny"\n[data]\nmax_seq_lenn = 3\n')
    with pytest.raises(ValueError, match="max_seq_lenn"):
        load_config(bad)
    with pytest.raises(ValueError, match="unknown config"):
        resolve("13b")
