"""Connectivity statistics of masked layers (the self-pruning original's per-layer counts).

"Masked layers" (:class:`~masktrainer.nn.method_layer.MaskedLayer`) gate a fixed
kernel with a 0/1 (or sign) mask: self-pruning, edge-popup and supermask
sampling. Slot Machines keep their own statistics (that method's recorder).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from masktrainer.nn.method_layer import MaskedLayer

COUNT_FIELDS = (
    "neg_masks",
    "zero_masks",
    "pos_masks",
    "neg_effective",
    "zero_effective",
    "pos_effective",
)


def changed_from_counts(metrics: dict) -> float | None:
    """Pruned (zero) plus flipped (negative) masks of a run's last epoch, over all weights."""
    last = (metrics.get("remainingWeightsPerLayer") or [None])[-1]
    sizes = metrics.get("layer_sizes")
    if not last or not sizes or any(counts is None for counts in last):
        return None
    neg, zero = COUNT_FIELDS.index("neg_masks"), COUNT_FIELDS.index("zero_masks")
    return sum(counts[neg] + counts[zero] for counts in last) / sum(sizes)


def masked_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The masked layers of ``model`` in forward order."""
    return [layer for layer in model.layers if isinstance(layer, MaskedLayer)]


def plain_kernel_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Plain Keras Dense/Conv2D layers (fine-tuned slot-machine networks)."""
    kinds = (keras.layers.Dense, keras.layers.Conv2D)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def kept_fractions(model: keras.Model) -> list[float]:
    """Measured fraction of non-zero mask entries per masked layer."""
    return [float(np.count_nonzero(layer.get_mask().numpy())) / int(np.prod(layer.kernel.shape))
            for layer in masked_layers(model)]


def sign_counts(values: np.ndarray) -> list[int]:
    """[negative, zero, positive] counts."""
    negative = int(np.count_nonzero(values < 0))
    positive = int(np.count_nonzero(values > 0))
    return [negative, int(values.size) - negative - positive, positive]


@dataclasses.dataclass
class ConnectivityStats:
    layer_names: list[str]
    layer_sizes: list[int]
    per_layer: list[list[int]]  # COUNT_FIELDS per layer

    @property
    def total(self) -> int:
        return sum(self.layer_sizes)

    @property
    def remaining(self) -> int:
        """Non-zero mask entries over all layers (the original's remainingWeights)."""
        return sum(size - counts[1] for size, counts in zip(self.layer_sizes, self.per_layer))

    def fractions(self) -> dict[str, float]:
        """Aggregate fractions of negative/zero/positive masks and effective weights."""
        sums = np.sum(np.asarray(self.per_layer, dtype=np.int64), axis=0)
        return {name: float(v) / self.total for name, v in zip(COUNT_FIELDS, sums)}


def connectivity_stats(model: keras.Model) -> ConnectivityStats:
    """Count signs of M(score) and of M(score) * kernel in every masked layer."""
    names, sizes, per_layer = [], [], []
    for layer in masked_layers(model):
        mask = layer.get_mask().numpy()
        effective = mask * layer.kernel.numpy()
        names.append(layer.name)
        sizes.append(int(mask.size))
        per_layer.append(sign_counts(mask) + sign_counts(effective))
    return ConnectivityStats(names, sizes, per_layer)


def mask_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """Final masks for saving: each layer's learned arrays under ``<layer><suffix>``."""
    return {f"{layer.name}{suffix}": value for layer in masked_layers(model)
            for suffix, value in layer.learned_arrays().items()}


def kernel_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """Current kernels of the masked layers, keyed by layer name."""
    return {layer.name: layer.kernel.numpy() for layer in masked_layers(model)}


def plain_kernel_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """Kernels of the plain Dense/Conv2D layers."""
    return {layer.name: layer.kernel.numpy() for layer in plain_kernel_layers(model)}
