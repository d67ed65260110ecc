"""Frozen-weight and score initializers (Keras initializer classes) of every method.

The TF1 kinds of the self-pruning original (``he``, ``glorot``, ``normal``,
``heconstant``, ``binary``: :func:`kernel_initializer`) and the PyTorch kinds of
hidden-networks (edge-popup, supermask sampling: :class:`KaimingWeights`,
:class:`FanInUniformScores`) live here; Slot Machines' K-value initializers live
with that method.

All draws use TensorFlow's stateless RNG keyed by ``(seed, stream)``: the same seed
and shape always give the same tensor, on any device, which is what makes
per-layer seeds meaningful. ``seed=None`` draws a fresh seed per call from Python's
``random`` module, as Keras' own initializers do, so ``keras.utils.set_random_seed``
makes unseeded layers reproducible.

``fan_in`` is the product of all kernel dimensions but the last (dense: inputs;
conv: kh*kw*C_in); ``fan_out`` is the last dimension times the receptive field.
"""

from __future__ import annotations

import math
import random
from typing import Any, Sequence

import keras
import numpy as np
import tensorflow as tf

from masktrainer.nn.names import HIDDEN_NETWORKS_INITS, TF1_INITS

# Keras/TF truncated-normal correction: std of N(0,1) truncated at +-2.
_TRUNCATED_STD = 0.87962566103423978
_PACKAGE = "masktrainer"
_SEED_HIGH = 2**31 - 1
# Stateless streams: a kernel and a score drawn from one seed use different streams.
KERNEL_STREAM = 0
SCORE_STREAM = 1
# The self-pruning original's kinds drawn by a TF op (the others by numpy): with one op
# seed for kernel and score, TF1 feeds both from the same random bits.
TF1_OP_INITS = ("he", "glorot", "normal")


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a dense (in, out) or conv (kh, kw, cin, cout) kernel."""
    shape = tuple(int(d) for d in shape)
    if len(shape) < 2:
        raise ValueError(f"kernel shape needs at least 2 dimensions, got {shape}")
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def stateless_seed(seed: int | None, stream: int) -> tf.Tensor:
    """The stateless seed pair ``(seed, stream)``; when ``seed`` is None a fresh seed from
    Python's ``random`` (which ``keras.utils.set_random_seed`` seeds, as for Keras' layers)."""
    seed = random.randrange(_SEED_HIGH) if seed is None else seed
    return tf.constant([seed, stream], dtype=tf.int64)


class SeededInitializer(keras.initializers.Initializer):
    """Base class: stores ``seed`` and turns it into a stateless seed pair.

    The pair is ``(seed, stream)``: kernels use stream 0 and scores stream 1,
    so a kernel and a score drawn from the same seed are still independent
    (as the original's numpy kernel and TF score draws were); a score put on
    stream 0 shares the kernel's bits, as TF1's ops with one op seed did.
    """

    stream = KERNEL_STREAM

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)

    def _stateless_seed(self) -> tf.Tensor:
        return stateless_seed(self.seed, self.stream)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TruncatedVarianceScaling(SeededInitializer):
    """TF's truncated-normal variance scaling (the TF1 he_normal / glorot_normal).

    Draws N(0, sigma^2) truncated at +-2 sigma with
    sigma = sqrt(scale / fan) / 0.8796..., so the realised std is sqrt(scale / fan).
    """

    def __init__(self, scale: float = 2.0, mode: str = "fan_in", seed: int | None = None):
        super().__init__(seed)
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be fan_in, fan_out or fan_avg, got {mode!r}")
        self.scale = float(scale)
        self.mode = mode

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[
            self.mode
        ]
        stddev = math.sqrt(self.scale / fan) / _TRUNCATED_STD
        values = tf.random.stateless_truncated_normal(
            shape, seed=self._stateless_seed(), stddev=stddev, dtype=tf.float32
        )
        return tf.cast(values, dtype or "float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "mode": self.mode}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ShiftedNormal(SeededInitializer):
    """Plain N(mean, stddev^2); the original ``normal`` uses mean 0.1 for dense."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean = float(mean)
        self.stddev = float(stddev)

    def __call__(self, shape, dtype=None):
        values = tf.random.stateless_normal(
            shape, seed=self._stateless_seed(), mean=self.mean, stddev=self.stddev
        )
        return tf.cast(values, dtype or "float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SignedConstant(SeededInitializer):
    """Each weight is +magnitude with probability ``p1`` and -magnitude otherwise.

    ``magnitude="he"`` gives the signed He constant sqrt(2 / fan_in) (the
    original ``heconstant``); ``magnitude="unit"`` gives +-1 (``binary``).
    """

    def __init__(self, p1: float = 0.5, magnitude: str = "he", seed: int | None = None):
        super().__init__(seed)
        if not 0.0 <= float(p1) <= 1.0:
            raise ValueError(f"p1 must lie in [0, 1], got {p1!r}")
        if magnitude not in ("he", "unit"):
            raise ValueError(f"magnitude must be 'he' or 'unit', got {magnitude!r}")
        self.p1 = float(p1)
        self.magnitude = magnitude

    def value(self, shape: Sequence[int]) -> float:
        """The constant magnitude for a kernel of this shape."""
        if self.magnitude == "unit":
            return 1.0
        return math.sqrt(2.0 / compute_fans(shape)[0])

    def __call__(self, shape, dtype=None):
        uniform = tf.random.stateless_uniform(shape, seed=self._stateless_seed())
        signs = tf.where(uniform < self.p1, 1.0, -1.0)
        return tf.cast(signs * self.value(shape), dtype or "float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "p1": self.p1, "magnitude": self.magnitude}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ScoreUniform(SeededInitializer):
    """U(minval, maxval); the original score init is U(0.01, 0.1), all positive.

    ``stream=KERNEL_STREAM`` draws from the kernel's random bits (same seed): the TF1
    coupling of ``--seeding original`` (experiments/findings/tf1_seed_coupling.md).
    """

    def __init__(
        self,
        minval: float = 0.01,
        maxval: float = 0.1,
        seed: int | None = None,
        stream: int = SCORE_STREAM,
    ) -> None:
        super().__init__(seed)
        if not minval < maxval:
            raise ValueError(f"need minval < maxval, got {minval!r} >= {maxval!r}")
        if stream not in (KERNEL_STREAM, SCORE_STREAM):
            raise ValueError(f"stream must be {KERNEL_STREAM} or {SCORE_STREAM}, got {stream!r}")
        self.minval = float(minval)
        self.maxval = float(maxval)
        self.stream = int(stream)

    def __call__(self, shape, dtype=None):
        values = tf.random.stateless_uniform(
            shape, seed=self._stateless_seed(), minval=self.minval, maxval=self.maxval
        )
        return tf.cast(values, dtype or "float32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "minval": self.minval,
            "maxval": self.maxval,
            "stream": self.stream,
        }


def kernel_initializer(
    name: str, *, seed: int | None, p1: float = 0.5, dense: bool = True
) -> keras.initializers.Initializer:
    """The frozen-weight initializer the original calls ``name``.

    ``dense`` matters only for ``normal``, whose dense mean is 0.1 (conv: 0).
    """
    if name == "he":
        return TruncatedVarianceScaling(2.0, "fan_in", seed=seed)
    if name == "glorot":
        return TruncatedVarianceScaling(1.0, "fan_avg", seed=seed)
    if name == "normal":
        return ShiftedNormal(0.1 if dense else 0.0, 0.05, seed=seed)
    if name == "heconstant":
        return SignedConstant(p1, "he", seed=seed)
    if name == "binary":
        return SignedConstant(p1, "unit", seed=seed)
    raise ValueError(f"unknown initializer {name!r}; expected one of {', '.join(TF1_INITS)}")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class KaimingWeights(SeededInitializer):
    """hidden-networks' frozen weights (``_init_conv`` of the original builder).

    ``fan`` is the kernel's fan-in multiplied by ``fan_scale`` (the original's
    ``scale_fan``) and ``sigma = sqrt(2 / fan)`` (ReLU gain):

    * ``kaiming_normal``: N(0, sigma^2);
    * ``kaiming_uniform``: U(+-sqrt(3) sigma);
    * ``signed_constant``: +-sigma, P(+) = ``p1`` (the original: 1/2);
    * ``unsigned_constant``: +sigma everywhere;
    * ``xavier_normal``: N(0, 2 / (fan_in + fan_out)) (fan_scale not applied, as the original);
    * ``xavier_constant``: +-sqrt(2 / (fan_in + fan_out)), P(+) = ``p1``;
    * ``standard``: PyTorch's default conv init U(+-1/sqrt(fan_in)).
    """

    def __init__(
        self,
        distribution: str = "kaiming_normal",
        fan_scale: float = 1.0,
        p1: float = 0.5,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed)
        if distribution not in HIDDEN_NETWORKS_INITS:
            raise ValueError(
                f"distribution must be one of {HIDDEN_NETWORKS_INITS}, got {distribution!r}"
            )
        if not float(fan_scale) > 0:
            raise ValueError(f"fan_scale must be > 0, got {fan_scale!r}")
        if not 0.0 <= float(p1) <= 1.0:
            raise ValueError(f"p1 must lie in [0, 1], got {p1!r}")
        self.distribution = distribution
        self.fan_scale = float(fan_scale)
        self.p1 = float(p1)

    def sigma(self, shape: Sequence[int]) -> float:
        """The scale of the distribution: sqrt(2 / (fan_in * fan_scale)) for the Kaiming kinds."""
        fan_in, fan_out = compute_fans(shape)
        if self.distribution.startswith("xavier"):
            return math.sqrt(2.0 / (fan_in + fan_out))
        if self.distribution == "standard":
            return 1.0 / math.sqrt(fan_in)
        return math.sqrt(2.0 / (fan_in * self.fan_scale))

    def __call__(self, shape, dtype=None):
        sigma = self.sigma(shape)
        seed = self._stateless_seed()
        if self.distribution in ("kaiming_normal", "xavier_normal"):
            values = tf.random.stateless_normal(shape, seed=seed, stddev=sigma)
        elif self.distribution in ("kaiming_uniform", "standard"):
            bound = math.sqrt(3.0) * sigma if self.distribution == "kaiming_uniform" else sigma
            values = tf.random.stateless_uniform(shape, seed=seed, minval=-bound, maxval=bound)
        elif self.distribution in ("signed_constant", "xavier_constant"):
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
    """U(+-1/sqrt(fan_in)): PyTorch ``kaiming_uniform_(a=sqrt(5))``, hidden-networks' scores."""

    stream = SCORE_STREAM

    def __call__(self, shape, dtype=None):
        bound = 1.0 / math.sqrt(compute_fans(shape)[0])
        values = tf.random.stateless_uniform(
            shape, seed=self._stateless_seed(), minval=-bound, maxval=bound
        )
        return tf.cast(values, dtype or "float32")
