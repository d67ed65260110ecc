"""Initializers of edge-popup (Ramanujan et al. 2020) and Slot Machines (Aladago & Torresani 2021).

Seeded like :mod:`masktrainer.initializers` (stateless draws keyed by
``(seed, stream)``; kernels/values stream 0, scores stream 1).

Edge-popup weights (``--initializer``): ``fan`` is the kernel's fan-in,
multiplied by ``fan_scale`` (the original's ``scale_fan``), and
``sigma = sqrt(2 / fan)`` (ReLU gain):

* ``kaiming_normal``: N(0, sigma^2);
* ``kaiming_uniform``: U(+-sqrt(3) sigma) (the original has no scale_fan branch here);
* ``signed_constant``: +-sigma, P(+) = ``p1`` (the original: 1/2);
* ``unsigned_constant``: +sigma everywhere.

Edge-popup scores: kaiming_uniform with a = sqrt(5), i.e. U(+-1/sqrt(fan_in)).

Slot machines: K values per connection ~ U(-b, b) and K scores ~ U(0, b) with the
Glorot-uniform bound ``b = sqrt(6 / (fan_in + fan_out))`` of the kernel without its
slot axis.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import keras
import tensorflow as tf

from masktrainer.initializers import SeededInitializer, compute_fans

_PACKAGE = "masktrainer"
EDGE_POPUP_WEIGHT_INITS = ("kaiming_normal", "kaiming_uniform", "signed_constant", "unsigned_constant")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class KaimingWeights(SeededInitializer):
    """The edge-popup frozen weights (``_init_conv`` of the original builder)."""

    def __init__(
        self,
        distribution: str = "kaiming_normal",
        fan_scale: float = 1.0,
        p1: float = 0.5,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed)
        if distribution not in EDGE_POPUP_WEIGHT_INITS:
            raise ValueError(
                f"distribution must be one of {EDGE_POPUP_WEIGHT_INITS}, got {distribution!r}"
            )
        if not float(fan_scale) > 0:
            raise ValueError(f"fan_scale must be > 0, got {fan_scale!r}")
        if not 0.0 <= float(p1) <= 1.0:
            raise ValueError(f"p1 must lie in [0, 1], got {p1!r}")
        self.distribution = distribution
        self.fan_scale = float(fan_scale)
        self.p1 = float(p1)

    def sigma(self, shape: Sequence[int]) -> float:
        """sqrt(2 / (fan_in * fan_scale))."""
        return math.sqrt(2.0 / (compute_fans(shape)[0] * self.fan_scale))

    def __call__(self, shape, dtype=None):
        sigma = self.sigma(shape)
        seed = self._stateless_seed()
        if self.distribution == "kaiming_normal":
            values = tf.random.stateless_normal(shape, seed=seed, stddev=sigma)
        elif self.distribution == "kaiming_uniform":
            bound = math.sqrt(3.0) * sigma
            values = tf.random.stateless_uniform(shape, seed=seed, minval=-bound, maxval=bound)
        elif self.distribution == "signed_constant":
            uniform = tf.random.stateless_uniform(shape, seed=seed)
            values = tf.where(uniform < self.p1, sigma, -sigma)
        else:
            values = tf.fill(shape, sigma)
        return tf.cast(values, dtype or "float32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "distribution": self.distribution,
            "fan_scale": self.fan_scale,
            "p1": self.p1,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FanInUniformScores(SeededInitializer):
    """U(+-1/sqrt(fan_in)): PyTorch ``kaiming_uniform_(a=sqrt(5))``, the edge-popup scores."""

    stream = 1

    def __call__(self, shape, dtype=None):
        bound = 1.0 / math.sqrt(compute_fans(shape)[0])
        values = tf.random.stateless_uniform(
            shape, seed=self._stateless_seed(), minval=-bound, maxval=bound
        )
        return tf.cast(values, dtype or "float32")


def glorot_bound(kernel_shape: Sequence[int]) -> float:
    """sqrt(6 / (fan_in + fan_out)) of a kernel (without the slot axis)."""
    fan_in, fan_out = compute_fans(kernel_shape)
    return math.sqrt(6.0 / (fan_in + fan_out))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SlotValues(SeededInitializer):
    """K candidate values per connection ~ U(-b, b); ``shape`` = kernel shape + (K,)."""

    def __call__(self, shape, dtype=None):
        bound = glorot_bound(shape[:-1])
        values = tf.random.stateless_uniform(
            shape, seed=self._stateless_seed(), minval=-bound, maxval=bound
        )
        return tf.cast(values, dtype or "float32")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SlotScores(SeededInitializer):
    """K scores per connection ~ U(0, b) (not centred), as the original code."""

    stream = 1

    def __call__(self, shape, dtype=None):
        bound = glorot_bound(shape[:-1])
        values = tf.random.stateless_uniform(
            shape, seed=self._stateless_seed(), minval=0.0, maxval=bound
        )
        return tf.cast(values, dtype or "float32")
