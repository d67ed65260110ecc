"""Biprop layers (Diffenderfer & Kailkhura, ICLR 2021): a top-k mask over binarised weights.

Each layer holds a frozen random ``kernel`` and a trainable ``score`` of the same shape.
Every forward pass keeps the same connections as edge-popup (exactly
``n - int((1 - keep_ratio) * n)``, those of largest ``|score|``; see
:mod:`masktrainer.methods.edge_popup.layers`) and applies

    W_eff = sign(kernel) * alpha * mask,  alpha = sum(|kernel| * mask) / d

with one alpha per layer, recomputed from the current mask at every pass. ``d`` is the
original code's ``int(keep_ratio * n)`` (``alpha_rule="original"``), which is one less
than the kept count where ``keep_ratio * n`` is not whole, or the kept count itself
(``"kept"``). The backward pass is the original's: the gradient of ``alpha * mask`` goes
to ``|score|`` multiplied by ``|kernel|`` (alpha's own dependence on the mask is not
differentiated), then through ``|.|``; with the ``sign(kernel)`` in front this is
``dL/ds = sign(s) * dL/dW_eff * kernel``, edge-popup's gradient. The kernel gets none.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping

import keras
import numpy as np
import tensorflow as tf

from masktrainer.errors import ConfigError
from masktrainer.methods import counts as S
from masktrainer.methods.biprop.options import ALPHA_RULE
from masktrainer.methods.edge_popup.layers import (
    EdgePopupLayer,
    EdgePopupLayers,
    EdgePopupRecorder,
    exporting,
    kept_count,
    sorted_top_k_mask,
    top_k_mask,
)
from masktrainer.nn.bits import pack_flags, unpack_flags
from masktrainer.nn.geometry import ConvGeometry, DenseGeometry
from masktrainer.nn.seeds import LayerSeeds

_PACKAGE = "masktrainer"


def alpha_denominator(size: int, keep_ratio: float, rule: str = "original") -> int:
    """The count alpha's |kernel| sum is divided by, in a layer of ``size`` weights."""
    if rule == "original":  # the original's int(k * numel), not the kept count
        return int(float(keep_ratio) * int(size))
    return kept_count(size, keep_ratio)


def validate_alpha_rule(rule: Any) -> str:
    """``rule`` if it is one of the alpha rules, else ValueError (the --alpha_rule check)."""
    ALPHA_RULE.check(rule, label="alpha_rule", required=True)
    return str(rule)


@tf.custom_gradient
def scaled_top_k_mask(magnitudes: tf.Tensor, abs_kernel: tf.Tensor, keep: tf.Tensor,
                      denominator: tf.Tensor):
    """``alpha * mask``: the top-``keep`` mask of ``magnitudes`` times the mean ``abs_kernel``
    over it (sum / ``denominator``). Backward: the upstream gradient times ``abs_kernel`` to
    ``magnitudes`` (the original's rule), nothing to the others."""
    mask = top_k_mask(magnitudes, keep)
    alpha = tf.reduce_sum(abs_kernel * mask) / denominator

    def grad(upstream):
        return upstream * abs_kernel, None, None, None

    return alpha * mask, grad


