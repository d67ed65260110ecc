"""Supermask-sampling layers (hidden-networks' ``SampleSubnetConv``), their factory and recorder.

Forward (training, and evaluation with ``eval_mask="sample"``):
``mask = [u < sigmoid(score)]`` with fresh ``u ~ U(0, 1)`` on every call;
backward: straight-through to ``p = sigmoid(score)``, then through the sigmoid,
so ``dL/dscore = dL/dW_eff * kernel * p * (1 - p)``. At evaluation the default
mask is ``sigmoid(score) > 0.5`` (``threshold``) or ``sigmoid(score)`` itself
(``expected``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping

import keras
import numpy as np
import tensorflow as tf

from masktrainer.methods.recording import MaskCountRecorder
from masktrainer.methods.supermask_sampling.options import EVAL_MASK
from masktrainer.nn.activations import apply_activation, validate_activation
from masktrainer.nn.geometry import ConvGeometry, DenseGeometry
from masktrainer.nn.initializers import FanInUniformScores, KaimingWeights
from masktrainer.nn.layer_factory import LayerPair, seed_of
from masktrainer.nn.method_layer import MaskedLayer, add_kernel_and_score
from masktrainer.nn.seeds import LayerSeeds, eval_sampler
from masktrainer.text import pct

_PACKAGE = "masktrainer"
ESTIMATE_SAMPLES = 10  # the original's per-epoch pruned-fraction estimate


@tf.custom_gradient
def bernoulli_sample(probabilities: tf.Tensor, uniform: tf.Tensor):
    """``[uniform < probabilities]``; the gradient goes straight through to ``probabilities``."""

    def grad(upstream):
        return upstream, None

    return tf.cast(uniform < probabilities, probabilities.dtype), grad


class SupermaskLayer(MaskedLayer):
    """Shared machinery of :class:`SupermaskDense` and :class:`SupermaskConv2D`."""

    def __init__(
        self,
        eval_mask: str = "threshold",
        activation: str | None = "relu",
        kernel_initializer: Any = None,
        score_initializer: Any = None,
        sample_seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        EVAL_MASK.check(eval_mask, label="eval_mask", required=True)
        self.eval_mask = eval_mask
        self.activation = validate_activation(activation)
        self.sample_seed = None if sample_seed is None else int(sample_seed)
        self.kernel_initializer = keras.initializers.get(kernel_initializer or KaimingWeights())
        self.score_initializer = keras.initializers.get(score_initializer or FanInUniformScores())
        self.seed_generator = keras.random.SeedGenerator(self.sample_seed)
        self.eval_seed_generator = eval_sampler(self.sample_seed) if eval_mask == "sample" else None

    def build(self, input_shape) -> None:
        add_kernel_and_score(self, self._kernel_shape(input_shape), False, True)

    def probabilities(self) -> tf.Tensor:
        """sigmoid(score): each weight's probability of being kept."""
        return tf.sigmoid(tf.convert_to_tensor(self.score))

    def threshold_mask(self) -> tf.Tensor:
        """The most likely mask: 1 where sigmoid(score) > 0.5, i.e. score > 0."""
        score = tf.convert_to_tensor(self.score)
        return tf.cast(score > 0, score.dtype)

    def get_mask(self) -> tf.Tensor:
        """The deterministic evaluation mask (``sample`` runs export the threshold mask)."""
        return self.probabilities() if self.eval_mask == "expected" else self.threshold_mask()

    def _mask(self, training: bool | None) -> tf.Tensor:
        if bool(training) or self.eval_mask == "sample":
            probabilities = self.probabilities()
            generator = self.seed_generator if training else self.eval_seed_generator
            uniform = keras.random.uniform(tf.shape(probabilities), seed=generator)
            return bernoulli_sample(probabilities, tf.cast(uniform, probabilities.dtype))
        return self.get_mask()

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        kernel = tf.convert_to_tensor(self.kernel) * self._mask(training)
        outputs = self._apply(tf.cast(inputs, self.compute_dtype),
                              tf.cast(kernel, self.compute_dtype))
        return apply_activation(outputs, self.activation)

    def learned_arrays(self) -> dict[str, np.ndarray]:
        """The threshold mask's pattern (int8) and every weight's keep probability."""
        return {"": np.asarray(self.threshold_mask()).astype(np.int8),
                "_probability": np.asarray(self.probabilities(), np.float32)}

    def compact_encode(self) -> dict[str, np.ndarray]:
        if self.eval_mask == "expected":  # not a 0/1 mask: the probabilities themselves
            return {"probability": np.asarray(self.probabilities(), np.float32)}
        return super().compact_encode()

    def compact_decode(self, frozen: np.ndarray, arrays: Mapping[str, Any]) -> np.ndarray:
        if self.eval_mask == "expected":
            return (frozen * np.asarray(arrays["probability"], np.float32)).astype(np.float32)
        return super().compact_decode(frozen, arrays)

    def export_note(self) -> str | None:
        if self.eval_mask == "sample":
            return "the run samples masks at evaluation; the export uses sigmoid(score) > 0.5"
        return None

    def pruned_fraction_estimate(self, rng: np.random.Generator) -> float:
        """The original's estimate: the mean of [u >= p] over 10 samples."""
        probabilities = np.asarray(self.probabilities())
        return float(np.mean([np.mean(rng.random(probabilities.shape) >= probabilities)
                              for _ in range(ESTIMATE_SAMPLES)]))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "eval_mask": self.eval_mask,
            "activation": self.activation,
            "sample_seed": self.sample_seed,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "score_initializer": keras.initializers.serialize(self.score_initializer),
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SupermaskDense(DenseGeometry, SupermaskLayer):
    """Bias-free dense layer ``act(x @ (kernel * Bernoulli(sigmoid(score))))``."""


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SupermaskConv2D(ConvGeometry, SupermaskLayer):
    """Bias-free NHWC convolution with a sampled supermask."""


