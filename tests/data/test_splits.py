"""Validation splits: the Slot Machines index split and the test set as validation."""

import numpy as np

from masktrainer.config import RunConfig
from masktrainer.data.sources import load_embedded_mnist
from masktrainer.data.splits import slot_machines_split
from masktrainer.run.loading import load_data


def test_slot_machines_split_is_the_originals_permutation():
    train, val = slot_machines_split("mnist", 60_000)
    assert (len(train), len(val)) == (50_000, 10_000)
    assert list(train[:5]) == [35022, 53142, 22198, 57442, 2619]
    assert list(val[:3]) == [43532, 36910, 868]
    assert sorted(np.concatenate([train, val])) == list(range(60_000))
    train, val = slot_machines_split("cifar10", 50_000)
    assert (len(train), len(val)) == (45_000, 5_000) and list(val[:3]) == [9329, 44100, 23783]


def test_slot_machines_split_selects_the_indexed_images():
    cfg = RunConfig(traintype="SlotMachine", normalization="per_set")
    splits = load_data(cfg)
    assert splits.sizes() == {"train": 50_000, "val": 10_000, "test": 10_000}
    raw = load_embedded_mnist()
    _, val = slot_machines_split("mnist", 60_000)
    np.testing.assert_array_equal(splits.y_val.argmax(1), raw.y_train[val])
