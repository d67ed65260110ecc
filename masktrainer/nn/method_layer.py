"""The layer protocol: what every method's layer offers the rest of the library.

A method layer applies an *effective kernel* derived from frozen random values
(regenerated from the run's seed) and what training chose. Export and the
compact format use only this protocol:

* :meth:`MethodLayer.get_effective_kernel` — the kernel applied at evaluation;
* :meth:`MethodLayer.learned_arrays` — what the layer learned, for the run directory;
* :meth:`MethodLayer.compact_encode` / :meth:`MethodLayer.compact_decode` — that choice
  as compact arrays and back to the effective kernel;
* :meth:`MethodLayer.export_note` — a caveat for exports (e.g. sampling at evaluation).

:class:`MaskedLayer` is the common case ``kernel * mask(score)`` (self-pruning,
edge-popup, supermask sampling); a dense or conv geometry
(:mod:`masktrainer.nn.geometry`) is mixed in front of each concrete layer.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

import keras
import numpy as np
import tensorflow as tf

from masktrainer.nn.bits import pack_flags, unpack_flags


class MethodLayer(keras.layers.Layer):
    """Base of the layers whose kernel is derived (masked, top-k, slot-selected...)."""

    #: The frozen variable regenerated from the run's seed ("kernel" or "values").
    frozen_name: ClassVar[str] = "kernel"

    def frozen_value(self) -> np.ndarray:
        return np.asarray(getattr(self, self.frozen_name))

    def get_effective_kernel(self) -> tf.Tensor:
        """The kernel the layer applies at evaluation."""
        raise NotImplementedError

    def learned_arrays(self) -> dict[str, np.ndarray]:
        """What the layer learned, keyed by a suffix of its name ("" for the main array)."""
        raise NotImplementedError

    def compact_encode(self) -> dict[str, np.ndarray]:
        """The learned choice as compact arrays, keyed by a short name."""
        raise NotImplementedError

    def compact_decode(self, frozen: np.ndarray, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        """The effective kernel from the frozen values and :meth:`compact_encode`'s arrays."""
        raise NotImplementedError

    def export_note(self) -> str | None:
        """Something an export of this layer changes, said once per export (None: nothing)."""
        return None


def add_kernel_and_score(layer: keras.layers.Layer, shape, train_kernel: bool,
                         train_score: bool) -> None:
    """Create ``layer.kernel`` and ``layer.score`` from the layer's two initializers.

    autocast=False keeps both in float32 under mixed precision; only the
    effective kernel is cast to the compute dtype.
    """
    layer.kernel = layer.add_weight(name="kernel", shape=shape, autocast=False,
                                    initializer=layer.kernel_initializer, trainable=train_kernel)
    layer.score = layer.add_weight(name="score", shape=shape, autocast=False,
                                   initializer=layer.score_initializer, trainable=train_score)


class MaskedLayer(MethodLayer):
    """``kernel * mask(score)``: a fixed kernel gated by a trained score of the same shape.

    Subclasses define :meth:`get_mask` (the evaluation-mode mask) and build
    ``kernel`` and ``score``; a mask of 0/1 values is stored as 1 bit per weight.
    """

    def get_mask(self) -> tf.Tensor:
        """The mask applied at evaluation (float32, kernel shape)."""
        raise NotImplementedError

    def get_effective_kernel(self) -> tf.Tensor:
        """kernel * mask: the weights the layer actually applies."""
        return tf.convert_to_tensor(self.kernel) * self.get_mask()

    def learned_arrays(self) -> dict[str, np.ndarray]:
        """The mask's sign pattern as int8 (-1/0/+1)."""
        return {"": np.sign(np.asarray(self.get_mask())).astype(np.int8)}

    def compact_encode(self) -> dict[str, np.ndarray]:
        return {"keep": pack_flags(np.asarray(self.get_mask()) != 0)}

    def compact_decode(self, frozen: np.ndarray, arrays: Mapping[str, Any]) -> np.ndarray:
        keep = unpack_flags(arrays["keep"], frozen.shape)
        return (frozen * keep.astype(np.float32)).astype(np.float32)