@dataclasses.dataclass(frozen=True)
class SupermaskLayers(LayerPair):
    """Supermask-sampling layers over hidden-networks' frozen weights."""

    dense_class: ClassVar[type] = SupermaskDense
    conv_class: ClassVar[type] = SupermaskConv2D

    initializer: str = "kaiming_normal"
    eval_mask: str = "threshold"
    score_init_constant: float | None = None
    p1: float = 0.5

    def common(self, seeds: LayerSeeds | None, dense: bool) -> dict:
        score_seed = seed_of(seeds, "score")
        scores = (FanInUniformScores(seed=score_seed) if self.score_init_constant is None
                  else keras.initializers.Constant(self.score_init_constant))
        return {
            "eval_mask": self.eval_mask,
            "kernel_initializer": KaimingWeights(self.initializer, 1.0, p1=self.p1,
                                                 seed=seed_of(seeds, "kernel")),
            "score_initializer": scores,
            "sample_seed": None if score_seed is None else score_seed + 1,
        }


class SupermaskRecorder(MaskCountRecorder):
    """Mask counts of the evaluation mask plus the original's pruned-fraction estimate."""

    flat_keys = (*MaskCountRecorder.flat_keys, "prunedFractionEstimate")

    def per_layer_fields(self) -> dict[str, list[str]]:
        return {**super().per_layer_fields(), "prunedFractionEstimatePerLayer": ["pruned_fraction"]}

    def measure(self, model: keras.Model) -> dict[str, Any]:
        values = super().measure(model)
        # Seeded by the step, so a resumed run draws what an uninterrupted one did.
        step = int(model.optimizer.iterations.numpy()) if model.optimizer is not None else 0
        estimates = []
        for index, layer in enumerate(l for l in model.layers if isinstance(l, SupermaskLayer)):
            rng = np.random.default_rng([layer.sample_seed or 0, step, index])
            estimates.append(layer.pruned_fraction_estimate(rng))
        values["prunedFractionEstimatePerLayer"] = [[e] for e in estimates]
        values["prunedFractionEstimate"] = float(np.mean(estimates)) if estimates else None
        return values

    def describe(self, values: dict[str, Any]) -> str:
        stats = values["_stats"]
        per_layer = "/".join(f"{100 * v[0]:.1f}" for v in values["prunedFractionEstimatePerLayer"])
        return (f" | kept at evaluation {pct(stats.remaining / stats.total)}"
                f" | pruned estimate {pct(values['prunedFractionEstimate'])} "
                f"(per layer {per_layer}%)")
