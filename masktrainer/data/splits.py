"""The Slot Machines train/validation split (``--split slot_machines``).

The original ships ``data/{mnist,cifar10}_{train,val}_indices.pt``: views into
one permutation of the official training set per data set. MNIST: train =
perm[:50000], validation = perm[50000:]; CIFAR-10: train = perm[:45000],
validation = perm[45000:]. The permutations (int64 ``.npy``, extracted from
those files) are packaged in ``masktrainer/datasets/splits`` and verified by
sha256 on every load; ``split_dir`` may point at another copy.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import numpy as np

from masktrainer.data.sources import sha256_of
from masktrainer.errors import DataError

PERMUTATION_FILES = {
    "mnist": "slot_machines_mnist_permutation.npy",
    "cifar10": "slot_machines_cifar10_permutation.npy",
}
SHA256 = {
    "slot_machines_mnist_permutation.npy":
        "e53c689e84d0c1ca0193475194f537804cd5dd2df8bedb193db5dd5ffc3a1bb7",
    "slot_machines_cifar10_permutation.npy":
        "3565ce33e427c6b04b12f389fbe3dacb7f0f4459def46785822d86e31bc28330",
}
TRAIN_SIZE = {"mnist": 50_000, "cifar10": 45_000}
# --split: the first --validation_size training images, the Slot Machines index split, or
# the test set as validation (the LaPerm notebooks: every training image is trained on).
SPLITS = ("head", "slot_machines", "test")
SPLIT_DATASETS = tuple(PERMUTATION_FILES)


def _read(path: Path, dataset: str) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"{path} is missing (the Slot Machines split of {dataset})")
    digest = sha256_of(path)
    if digest != SHA256[path.name]:
        raise DataError(f"{path} is not the Slot Machines permutation (sha256 {digest[:12]}…)")
    return np.load(path, allow_pickle=False)


def slot_machines_split(
    dataset: str, n_train_images: int, split_dir: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices) into the official training set."""
    if dataset not in PERMUTATION_FILES:
        raise DataError(f"the Slot Machines split exists for mnist and cifar10, not {dataset}")
    name = PERMUTATION_FILES[dataset]
    if split_dir:
        permutation = _read(Path(split_dir).expanduser() / name, dataset)
    else:
        folder = importlib.resources.files("masktrainer") / "datasets" / "splits"
        with importlib.resources.as_file(folder) as path:
            permutation = _read(Path(path) / name, dataset)
    if len(permutation) != n_train_images:
        raise DataError(
            f"the Slot Machines {dataset} split indexes {len(permutation)} images, "
            f"the training set has {n_train_images}"
        )
    cut = TRAIN_SIZE[dataset]
    return permutation[:cut].astype(np.int64), permutation[cut:].astype(np.int64)
