import hashlib

import pytest

from pixmo_builders.split import TRAIN, VALIDATION, SplitPolicy, assign_split


def _sha(index: int) -> str:
    return hashlib.sha256(str(index).encode()).hexdigest()


def test_split_depends_only_on_image_and_seed():
    policy = SplitPolicy(validation_fraction=0.2, seed=3)
    first = [assign_split(image_sha256=_sha(i), policy=policy) for i in range(500)]
    again = [
        assign_split(image_sha256=_sha(i), policy=SplitPolicy(validation_fraction=0.2, seed=3))
        for i in range(500)
    ]
    assert first == again
    assert 0.12 < first.count(VALIDATION) / 500 < 0.28
    other_seed = [
        assign_split(image_sha256=_sha(i), policy=SplitPolicy(validation_fraction=0.2, seed=4))
        for i in range(500)
    ]
    assert other_seed != first


def test_heldout_images_leave_every_training_split():
    heldout = _sha(1)
    policy = SplitPolicy(validation_fraction=0.5, heldout_image_sha256=frozenset({heldout}))
    assert assign_split(image_sha256=heldout, policy=policy) is None
    assert assign_split(image_sha256=_sha(2), policy=policy) in (TRAIN, VALIDATION)


def test_fixed_split_and_bad_input():
    assert assign_split(image_sha256=_sha(1), policy=SplitPolicy(fixed_split="test")) == "test"
    with pytest.raises(ValueError, match="64 hex"):
        assign_split(image_sha256="abc", policy=SplitPolicy())
    with pytest.raises(ValueError, match="validation_fraction"):
        SplitPolicy(validation_fraction=1.5)
