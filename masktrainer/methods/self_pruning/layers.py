"""Self-pruning layers: a fixed random kernel gated by a trainable score, and their factory.

The effective kernel is ``kernel * M(score)`` where ``M`` is one of the mask
functions in :mod:`masktrainer.masks` (straight-through gradient). The kernel
is frozen and the score trained (``FreePruning`` etc.), or the other way round
for ``Baseline``. There is no bias, as in the original. The Min* penalty
``alpha * mean(M(score))`` is added in ``call`` (a loss added in ``build`` is
silently dropped by Keras 3).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

import keras
import numpy as np
import tensorflow as tf

from masktrainer.methods.self_pruning.masks import get_mask_function
from masktrainer.nn.activations import apply_activation, validate_activation
from masktrainer.nn.bits import pack_flags, unpack_flags
from masktrainer.nn.geometry import ConvGeometry, DenseGeometry
from masktrainer.nn.initializers import (
    KERNEL_STREAM,
    SCORE_STREAM,
    TF1_OP_INITS,
    ScoreUniform,
    TruncatedVarianceScaling,
    kernel_initializer,
)
from masktrainer.nn.layer_factory import LayerPair, seed_of
from masktrainer.nn.method_layer import MaskedLayer, add_kernel_and_score
from masktrainer.nn.seeds import LayerSeeds

if TYPE_CHECKING:
    from masktrainer.config import RunConfig

_PACKAGE = "masktrainer"


class MaskedKernelLayer(MaskedLayer):
    """Shared machinery of :class:`MaskedDense` and :class:`MaskedConv2D`.

    Subclasses mix in a geometry (:mod:`masktrainer.geometry`) that defines
    ``_kernel_shape(input_shape)`` and ``_apply(x, kernel)``.
    """

    def __init__(
        self,
        activation: str | None = "relu",
        masktype: str = "mask",
        train_weights: bool = False,
        train_scores: bool = True,
        alpha: float = 0.0,
        kernel_initializer: Any = None,
        score_initializer: Any = None,
        selu_is_elu: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._mask_fn = get_mask_function(masktype)  # validates masktype
        self.activation = validate_activation(activation)
        self.masktype = masktype
        self.train_weights = bool(train_weights)
        self.train_scores = bool(train_scores)
        self.alpha = float(alpha)
        self.selu_is_elu = bool(selu_is_elu)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or TruncatedVarianceScaling(2.0, "fan_in")
        )
        self.score_initializer = keras.initializers.get(score_initializer or ScoreUniform())

    def _kernel_shape(self, input_shape) -> tuple[int, ...]:
        raise NotImplementedError

    def _apply(self, inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def build(self, input_shape) -> None:
        add_kernel_and_score(self, self._kernel_shape(input_shape), self.train_weights,
                             self.train_scores)

    def get_mask(self) -> tf.Tensor:
        """M(score) as a float32 tensor."""
        return self._mask_fn(tf.convert_to_tensor(self.score))

    def learned_arrays(self) -> dict[str, np.ndarray]:
        """The int8 sign pattern of M(score); ``mask_rs`` adds its scale factor.

        The original cast M(score) to int8, which truncates the mask_rs factor
        (e.g. 1.97 -> 1); here the pattern stays exact and the factor is stored
        separately (``<layer>_scale``).
        """
        out = super().learned_arrays()
        if self.masktype == "mask_rs":
            out["_scale"] = np.float32(self._scale())
        return out

    def _scale(self) -> float:
        mask = np.asarray(self.get_mask())
        kept = mask[mask != 0]
        return float(kept[0]) if kept.size else 0.0

    def compact_encode(self) -> dict[str, np.ndarray]:
        mask = np.asarray(self.get_mask())
        if self.masktype == "flip":  # signs, and a keep pattern only if a score is 0
            out = {"sign": pack_flags(mask > 0)}
            if not (mask != 0).all():
                out["keep"] = pack_flags(mask != 0)
            return out
        out = super().compact_encode()
        if self.masktype == "mask_rs":
            out["scale"] = np.float32(self._scale())
        return out

    def compact_decode(self, frozen: np.ndarray, arrays: Mapping[str, Any]) -> np.ndarray:
        if self.masktype == "mask":
            return super().compact_decode(frozen, arrays)
        keep = arrays.get("keep")
        keep = np.ones(frozen.shape, bool) if keep is None else unpack_flags(keep, frozen.shape)
        if self.masktype == "flip":
            sign = unpack_flags(arrays["sign"], frozen.shape)
            mask = np.where(sign, np.float32(1), np.float32(-1)) * keep.astype(np.float32)
        else:
            mask = keep.astype(np.float32) * np.float32(arrays["scale"])
        return (frozen * mask).astype(np.float32)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        mask = self._mask_fn(tf.convert_to_tensor(self.score))
        if self.alpha != 0.0:
            self.add_loss(self.alpha * tf.reduce_mean(mask))
        kernel = tf.cast(tf.convert_to_tensor(self.kernel) * mask, self.compute_dtype)
        outputs = self._apply(tf.cast(inputs, self.compute_dtype), kernel)
        return apply_activation(outputs, self.activation, self.selu_is_elu)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "activation": self.activation,
            "masktype": self.masktype,
            "train_weights": self.train_weights,
            "train_scores": self.train_scores,
            "alpha": self.alpha,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "score_initializer": keras.initializers.serialize(self.score_initializer),
            "selu_is_elu": self.selu_is_elu,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MaskedDense(DenseGeometry, MaskedKernelLayer):
    """Bias-free dense layer ``act(x @ (kernel * M(score)))``."""


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MaskedConv2D(ConvGeometry, MaskedKernelLayer):
    """Bias-free NHWC convolution ``act(conv2d(x, kernel * M(score)))``."""


@dataclasses.dataclass(frozen=True)
class SelfPruningLayers(LayerPair):
    """Masked layers of Ivan & Florian (2020): fixed kernel, trained score."""

    dense_class: ClassVar[type] = MaskedDense
    conv_class: ClassVar[type] = MaskedConv2D

    initializer: str = "he"
    masktype: str = "mask"
    train_weights: bool = False
    train_scores: bool = True
    alpha: float = 0.0
    p1: float = 0.5
    selu_is_elu: bool = False

    def common(self, seeds: LayerSeeds | None, dense: bool) -> dict:
        # TF1 couples kernel and score only where both were TF ops (heconstant/binary: numpy).
        coupled = seeds is not None and seeds.shared_stream and self.initializer in TF1_OP_INITS
        score_stream = KERNEL_STREAM if coupled else SCORE_STREAM
        return {
            "masktype": self.masktype,
            "train_weights": self.train_weights,
            "train_scores": self.train_scores,
            "alpha": self.alpha,
            "selu_is_elu": self.selu_is_elu,
            "kernel_initializer": kernel_initializer(
                self.initializer, seed=seed_of(seeds, "kernel"), p1=self.p1, dense=dense
            ),
            "score_initializer": ScoreUniform(
                0.01, 0.1, seed=seed_of(seeds, "score"), stream=score_stream
            ),
        }

    @classmethod
    def from_config(cls, cfg: RunConfig) -> "SelfPruningLayers":
        return cls(
            initializer=cfg.initializer,
            masktype=cfg.masktype,
            train_weights=cfg.train_weights,
            train_scores=cfg.train_scores,
            alpha=cfg.alpha,
            p1=cfg.p1,
            selu_is_elu=cfg.selu_is_elu,
        )
