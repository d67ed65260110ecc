"""Masked layers: a fixed random kernel gated by a trainable score.

The effective kernel is ``kernel * M(score)`` where ``M`` is one of the mask
functions in :mod:`masktrainer.masks` (straight-through gradient). The kernel
is frozen and the score trained (``FreePruning`` etc.), or the other way round
for ``Baseline``. There is no bias, as in the original. The Min* penalty
``alpha * mean(M(score))`` is added in ``call`` (a loss added in ``build`` is
silently dropped by Keras 3).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from masktrainer.activations import apply_activation, validate_activation
from masktrainer.geometry import ConvGeometry, DenseGeometry
from masktrainer.initializers import ScoreUniform, TruncatedVarianceScaling
from masktrainer.masks import get_mask_function

_PACKAGE = "masktrainer"


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


class MaskedKernelLayer(keras.layers.Layer):
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

    def get_effective_kernel(self) -> tf.Tensor:
        """kernel * M(score): the weights the layer actually applies."""
        return tf.convert_to_tensor(self.kernel) * self.get_mask()

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
