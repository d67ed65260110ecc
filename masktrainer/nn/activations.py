"""Hidden-layer activations by name, as the masked layers apply them.

The original resolved names by substring tests in the order relu, softmax,
sigmoid, swish, elu, selu, so ``selu`` fell into the ``elu`` branch.
``selu_is_elu=True`` reproduces that; the default computes a real SELU.
"""

from __future__ import annotations

import tensorflow as tf

from masktrainer.nn.names import HIDDEN_ACTIVATIONS

ACTIVATION_NAMES = HIDDEN_ACTIVATIONS + ("softmax", "linear")


def validate_activation(name: str | None) -> str | None:
    """``name`` if the masked layers know it (None = identity), else ValueError."""
    if name is not None and name not in ACTIVATION_NAMES:
        raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATION_NAMES}")
    return name


def apply_activation(x: tf.Tensor, name: str | None, selu_is_elu: bool = False) -> tf.Tensor:
    """Apply the activation ``name`` (None or "linear" = identity)."""
    if name is None or name == "linear":
        return x
    if name == "relu":
        return tf.nn.relu(x)
    if name == "softmax":  # in float32 under mixed precision too (Keras' advice for outputs)
        return tf.nn.softmax(tf.cast(x, tf.float32))
    if name == "sigmoid":
        return tf.sigmoid(x)
    if name == "swish":
        return tf.sigmoid(x) * x
    if name == "elu":
        return tf.nn.elu(x)
    if name == "selu":
        return tf.nn.elu(x) if selu_is_elu else tf.nn.selu(x)
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATION_NAMES}")
