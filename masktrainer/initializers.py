"""Frozen-weight and score initializers (Keras initializer classes).

All draws use TensorFlow's stateless RNG keyed by ``(seed, stream)``: the same seed
and shape always give the same tensor, on any device, which is what makes
per-layer seeds meaningful. ``seed=None`` draws a fresh seed per call.

``fan_in`` is the product of all kernel dimensions but the last (dense: inputs;
conv: kh*kw*C_in); ``fan_out`` is the last dimension times the receptive field.
"""

from __future__ import annotations

import math
import secrets
from typing import Any, Sequence

import keras
import numpy as np
import tensorflow as tf

# Keras/TF truncated-normal correction: std of N(0,1) truncated at +-2.
_TRUNCATED_STD = 0.87962566103423978
_PACKAGE = "masktrainer"


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a dense (in, out) or conv (kh, kw, cin, cout) kernel."""
    shape = tuple(int(d) for d in shape)
    if len(shape) < 2:
        raise ValueError(f"kernel shape needs at least 2 dimensions, got {shape}")
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class SeededInitializer(keras.initializers.Initializer):
    """Base class: stores ``seed`` and turns it into a stateless seed pair.

    The pair is ``(seed, stream)``: kernels use stream 0 and scores stream 1,
    so a kernel and a score drawn from the same seed are still independent
    (as the original's numpy kernel and TF score draws were).
    """

    stream = 0

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)

    def _stateless_seed(self) -> tf.Tensor:
        seed = secrets.randbelow(2**31 - 1) if self.seed is None else self.seed
        return tf.constant([seed, self.stream], dtype=tf.int64)

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
    """U(minval, maxval); the original score init is U(0.01, 0.1), all positive."""

    stream = 1

    def __init__(self, minval: float = 0.01, maxval: float = 0.1, seed: int | None = None):
        super().__init__(seed)
        if not minval < maxval:
            raise ValueError(f"need minval < maxval, got {minval!r} >= {maxval!r}")
        self.minval = float(minval)
        self.maxval = float(maxval)

    def __call__(self, shape, dtype=None):
        values = tf.random.stateless_uniform(
            shape, seed=self._stateless_seed(), minval=self.minval, maxval=self.maxval
        )
        return tf.cast(values, dtype or "float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


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
    raise ValueError(
        f"unknown initializer {name!r}; expected he, glorot, normal, heconstant or binary"
    )


# The original's fan-ins (MNIST 28x28x1 for LeNet, CIFAR 32x32x3 for ConvN).
ORIGINAL_FAN_INS = {
    "LeNet": (784, 300, 100),
    "Conv2": (27, 576, 16384, 256, 256),
    "Conv4": (27, 576, 576, 1152, 8192, 256, 256),
    "Conv6": (27, 576, 576, 1152, 1152, 2304, 4096, 256, 256),
}
# The input-scaling literals of the original for --initializer binary.
ORIGINAL_BINARY_SCALES = {
    "LeNet": 0.0005942073791483592,
    "Conv2": 1.384305440187043e-06,
    "Conv4": 4.806616356300754e-09,
    "Conv6": 8.344820201940066e-12,
}


def binary_scale_formula(fan_ins: Sequence[int]) -> float:
    """Product over masked layers of sqrt(2 / fan_in).

    Multiplying the input of a bias-free, positively homogeneous (ReLU) network
    with +-1 weights by this number gives the logits of the same network with
    signed He-constant weights.
    """
    return math.prod(math.sqrt(2.0 / f) for f in fan_ins)


def binary_input_scale(nettype: str, fan_ins: Sequence[int], mode: str = "original") -> float:
    """The input multiplier used with ``binary`` weights.

    ``mode="original"`` returns the original's literal where it has one, i.e.
    for the original architecture on its original input shape (the LeNet
    literal equals the formula with a fan-in of 289 instead of 300 for the
    second layer, i.e. 1.9 % larger); ``"formula"`` always uses the formula,
    and so does any other architecture/input combination.
    """
    if mode not in ("original", "formula"):
        raise ValueError(f"mode must be 'original' or 'formula', got {mode!r}")
    if mode == "original" and tuple(fan_ins) == ORIGINAL_FAN_INS.get(nettype):
        return ORIGINAL_BINARY_SCALES[nettype]
    return binary_scale_formula(fan_ins)
