"""Slot-machine layers (Aladago & Torresani, ICML 2021): pick one of K random values per connection.

Each connection holds K frozen random ``values`` and K trainable ``score``
entries (both of shape kernel shape + (K,)). The effective kernel is the
value of the selected slot:

* ``selection="greedy"``: the slot with the largest score;
* ``selection="probabilistic"``: a slot sampled from softmax(scores) (Gumbel-max,
  i.e. exactly the categorical distribution), drawn anew on every forward pass.

Backward (both): straight-through from the one-hot selection to all K scores,
``dL/dscore_k = dL/dW_eff * value_k``; the gradient does *not* pass through the
softmax (as in the original).

At evaluation (``training=False``) probabilistic layers use the argmax slot
(``eval_selection="argmax"``, default) or keep sampling as the original does
(``eval_selection="sample"``).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from masktrainer.activations import apply_activation, validate_activation
from masktrainer.geometry import ConvGeometry, DenseGeometry
from masktrainer.method_initializers import SlotScores, SlotValues

_PACKAGE = "masktrainer"
SELECTIONS = ("greedy", "probabilistic")
EVAL_SELECTIONS = ("argmax", "sample")


def validate_slots(slots: Any) -> int:
    """``slots`` as an int >= 2, else ValueError (K = 1 leaves nothing to select)."""
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 2:
        raise ValueError(
            f"slots (K values per connection) must be an integer >= 2, got {slots!r}"
        )
    return int(slots)


@tf.custom_gradient
def select_slot(scores: tf.Tensor, index: tf.Tensor):
    """One-hot of ``index`` along the last (slot) axis; identity gradient to ``scores``."""
    onehot = tf.one_hot(index, tf.shape(scores)[-1], dtype=scores.dtype)

    def grad(upstream):
        return upstream, None

    return onehot, grad


def gumbel_argmax(scores: tf.Tensor, uniform: tf.Tensor) -> tf.Tensor:
    """Index sampled from softmax(scores) along the last axis, given U(0, 1) noise."""
    tiny = tf.constant(1e-20, scores.dtype)
    gumbel = -tf.math.log(-tf.math.log(uniform + tiny) + tiny)
    return tf.argmax(scores + gumbel, axis=-1, output_type=tf.int32)


class SlotLayer(keras.layers.Layer):
    """Shared machinery of :class:`SlotDense` and :class:`SlotConv2D`."""

    def __init__(
        self,
        slots: int = 8,
        selection: str = "greedy",
        eval_selection: str = "argmax",
        activation: str | None = "relu",
        values_initializer: Any = None,
        score_initializer: Any = None,
        sample_seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.slots = validate_slots(slots)
        if selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
        if eval_selection not in EVAL_SELECTIONS:
            raise ValueError(
                f"eval_selection must be one of {EVAL_SELECTIONS}, got {eval_selection!r}"
            )
        self.selection = selection
        self.eval_selection = eval_selection
        self.activation = validate_activation(activation)
        self.sample_seed = None if sample_seed is None else int(sample_seed)
        self.values_initializer = keras.initializers.get(values_initializer or SlotValues())
        self.score_initializer = keras.initializers.get(score_initializer or SlotScores())
        self.seed_generator = keras.random.SeedGenerator(self.sample_seed)

    def build(self, input_shape) -> None:
        shape = (*self._kernel_shape(input_shape), self.slots)
        self.values = self.add_weight(
            name="values",
            shape=shape,
            initializer=self.values_initializer,
            trainable=False,
            autocast=False,
        )
        self.score = self.add_weight(
            name="score", shape=shape, initializer=self.score_initializer, autocast=False
        )

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        """Shape of the effective kernel (the values without their slot axis)."""
        return tuple(int(d) for d in self.values.shape[:-1])

    def selected_slots(self) -> tf.Tensor:
        """The argmax slot index per connection (int32, kernel shape)."""
        return tf.argmax(tf.convert_to_tensor(self.score), axis=-1, output_type=tf.int32)

    def get_effective_kernel(self, index: tf.Tensor | None = None) -> tf.Tensor:
        """Value of slot ``index`` (default: argmax) of every connection."""
        index = self.selected_slots() if index is None else index
        values = tf.convert_to_tensor(self.values)
        return tf.reduce_sum(values * tf.one_hot(index, self.slots, dtype=values.dtype), axis=-1)

    def _index(self, scores: tf.Tensor, training: bool | None) -> tf.Tensor:
        sample = self.selection == "probabilistic" and (
            bool(training) or self.eval_selection == "sample"
        )
        if not sample:
            return tf.argmax(scores, axis=-1, output_type=tf.int32)
        uniform = keras.random.uniform(tf.shape(scores), seed=self.seed_generator)
        return gumbel_argmax(scores, tf.cast(uniform, scores.dtype))

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        scores = tf.convert_to_tensor(self.score)
        onehot = select_slot(scores, self._index(scores, training))
        kernel = tf.reduce_sum(tf.convert_to_tensor(self.values) * onehot, axis=-1)
        outputs = self._apply(tf.cast(inputs, self.compute_dtype), tf.cast(kernel, self.compute_dtype))
        return apply_activation(outputs, self.activation)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "slots": self.slots,
            "selection": self.selection,
            "eval_selection": self.eval_selection,
            "activation": self.activation,
            "sample_seed": self.sample_seed,
            "values_initializer": keras.initializers.serialize(self.values_initializer),
            "score_initializer": keras.initializers.serialize(self.score_initializer),
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SlotDense(DenseGeometry, SlotLayer):
    """Bias-free dense layer whose weights are one of K fixed values each."""


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SlotConv2D(ConvGeometry, SlotLayer):
    """Bias-free NHWC convolution whose weights are one of K fixed values each."""
