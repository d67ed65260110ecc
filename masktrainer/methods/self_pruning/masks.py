"""Score -> mask functions with a straight-through (identity) gradient.

Each function maps a real score tensor ``s`` to the mask ``M(s)`` that
multiplies the fixed kernel. The backward pass hands the incoming gradient
through unchanged (``dL/ds := dL/dM``), as in Ivan & Florian (2020); the
``mask_rs`` scale factor is deliberately invisible to the gradient.

The functions take tensors, not variables, so they are safe inside a Keras
layer's ``call`` under XLA, mixed precision and tf.distribute.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from masktrainer.methods.self_pruning.options import MASK_TYPES


@tf.custom_gradient
def binary_mask(scores: tf.Tensor):
    """``mask``: 1 where the score is > 0, else 0."""

    def grad(upstream):
        return upstream

    return tf.cast(scores > 0, scores.dtype), grad


@tf.custom_gradient
def rescaled_mask(scores: tf.Tensor):
    """``mask_rs``: ``[s > 0] * N / (1 + nnz)`` with N elements, nnz kept.

    The ``1 +`` is the original's: at initialisation (all kept) the factor is
    N / (N + 1), slightly below one.
    """
    keep = tf.cast(scores > 0, scores.dtype)
    total = tf.cast(tf.size(scores), scores.dtype)
    scale = total / (1.0 + tf.reduce_sum(keep))

    def grad(upstream):
        return upstream

    return keep * scale, grad


@tf.custom_gradient
def sign_mask(scores: tf.Tensor):
    """``flip``: sign(s) in {-1, 0, +1}."""

    def grad(upstream):
        return upstream

    return tf.sign(scores), grad


MASK_FUNCTIONS: dict[str, Callable[[tf.Tensor], tf.Tensor]] = dict(
    zip(MASK_TYPES, (binary_mask, rescaled_mask, sign_mask))
)


def get_mask_function(masktype: str) -> Callable[[tf.Tensor], tf.Tensor]:
    """Return the mask function called ``masktype`` (mask, mask_rs or flip)."""
    try:
        return MASK_FUNCTIONS[masktype]
    except KeyError:
        raise ValueError(
            f"unknown masktype {masktype!r}; expected one of {sorted(MASK_FUNCTIONS)}"
        ) from None
