import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def clocks_release(tmp_path_factory):
    """A small pixmo-clocks release made by the builders: 8 images per shard, 96 px faces."""
    from pixmo_builders.clocks import write_clocks_release

    location = tmp_path_factory.mktemp("releases") / "clocks"
    write_clocks_release(n=64, location=str(location), size=96, shard_max_samples=8, validation_fraction=0.1)
    return str(location)


@pytest.fixture(scope="session")
def tiny_parts():
    import torch

    from training import presets
    from training.language import load_tokenizer_for
    from training.model import MolmoForCausalLM
    from training.preprocessor import ImagePreprocessor

    torch.manual_seed(0)
    model = MolmoForCausalLM.from_parts(presets.model("tiny")).eval()
    tokenizer = load_tokenizer_for(model.config.parts.language, model.config.llm_vocab_size)
    return model, tokenizer, ImagePreprocessor(model.config.parts.preprocessor, tokenizer.image_ids)
