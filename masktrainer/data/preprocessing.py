"""The original's preprocessing: /255, per-pixel mean, scalar std, 5k validation head.

``normalization="train_stats"`` (default) computes the per-pixel mean and the
scalar std on the training split (the images trained on, validation excluded)
and applies them to train, validation and test.

``normalization="per_set"`` reproduces the original: the 60k/50k training file
is normalised with its own statistics (validation included) and the test set
with *its own* statistics.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from masktrainer.data.sources import RawData


@dataclasses.dataclass
class Splits:
    """Float32 NHWC inputs and one-hot float32 labels, ready for Keras."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    source: str
    # prepared = (raw pixels 0..255 - raw_mean) / raw_std, arrays broadcastable to an image:
    # what an exported model puts in front (None: not an affine function of the raw pixels).
    raw_mean: np.ndarray | None = None
    raw_std: np.ndarray | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.x_train), "val": len(self.x_val), "test": len(self.x_test)}

    # The data protocol the trainer uses (masktrainer.data.imagenet streams the same way).
    def train_batches(self, batch_size: int, seed: int | None):
        """Shuffled training batches per epoch, a function of (seed, epoch)."""
        from masktrainer.data.pipeline import EpochBatches

        return EpochBatches(self.x_train, self.y_train, batch_size, seed)

    def evaluation(self, split: str, batch_size: int, limit: int | None = None) -> dict:
        """``model.evaluate`` arguments for ``split`` (train, val or test), its first ``limit``."""
        x, y = {"train": (self.x_train, self.y_train), "val": (self.x_val, self.y_val),
                "test": (self.x_test, self.y_test)}[split]
        return {"x": x[:limit], "y": y[:limit], "batch_size": batch_size}

    def train_subset(self, size: int, seed: int, epoch: int, batch_size: int) -> dict:
        """A random training subset of ``size`` images, a function of (seed, epoch)."""
        order = np.random.RandomState([seed % 2**32, epoch, 1])
        index = np.sort(order.choice(len(self.x_train), size, replace=False))
        return {"x": self.x_train[index], "y": self.y_train[index], "batch_size": batch_size}


