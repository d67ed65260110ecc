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

import dataclasses
import math
from typing import Any, ClassVar, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from masktrainer.methods.base import check_choice
from masktrainer.methods.slot_machines.options import EVAL_SELECTION, SELECTIONS, SLOTS
from masktrainer.nn.activations import apply_activation, validate_activation
from masktrainer.nn.bits import index_bits, pack_indices, unpack_indices
from masktrainer.nn.geometry import ConvGeometry, DenseGeometry
from masktrainer.nn.initializers import SeededInitializer, compute_fans, stateless_seed
from masktrainer.nn.layer_factory import DenseReferenceLayers, LayerPair, seed_of
from masktrainer.nn.method_layer import MethodLayer
from masktrainer.nn.seeds import LayerSeeds, eval_sampler

_PACKAGE = "masktrainer"


def validate_slots(slots: Any) -> int:
    """``slots`` as an int >= 2, else ValueError (the --slots option's check)."""
    SLOTS.check(slots, label="slots", required=True)
    return int(slots)


def glorot_bound(kernel_shape: Sequence[int]) -> float:
    """sqrt(6 / (fan_in + fan_out)) of a kernel (without the slot axis)."""
    fan_in, fan_out = compute_fans(kernel_shape)
    return math.sqrt(6.0 / (fan_in + fan_out))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SlotValues(SeededInitializer):
    """K candidate values per connection ~ U(-b, b); ``shape`` = kernel shape + (K,)."""

    def __call__(self, shape, dtype=None):
        bound = glorot_bound(shape[:-1])
        values = tf.random.stateless_uniform(
            shape, seed=self._stateless_seed(), minval=-bound, maxval=bound
        )
        return tf.cast(values, dtype or "float32")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SlotScores(SeededInitializer):
    """K scores per connection ~ U(0, b) (not centred), as the original code."""

    stream = 1

    def __call__(self, shape, dtype=None):
        bound = glorot_bound(shape[:-1])
        values = tf.random.stateless_uniform(
            shape, seed=self._stateless_seed(), minval=0.0, maxval=bound
        )
        return tf.cast(values, dtype or "float32")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class RandomSlotSelection(SeededInitializer):
    """One of the K candidate values per connection, chosen uniformly at random.

    The candidates are those a slot layer with the same kernel seed holds
    (:class:`SlotValues`); ``selection_seed`` draws the choice. This is the
    original's ``subnet_<k>_0`` (``argmax(rand_like(score))``), the initial
    weights of its ``learned`` baseline.
    """

    def __init__(self, slots: int = 8, selection_seed: int | None = None,
                 seed: int | None = None) -> None:
        super().__init__(seed)
        self.slots = validate_slots(slots)
        self.selection_seed = selection_seed

    def __call__(self, shape, dtype=None):
        values = SlotValues(seed=self.seed)((*shape, self.slots))
        chooser = stateless_seed(self.selection_seed, 2)  # stream 2: neither values nor scores
        index = tf.random.stateless_uniform(tuple(shape), seed=chooser, minval=0,
                                            maxval=self.slots, dtype=tf.int32)
        picked = tf.gather(values, index[..., None], batch_dims=len(shape))[..., 0]
        return tf.cast(picked, dtype or "float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "slots": self.slots, "selection_seed": self.selection_seed}


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


class SlotLayer(MethodLayer):
    """Shared machinery of :class:`SlotDense` and :class:`SlotConv2D`."""

    frozen_name = "values"

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
        check_choice("selection", selection, SELECTIONS)
        EVAL_SELECTION.check(eval_selection, label="eval_selection", required=True)
        self.selection = selection
        self.eval_selection = eval_selection
        self.activation = validate_activation(activation)
        self.sample_seed = None if sample_seed is None else int(sample_seed)
        self.values_initializer = keras.initializers.get(values_initializer or SlotValues())
        self.score_initializer = keras.initializers.get(score_initializer or SlotScores())
        self.seed_generator = keras.random.SeedGenerator(self.sample_seed)
        samples_at_eval = selection == "probabilistic" and eval_selection == "sample"
        self.eval_seed_generator = eval_sampler(self.sample_seed) if samples_at_eval else None

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
        """Value of slot ``index`` (default: argmax) of every connection.

        A gather: the training path's sum of ``values * one_hot`` (the same numbers for
        finite values) is mis-computed by TFLite's converter."""
        index = self.selected_slots() if index is None else index
        values = tf.convert_to_tensor(self.values)
        return tf.gather(values, index[..., None], batch_dims=index.shape.rank)[..., 0]

    def learned_arrays(self) -> dict[str, np.ndarray]:
        """The argmax slot of every connection (uint8 when K <= 256)."""
        index = np.asarray(self.selected_slots())
        return {"": index.astype(np.uint8) if self.slots <= 256 else index}

    def compact_encode(self) -> dict[str, np.ndarray]:
        return {"slot": pack_indices(np.asarray(self.selected_slots()), index_bits(self.slots))}

    def compact_decode(self, frozen: np.ndarray, arrays: Mapping[str, Any]) -> np.ndarray:
        index = unpack_indices(arrays["slot"], frozen.shape[:-1], index_bits(self.slots))
        return np.take_along_axis(frozen, index[..., None], -1)[..., 0]

    def export_note(self) -> str | None:
        if self.selection == "probabilistic" and self.eval_selection == "sample":
            return "the run samples slots at evaluation; the export uses the argmax slots"
        return None

    def _index(self, scores: tf.Tensor, training: bool | None) -> tf.Tensor:
        sample = self.selection == "probabilistic" and (
            bool(training) or self.eval_selection == "sample"
        )
        if not sample:
            return tf.argmax(scores, axis=-1, output_type=tf.int32)
        generator = self.seed_generator if training else self.eval_seed_generator
        uniform = keras.random.uniform(tf.shape(scores), seed=generator)
        return gumbel_argmax(scores, tf.cast(uniform, scores.dtype))

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        scores = tf.convert_to_tensor(self.score)
        index = self._index(scores, training)
        if training:  # the one-hot carries the straight-through gradient to the scores
            onehot = select_slot(scores, index)
            kernel = tf.reduce_sum(tf.convert_to_tensor(self.values) * onehot, axis=-1)
        else:
            kernel = self.get_effective_kernel(index)
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


@dataclasses.dataclass(frozen=True)
class SlotMachineLayers(LayerPair):
    """Slot-machine layers (Aladago & Torresani 2021): K fixed values, K scores per weight."""

    dense_class: ClassVar[type] = SlotDense
    conv_class: ClassVar[type] = SlotConv2D

    slots: int = 8
    selection: str = "greedy"
    eval_selection: str = "argmax"

    def common(self, seeds: LayerSeeds | None, dense: bool) -> dict:
        score_seed = seed_of(seeds, "score")
        return {
            "slots": self.slots,
            "selection": self.selection,
            "eval_selection": self.eval_selection,
            "values_initializer": SlotValues(seed=seed_of(seeds, "kernel")),
            "score_initializer": SlotScores(seed=score_seed),
            "sample_seed": None if score_seed is None else score_seed + 1,
        }


@dataclasses.dataclass(frozen=True)
class SlotLearnedLayers(DenseReferenceLayers):
    """Plain trainable layers starting from a random selection of the K values (``learned``)."""

    slots: int = 8

    def _init(self, seeds: LayerSeeds | None, dense: bool) -> keras.initializers.Initializer:
        return RandomSlotSelection(self.slots, selection_seed=seed_of(seeds, "score"),
                                   seed=seed_of(seeds, "kernel"))