class BipropLayer(EdgePopupLayer):
    """Shared machinery of :class:`BipropDense` and :class:`BipropConv2D`: edge-popup's
    layer with the kept weights binarised to ``+-alpha``."""

    def __init__(self, keep_ratio: float = 0.5, alpha_rule: str = "original",
                 **kwargs: Any) -> None:
        super().__init__(keep_ratio=keep_ratio, **kwargs)
        self.alpha_rule = validate_alpha_rule(alpha_rule)

    def build(self, input_shape) -> None:
        super().build(input_shape)
        size = int(np.prod(self.kernel.shape))
        self.kept = kept_count(size, self.keep_ratio)
        self.denominator = alpha_denominator(size, self.keep_ratio, self.alpha_rule)
        if self.kept < 1 or self.denominator < 1:
            # A ConfigError (a ValueError): the command line reports it in one line, and
            # the model is built before the run directory is written.
            raise ConfigError(f"layer {self.name}: --keep_ratio={self.keep_ratio} of its "
                              f"{size} weights keeps {self.kept} and divides alpha by "
                              f"{self.denominator} (the original divides by zero)")

    def get_alpha(self) -> tf.Tensor:
        """This layer's alpha under the current mask (float32 scalar)."""
        kernel = tf.abs(tf.convert_to_tensor(self.kernel))
        return tf.reduce_sum(kernel * self.get_mask()) / float(self.denominator)

    def get_effective_kernel(self) -> tf.Tensor:
        """``sign(kernel) * alpha * mask`` (with the original's gradient to the score)."""
        kernel = tf.convert_to_tensor(self.kernel)
        if exporting():  # TFLite-foldable ops (see edge_popup_mask)
            mask = sorted_top_k_mask(tf.abs(self.score), self.kept)
            alpha = tf.reduce_sum(tf.abs(kernel) * mask) / float(self.denominator)
            return tf.sign(kernel) * (alpha * mask)
        gate = scaled_top_k_mask(tf.abs(tf.convert_to_tensor(self.score)), tf.abs(kernel),
                                 tf.constant(self.kept, tf.int32),
                                 tf.constant(self.denominator, tf.float32))
        return tf.sign(kernel) * gate

    # -- compact encoding: a keep bit and a sign bit per weight, alpha per layer ----------
    def compact_encode(self) -> dict[str, np.ndarray]:
        kernel = np.asarray(self.kernel)
        # A kept zero weight applies 0 (sign(0) = 0), so it is stored as not kept: the
        # decoded kernel is then bit for bit the applied one.
        keep = (np.asarray(self.get_mask()) != 0) & (kernel != 0)
        return {"keep": pack_flags(keep), "sign": pack_flags(~np.signbit(kernel)),
                "alpha": np.asarray(self.get_alpha(), np.float32).reshape(1)}

    def compact_decode(self, frozen: np.ndarray, arrays: Mapping[str, Any]) -> np.ndarray:
        keep = unpack_flags(arrays["keep"], frozen.shape)
        positive = unpack_flags(arrays["sign"], frozen.shape)
        alpha = np.asarray(arrays["alpha"])
        if alpha.dtype != np.float32 or alpha.shape != (1,) or not np.isfinite(alpha).all():
            raise ValueError(f"alpha must be one finite float32 (got {alpha.dtype} "
                             f"{alpha.shape})")
        sign = np.where(positive, np.float32(1), np.float32(-1))
        return (sign * (alpha[0] * keep.astype(np.float32))).astype(np.float32)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha_rule": self.alpha_rule}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class BipropDense(DenseGeometry, BipropLayer):
    """Bias-free dense layer ``act(x @ (sign(kernel) * alpha * topk(|score|)))``."""


@keras.saving.register_keras_serializable(package=_PACKAGE)
class BipropConv2D(ConvGeometry, BipropLayer):
    """Bias-free NHWC convolution with biprop's binarised, masked kernel."""


@dataclasses.dataclass(frozen=True)
class BipropLayers(EdgePopupLayers):
    """Biprop layers: edge-popup's weights and scores, the kept weights binarised."""

    dense_class: ClassVar[type] = BipropDense
    conv_class: ClassVar[type] = BipropConv2D

    alpha_rule: str = "original"

    def common(self, seeds: LayerSeeds | None, dense: bool) -> dict:
        return {**super().common(seeds, dense), "alpha_rule": self.alpha_rule}

    @classmethod
    def from_config(cls, cfg) -> "BipropLayers":
        return cls(cfg.keep_ratio, cfg.initializer, cfg.scale_fan, cfg.scale_fan_rule, cfg.p1,
                   cfg.alpha_rule)


class BipropRecorder(EdgePopupRecorder):
    """Edge-popup's counts and kept fractions, plus each layer's alpha."""

    def per_layer_fields(self) -> dict[str, list[str]]:
        return {**super().per_layer_fields(), "alphaPerLayer": ["alpha"]}

    def measure(self, model: keras.Model) -> dict[str, Any]:
        values = super().measure(model)
        values["alphaPerLayer"] = [[float(layer.get_alpha())]
                                   for layer in S.masked_layers(model)]
        return values

    def describe(self, values: dict[str, Any]) -> str:
        alphas = "/".join(f"{v[0]:.3g}" for v in values["alphaPerLayer"])
        return f"{super().describe(values)} | alpha {alphas}"
