"""Edge-popup layers (Ramanujan et al., CVPR 2020): keep the top-k |score| per layer.

Each layer holds a frozen random ``kernel`` and a trainable ``score`` of the
same shape. The forward pass keeps exactly ``n - int((1 - keep_ratio) * n)``
connections, those with the largest ``|score|`` (the original ``GetSubnet``
rule, whose ``prune_rate`` is this ``keep_ratio``); ties are broken by the
lower flat index, so the count is exact and the mask deterministic even when
scores are tied (a plain threshold would keep every tied entry). The original
sorts (``torch.sort``, unstable tie order); here a radix selection finds the
k-th largest |score| without sorting. The gradient passes
straight through the top-k selection and then through ``|.|``, so
``dL/ds = sign(s) * dL/dW_eff * kernel`` (0 where s == 0), as in the original.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

import keras
import tensorflow as tf

from masktrainer.methods.edge_popup.options import KEEP_RATIO
from masktrainer.methods.recording import MaskCountRecorder
from masktrainer.nn.activations import apply_activation, validate_activation
from masktrainer.nn.geometry import ConvGeometry, DenseGeometry
from masktrainer.nn.initializers import FanInUniformScores, KaimingWeights
from masktrainer.nn.layer_factory import LayerPair, seed_of
from masktrainer.nn.method_layer import MaskedLayer, add_kernel_and_score
from masktrainer.nn.seeds import LayerSeeds
from masktrainer.text import pct

if TYPE_CHECKING:
    from masktrainer.config import RunConfig

_PACKAGE = "masktrainer"


def kept_count(size: int, keep_ratio: float) -> int:
    """Connections kept in a layer of ``size`` weights: the original's rule."""
    return int(size) - int((1.0 - float(keep_ratio)) * int(size))


def validate_keep_ratio(keep_ratio: Any) -> float:
    """``keep_ratio`` as a float in (0, 1], else ValueError (the --keep_ratio option's check)."""
    KEEP_RATIO.check(keep_ratio, label="keep_ratio", required=True)
    return float(keep_ratio)


def _kth_largest_bits(bits: tf.Tensor, keep: tf.Tensor) -> tf.Tensor:
    """Bit pattern of the ``keep``-th largest entry of non-negative float ``bits``.

    Radix selection, one bit at a time from the most significant: for IEEE
    floats >= 0 the int32 bit patterns sort like the values. 31 vectorised
    counting passes instead of a sort (about 10x faster than ``tf.math.top_k``
    for layers of millions of weights on CPU).
    """
    threshold = tf.constant(0, tf.int32)
    for bit in range(30, -1, -1):
        candidate = threshold | (1 << bit)
        enough = tf.reduce_sum(tf.cast(bits >= candidate, tf.int32)) >= keep
        threshold = tf.where(enough, candidate, threshold)
    return threshold


@tf.custom_gradient
def top_k_mask(magnitudes: tf.Tensor, keep: tf.Tensor):
    """1 for the ``keep`` largest entries of ``magnitudes`` (>= 0), else 0.

    Exactly ``keep`` ones: entries tied with the ``keep``-th largest value are
    kept in flat-index order (lower index first) until the count is reached.
    Straight-through backward: the upstream gradient is handed to
    ``magnitudes`` unchanged (dropped entries included).
    """
    bits = tf.bitcast(tf.reshape(tf.cast(magnitudes, tf.float32), [-1]), tf.int32)
    threshold = _kth_largest_bits(bits, keep)
    above = bits > threshold
    tied = tf.equal(bits, threshold)
    missing = keep - tf.reduce_sum(tf.cast(above, tf.int32))
    tie_rank = tf.cumsum(tf.cast(tied, tf.int32))
    flat_mask = tf.cast(above | (tied & (tie_rank <= missing)), magnitudes.dtype)

    def grad(upstream):
        return upstream, None

    return tf.reshape(flat_mask, tf.shape(magnitudes)), grad


def sorted_top_k_mask(magnitudes: tf.Tensor, keep: int) -> tf.Tensor:
    """:func:`top_k_mask`'s mask (bit for bit: ``tf.math.top_k`` also puts the lower index
    first among ties) without a gradient, from ops that TFLite's converter folds into a
    constant kernel. Several times slower than the radix selection; only exports use it."""
    flat = tf.reshape(tf.cast(magnitudes, tf.float32), [-1])
    _, kept = tf.math.top_k(flat, k=keep, sorted=True)
    flags = tf.scatter_nd(kept[:, None], tf.ones([keep], magnitudes.dtype), tf.shape(flat))
    return tf.reshape(flags, tf.shape(magnitudes))


def exporting() -> bool:
    """Whether TensorFlow is tracing a SavedModel (``model.export``, TFLite's converter)."""
    try:
        from tensorflow.python.saved_model import save_context
    except ImportError:  # a TensorFlow without it: the training path's ops
        return False
    return bool(save_context.in_save_context())