def _stats(images: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-pixel mean over the set and the global std of the centred set."""
    mean = images.mean(axis=0, dtype=np.float64).astype(np.float32)
    std = float(np.sqrt(np.mean(np.square(images - mean, dtype=np.float64))))
    return mean, std


def _normalise(images: np.ndarray, mean: np.ndarray, std: float) -> np.ndarray:
    """``(images - mean) / std`` in place (the same operations, so the same bits): a
    full-size temporary of CIFAR-10 is 600 MB."""
    images -= mean
    images /= np.float32(std)
    return images


def _scaled01(pixels: np.ndarray) -> np.ndarray:
    """``pixels / 255`` as a new float32 array, with one full-size allocation, not two."""
    out = pixels.astype(np.float32)
    out /= np.float32(255.0)
    return out


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    out = np.zeros((len(labels), num_classes), np.float32)
    out[np.arange(len(labels)), labels] = 1.0
    return out


# The originals' fixed constants, applied after x/255: dataset -> (mean, std) per channel.
# hidden_networks: edge-popup and supermask sampling (data/{mnist,cifar}.py of hidden-networks);
# slot_machines: dataset_utils.py of Slot Machines (MNIST: ToTensor only, i.e. [0, 1]).
FIXED_NORMALIZATIONS: dict[str, dict[str, tuple[tuple[float, ...], tuple[float, ...]]]] = {
    "hidden_networks": {
        "mnist": ((0.1307,), (0.3081,)),
        "cifar10": ((0.491, 0.482, 0.447), (0.247, 0.243, 0.262)),
        "imagenet2012": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    },
    "slot_machines": {
        "mnist": ((0.0,), (1.0,)),
        "cifar10": ((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261)),
    },
}
# Modes that never look at the test set's statistics; "per_set" is handled apart.
SIMPLE_NORMALIZATIONS = ("train_stats", "scale01", "raw255", "mean_only", *FIXED_NORMALIZATIONS)
NORMALIZATIONS = ("train_stats", "per_set", "scale01", "raw255", "mean_only",
                  *FIXED_NORMALIZATIONS)


def fixed_constants(normalization: str, dataset: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean, std) float32 per channel of a fixed-constant mode, None for a fitted mode.

    Raises ValueError for a fixed mode without constants for ``dataset``.
    """
    table = FIXED_NORMALIZATIONS.get(normalization)
    if table is None:
        return None
    if dataset not in table:
        raise ValueError(f"normalization {normalization!r} has constants for "
                         f"{' and '.join(table)} only, not {dataset!r}")
    mean, std = table[dataset]
    return np.asarray(mean, np.float32), np.asarray(std, np.float32)


def normalized_black(normalization: str, dataset: str) -> tuple[float, ...] | None:
    """What a raw 0 pixel becomes per channel under a fixed mode (padding value of a crop)."""
    constants = fixed_constants(normalization, dataset)
    if constants is None:
        return None
    mean, std = constants
    return tuple(float(v) for v in (np.float32(0.0) - mean) / std)


def _constants(normalization: str, fit_on: np.ndarray,
               dataset: str = "") -> tuple[np.ndarray, np.ndarray]:
    """(centre, divisor) of a mode on images already /255: normalised = (a - centre) / divisor.

    train_stats: per-pixel mean and global std of ``fit_on``; scale01: /255 only (LaPerm
    MNIST); raw255: raw 0-255 pixels (the LaPerm CIFAR notebooks' normalisation bug);
    mean_only: /255 minus the per-pixel mean (LaPerm ResNet); hidden_networks and
    slot_machines: the originals' fixed per-channel constants of ``dataset``.
    """
    constants = fixed_constants(normalization, dataset)
    if constants is not None:
        return constants
    zero, one = np.float32(0.0), np.float32(1.0)
    if normalization in ("train_stats", "per_set"):
        mean, std = _stats(fit_on)
        return mean, np.float32(std)
    if normalization == "scale01":
        return zero, one
    if normalization == "raw255":
        return zero, one / np.float32(255.0)
    if normalization == "mean_only":
        return fit_on.mean(axis=0, dtype=np.float64).astype(np.float32), one
    raise ValueError(
        f"normalization must be one of per_set, {', '.join(SIMPLE_NORMALIZATIONS)}; "
        f"got {normalization!r}"
    )


def _simple_normalise(normalization: str, fit_on: np.ndarray, arrays: list[np.ndarray],
                      dataset: str = "") -> tuple[list[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Apply a mode fitted on ``fit_on`` (already /255) to every array (already /255); also
    returns its (centre, divisor)."""
    centre, divisor = _constants(normalization, fit_on, dataset)
    for a in arrays:  # in place: the arrays are the caller's fresh copies
        a -= centre
        a /= divisor
    return arrays, (centre, divisor)


def _raw_affine(centre: np.ndarray, divisor: np.ndarray,
                input_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) on raw 0..255 pixels of (x / 255 - centre) / divisor * input_scale."""
    scale = np.float64(255.0)
    mean = np.asarray(centre, np.float64) * scale
    std = np.asarray(divisor, np.float64) * scale / np.float64(input_scale)
    return mean.astype(np.float32), std.astype(np.float32)


def prepare(
    raw: RawData,
    validation_size: int = 5000,
    normalization: str = "train_stats",
    input_scale: float = 1.0,
    split_indices: tuple[np.ndarray, np.ndarray] | None = None,
) -> Splits:
    """Split off the first ``validation_size`` training images and normalise.

    ``split_indices=(train, val)`` selects both splits by index instead (the
    Slot Machines split); ``validation_size`` is then ignored.
    """
    if split_indices is not None:
        return _prepare_indexed(raw, split_indices, normalization, input_scale)
    if not 0 < validation_size < len(raw.x_train):
        raise ValueError(
            f"validation_size must be in [1, {len(raw.x_train) - 1}], got {validation_size}"
        )
    x_train_all, x_test = _scaled01(raw.x_train), _scaled01(raw.x_test)
    if normalization == "per_set":  # exported: the training file's statistics
        constants = _stats(x_train_all)
        x_train_all = _normalise(x_train_all, *constants)
        x_test = _normalise(x_test, *_stats(x_test))
    else:
        (x_train_all, x_test), constants = _simple_normalise(
            normalization, x_train_all[validation_size:], [x_train_all, x_test], raw.dataset
        )
    if input_scale != 1.0:
        x_train_all *= np.float32(input_scale)
        x_test *= np.float32(input_scale)
    y_train_all = one_hot(raw.y_train, raw.num_classes)
    return Splits(
        x_train=x_train_all[validation_size:],
        y_train=y_train_all[validation_size:],
        x_val=x_train_all[:validation_size],
        y_val=y_train_all[:validation_size],
        x_test=x_test,
        y_test=one_hot(raw.y_test, raw.num_classes),
        num_classes=raw.num_classes,
        source=raw.source,
        **_raw_fields(constants, input_scale),
    )


def _raw_fields(constants: tuple[np.ndarray, float | np.ndarray],
                input_scale: float) -> dict[str, np.ndarray]:
    mean, std = _raw_affine(constants[0], np.float32(constants[1]), input_scale)
    return {"raw_mean": mean, "raw_std": std}


def _prepare_indexed(
    raw: RawData,
    split_indices: tuple[np.ndarray, np.ndarray],
    normalization: str,
    input_scale: float,
) -> Splits:
    """Train/validation chosen by index; ``train_stats`` uses the train indices only."""
    train_idx, val_idx = (np.asarray(i, np.int64) for i in split_indices)
    x_train, x_val = _scaled01(raw.x_train[train_idx]), _scaled01(raw.x_train[val_idx])
    x_test = _scaled01(raw.x_test)
    if normalization == "per_set":  # exported: the training file's statistics
        constants = mean, std = _stats(np.concatenate([x_train, x_val]))
        x_train, x_val = _normalise(x_train, mean, std), _normalise(x_val, mean, std)
        x_test = _normalise(x_test, *_stats(x_test))
    else:
        (x_train, x_val, x_test), constants = _simple_normalise(
            normalization, x_train, [x_train, x_val, x_test], raw.dataset)
    if input_scale != 1.0:
        for x in (x_train, x_val, x_test):
            x *= np.float32(input_scale)
    return Splits(
        x_train=x_train,
        y_train=one_hot(raw.y_train[train_idx], raw.num_classes),
        x_val=x_val,
        y_val=one_hot(raw.y_train[val_idx], raw.num_classes),
        x_test=x_test,
        y_test=one_hot(raw.y_test, raw.num_classes),
        num_classes=raw.num_classes,
        source=raw.source,
        **_raw_fields(constants, input_scale),
    )
