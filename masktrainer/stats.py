"""Connectivity statistics of masked layers (the original's per-layer counts).

"Masked layers" are those that gate a fixed kernel with a 0/1 (or sign) mask:
the self-pruning layers and the edge-popup layers. Slot layers have their own
statistics (:func:`slot_selections`, :func:`slot_histograms`).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from masktrainer.edgepopup import EdgePopupLayer
from masktrainer.layers import MaskedKernelLayer
from masktrainer.slots import SlotLayer

MASKED_LAYER_TYPES = (MaskedKernelLayer, EdgePopupLayer)

COUNT_FIELDS = (
    "neg_masks",
    "zero_masks",
    "pos_masks",
    "neg_effective",
    "zero_effective",
    "pos_effective",
)


def masked_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The masked (self-pruning or edge-popup) layers of ``model`` in forward order."""
    return [layer for layer in model.layers if isinstance(layer, MASKED_LAYER_TYPES)]


def slot_layers(model: keras.Model) -> list[SlotLayer]:
    """The slot-machine layers of ``model`` in forward order."""
    return [layer for layer in model.layers if isinstance(layer, SlotLayer)]


def plain_kernel_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Plain Keras Dense/Conv2D layers (fine-tuned slot-machine networks)."""
    kinds = (keras.layers.Dense, keras.layers.Conv2D)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def kept_fractions(model: keras.Model) -> list[float]:
    """Measured fraction of non-zero mask entries per masked layer."""
    return [float(np.count_nonzero(layer.get_mask().numpy())) / int(np.prod(layer.kernel.shape))
            for layer in masked_layers(model)]


def slot_selections(model: keras.Model) -> dict[str, np.ndarray]:
    """The argmax slot index of every connection, per slot layer (uint8 if K <= 256)."""
    out = {}
    for layer in slot_layers(model):
        index = layer.selected_slots().numpy()
        out[layer.name] = index.astype(np.uint8) if layer.slots <= 256 else index
    return out


def slot_histograms(selections: dict[str, np.ndarray], slots: int) -> list[list[int]]:
    """Per layer: how many connections select slot 0, 1, …, K-1."""
    return [np.bincount(index.ravel(), minlength=slots).astype(int).tolist()
            for index in selections.values()]


def changed_fractions(
    before: dict[str, np.ndarray], after: dict[str, np.ndarray]
) -> list[float]:
    """Per layer: fraction of connections whose selected slot differs."""
    return [float(np.mean(before[name] != after[name])) for name in after]


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
        if getattr(layer, "masktype", None) == "mask_rs":
            kept = mask[mask != 0]
            out[f"{layer.name}_scale"] = np.float32(kept[0] if kept.size else 0.0)
    return out


def kernel_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """Current kernels of the masked layers, keyed by layer name."""
    return {layer.name: layer.kernel.numpy() for layer in masked_layers(model)}


def slot_value_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """The K candidate values of every slot layer (kernel shape + (K,))."""
    return {layer.name: layer.values.numpy() for layer in slot_layers(model)}


def selected_kernel_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """The effective kernels of the argmax selection (the original's checkpoint content)."""
    return {layer.name: layer.get_effective_kernel().numpy() for layer in slot_layers(model)}


def plain_kernel_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """Kernels of the plain Dense/Conv2D layers."""
    return {layer.name: layer.kernel.numpy() for layer in plain_kernel_layers(model)}
