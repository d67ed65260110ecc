"""Kernel geometry shared by every layer kind: dense (matmul) and 2-D convolution.

A layer that applies some *effective kernel* (masked, top-k, selected slot…)
mixes in :class:`DenseGeometry` or :class:`ConvGeometry` for the shape of
that kernel, how it is applied to the input, the output shape and the
geometry part of ``get_config``. The mixins hold no Keras state themselves.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf


class _OutputDtype:
    """The symbolic output's dtype is the one ``call`` returns: a softmax output computes in
    float32 under a mixed precision policy (:func:`masktrainer.nn.activations.apply_activation`),
    which Keras' shape-based spec (the compute dtype) would not say."""

    def compute_output_spec(self, *args, **kwargs):
        spec = super().compute_output_spec(*args, **kwargs)
        if getattr(self, "activation", None) == "softmax" and spec.dtype != "float32":
            return keras.KerasTensor(spec.shape, dtype="float32")
        return spec


class DenseGeometry(_OutputDtype):
    """Bias-free ``x @ kernel`` with a kernel of shape ``(in, units)``.

    Mixed in *before* the method's layer class, so ``MaskedDense(units, ...)``
    reaches the method's ``__init__`` (and ``get_config``) through ``super()``.
    """

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ValueError(f"units must be >= 1, got {units!r}")
        self.units = int(units)
        self.supports_masking = True  # as keras.layers.Dense: a padding mask passes through

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._geometry_config()}

    def _kernel_shape(self, input_shape) -> tuple[int, ...]:
        return (int(input_shape[-1]), self.units)

    def _apply(self, inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
        return keras.ops.matmul(inputs, kernel)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def _geometry_config(self) -> dict[str, Any]:
        return {"units": self.units}


class ConvGeometry(_OutputDtype):
    """Bias-free NHWC ``conv2d(x, kernel)`` with a kernel ``(kh, kw, cin, filters)``."""

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        strides: int = 1,
        padding: str = "same",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(kernel_size, int):
            kernel_size = (kernel_size, kernel_size)
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
        if int(filters) < 1 or int(strides) < 1 or min(kernel_size) < 1:
            raise ValueError("filters, strides and kernel_size must be >= 1")
        self.filters = int(filters)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.strides = int(strides)
        self.padding = padding

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._geometry_config()}

    def _kernel_shape(self, input_shape) -> tuple[int, ...]:
        return (*self.kernel_size, int(input_shape[-1]), self.filters)

    def _apply(self, inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
        return tf.nn.conv2d(inputs, kernel, strides=self.strides, padding=self.padding.upper())

    def compute_output_shape(self, input_shape):
        def out(size, k):
            if size is None:
                return None
            if self.padding == "same":
                return -(-size // self.strides)
            return (size - k) // self.strides + 1

        batch, height, width, _ = input_shape
        return (
            batch,
            out(height, self.kernel_size[0]),
            out(width, self.kernel_size[1]),
            self.filters,
        )

    def _geometry_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": self.strides,
            "padding": self.padding,
        }
