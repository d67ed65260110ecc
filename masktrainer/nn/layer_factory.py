"""Layer factories: how a method builds the dense and conv layers of an architecture.

Architectures (:mod:`masktrainer.nn.build`) ask a :class:`LayerFactory` for
each layer. :class:`LayerPair` is the base of the methods' factories (two layer
classes sharing keyword arguments); :class:`DenseReferenceLayers` builds plain
bias-free Keras layers with trainable kernels (the benchmarks' dense reference
and the network that Slot Machines' fine-tuning trains).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Protocol

import keras

from masktrainer.nn.initializers import kernel_initializer
from masktrainer.nn.seeds import LayerSeeds


class LayerFactory(Protocol):
    """How a method builds the layers of an architecture."""

    def dense(
        self, units: int, activation: str, seeds: LayerSeeds | None, name: str
    ) -> keras.layers.Layer: ...

    def conv(
        self,
        filters: int,
        kernel_size: int,
        padding: str,
        activation: str,
        seeds: LayerSeeds | None,
        name: str,
        strides: int = 1,
    ) -> keras.layers.Layer: ...


def seed_of(seeds: LayerSeeds | None, which: str) -> int | None:
    """The ``kernel`` or ``score`` seed of a layer (None: unseeded)."""
    return None if seeds is None else getattr(seeds, which)


class LayerPair:
    """``dense``/``conv`` builders for a method's two layer classes.

    Subclasses name the classes and return the method's keyword arguments
    from ``common(seeds, dense)``.
    """

    dense_class: ClassVar[type]
    conv_class: ClassVar[type]

    def common(self, seeds: LayerSeeds | None, dense: bool) -> dict[str, Any]:
        raise NotImplementedError

    def dense(self, units, activation, seeds, name):
        return self.dense_class(units, activation=activation, name=name,
                                **self.common(seeds, True))

    def conv(self, filters, kernel_size, padding, activation, seeds, name, strides=1):
        return self.conv_class(
            filters, kernel_size, strides=strides, padding=padding, activation=activation, name=name,
            **self.common(seeds, False),
        )


@dataclasses.dataclass(frozen=True)
class DenseReferenceLayers:
    """Plain bias-free ``keras.layers.Dense`` / ``Conv2D`` with trainable kernels."""

    initializer: str = "he"
    p1: float = 0.5

    def _init(self, seeds: LayerSeeds | None, dense: bool) -> keras.initializers.Initializer:
        return kernel_initializer(self.initializer, seed=seed_of(seeds, "kernel"), p1=self.p1,
                                  dense=dense)

    def dense(self, units, activation, seeds, name):
        # The softmax output computes in float32 under mixed precision (Keras' advice).
        return keras.layers.Dense(units, activation=activation, use_bias=False,
                                  kernel_initializer=self._init(seeds, True), name=name,
                                  dtype="float32" if activation == "softmax" else None)

    def conv(self, filters, kernel_size, padding, activation, seeds, name, strides=1):
        return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                                   activation=activation, use_bias=False,
                                   kernel_initializer=self._init(seeds, False), name=name)