def edge_popup_mask(scores: tf.Tensor, keep_ratio: float) -> tf.Tensor:
    """The edge-popup mask of ``scores``: top-k of |scores| with the STE through |.|.

    Traced for a SavedModel, the same mask from :func:`sorted_top_k_mask`: the radix
    selection's bitwise ops are not TFLite builtins, and a kernel computed at run time
    loses the fused activation of TFLite's FULLY_CONNECTED (TF 2.21)."""
    size = 1
    for dim in scores.shape:
        size *= int(dim)
    keep = kept_count(size, keep_ratio)
    if exporting():
        return sorted_top_k_mask(tf.abs(scores), keep)
    return top_k_mask(tf.abs(scores), tf.constant(keep, dtype=tf.int32))


class EdgePopupLayer(MaskedLayer):
    """Shared machinery of :class:`EdgePopupDense` and :class:`EdgePopupConv2D`."""

    def __init__(
        self,
        keep_ratio: float = 0.5,
        activation: str | None = "relu",
        kernel_initializer: Any = None,
        score_initializer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.keep_ratio = validate_keep_ratio(keep_ratio)
        self.activation = validate_activation(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer or KaimingWeights())
        self.score_initializer = keras.initializers.get(score_initializer or FanInUniformScores())

    def build(self, input_shape) -> None:
        add_kernel_and_score(self, self._kernel_shape(input_shape), False, True)

    def get_mask(self) -> tf.Tensor:
        """The current 0/1 mask (float32)."""
        return edge_popup_mask(tf.convert_to_tensor(self.score), self.keep_ratio)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        kernel = tf.cast(self.get_effective_kernel(), self.compute_dtype)
        outputs = self._apply(tf.cast(inputs, self.compute_dtype), kernel)
        return apply_activation(outputs, self.activation)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "keep_ratio": self.keep_ratio,
            "activation": self.activation,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "score_initializer": keras.initializers.serialize(self.score_initializer),
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class EdgePopupDense(DenseGeometry, EdgePopupLayer):
    """Bias-free dense layer ``act(x @ (kernel * topk(|score|)))``."""


@keras.saving.register_keras_serializable(package=_PACKAGE)
class EdgePopupConv2D(ConvGeometry, EdgePopupLayer):
    """Bias-free NHWC convolution with the edge-popup mask."""


def fan_scale(keep_ratio: float, scale_fan: bool, rule: str = "original") -> float:
    """Factor on the fan of edge-popup weights.

    The original multiplies the fan by ``1 - prune_rate`` although its
    ``prune_rate`` is the *kept* fraction elsewhere (``rule="original"``);
    ``rule="kept"`` scales by the kept fraction, i.e. the expected fan-in of the
    kept subnetwork.
    """
    if not scale_fan:
        return 1.0
    return (1.0 - keep_ratio) if rule == "original" else keep_ratio


@dataclasses.dataclass(frozen=True)
class EdgePopupLayers(LayerPair):
    """Edge-popup layers (Ramanujan et al. 2020): frozen weights, top-k |score| per layer."""

    dense_class: ClassVar[type] = EdgePopupDense
    conv_class: ClassVar[type] = EdgePopupConv2D

    keep_ratio: float = 0.5
    initializer: str = "kaiming_normal"
    scale_fan: bool = False
    scale_fan_rule: str = "original"
    p1: float = 0.5

    def common(self, seeds: LayerSeeds | None, dense: bool) -> dict:
        scale = fan_scale(self.keep_ratio, self.scale_fan, self.scale_fan_rule)
        return {
            "keep_ratio": self.keep_ratio,
            "kernel_initializer": KaimingWeights(
                self.initializer, scale, p1=self.p1, seed=seed_of(seeds, "kernel")
            ),
            "score_initializer": FanInUniformScores(seed=seed_of(seeds, "score")),
        }

    @classmethod
    def from_config(cls, cfg: RunConfig) -> "EdgePopupLayers":
        return cls(cfg.keep_ratio, cfg.initializer, cfg.scale_fan, cfg.scale_fan_rule, cfg.p1)


class EdgePopupRecorder(MaskCountRecorder):
    """Mask counts plus the kept fraction per layer, measured from the masks."""

    def per_layer_fields(self) -> dict[str, list[str]]:
        return {**super().per_layer_fields(), "keptFractionPerLayer": ["kept_fraction"]}

    def measure(self, model: keras.Model) -> dict[str, Any]:
        values = super().measure(model)
        stats = values["_stats"]
        values["keptFractionPerLayer"] = [
            [(size - counts[1]) / size] for size, counts in zip(stats.layer_sizes, stats.per_layer)
        ]
        return values

    def describe(self, values: dict[str, Any]) -> str:
        stats = values["_stats"]
        kept = "/".join(f"{100 * v[0]:.1f}" for v in values["keptFractionPerLayer"])
        return f" | kept {pct(stats.remaining / stats.total)} (per layer {kept}%)"
