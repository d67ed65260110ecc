"""Connectivity statistics of masked layers (the original's per-layer counts)."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from masktrainer.layers import MaskedKernelLayer

COUNT_FIELDS = (
    "neg_masks",
    "zero_masks",
    "pos_masks",
    "neg_effective",
    "zero_effective",
    "pos_effective",
)


def masked_layers(model: keras.Model) -> list[MaskedKernelLayer]:
    """The masked layers of ``model`` in forward order."""
    return [layer for layer in model.layers if isinstance(layer, MaskedKernelLayer)]


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
    """Final masks for saving: int8 sign patterns, plus the mask_rs scale factors.

    The original cast M(score) to int8, which truncates the mask_rs factor
    (e.g. 1.97 -> 1); here the pattern stays exact and the factor is stored
    separately as ``<layer>_scale``.
    """
    out: dict[str, np.ndarray] = {}
    for layer in masked_layers(model):
        mask = layer.get_mask().numpy()
        out[layer.name] = np.sign(mask).astype(np.int8)
        if layer.masktype == "mask_rs":
            kept = mask[mask != 0]
            out[f"{layer.name}_scale"] = np.float32(kept[0] if kept.size else 0.0)
    return out


def kernel_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """Current kernels of the masked layers, keyed by layer name."""
    return {layer.name: layer.kernel.numpy() for layer in masked_layers(model)}
