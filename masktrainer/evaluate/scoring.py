"""The TensorFlow side of ``evaluate``: build or load the model, score the test split.

A released checkpoint goes into a fresh model its method's declaration builds
(:meth:`~masktrainer.methods.checkpoints.ReleasedCheckpoints.build_model`; LaPerm: the
notebook model, no augmentation in front: evaluation never augments), its arrays
matched layer by layer by :func:`masktrainer.evaluate.h5.match_layers`. A run's
saved model is loaded as saved. Either is scored on the test split by the trainer's own
evaluator (:class:`masktrainer.run.evaluation.EpochEvaluator`: the same loss, accuracy and
top-5, the same batch size and XLA setting as a run).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras
import numpy as np

from masktrainer import layout, methods
from masktrainer.config import RunConfig
from masktrainer.errors import RunStateError
from masktrainer.evaluate.h5 import Matched, ModelLayer, WeightFile, match_layers
from masktrainer.methods.checkpoints import ReleasedCheckpoints
from masktrainer.run.evaluation import EpochEvaluator, evaluation_compile_args


def weighted_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers that hold weights, in the model's (topological) order."""
    return [layer for layer in model.layers if layer.weights]


def expected_layers(model: keras.Model) -> list[ModelLayer]:
    return [ModelLayer(layer.name, tuple((w.name, tuple(w.shape)) for w in layer.weights))
            for layer in weighted_layers(model)]


def checkpoint_model(checkpoints: ReleasedCheckpoints, nettype: str, weights: WeightFile,
                     input_shape: tuple[int, ...],
                     num_classes: int) -> tuple[keras.Model, Matched]:
    """The model ``nettype`` of the checkpoints' method holding the file's arrays
    (CheckpointError if they do not fit)."""
    model = checkpoints.build_model(nettype, tuple(input_shape), num_classes)
    matched = match_layers(weights.path.name, weights.layers, expected_layers(model))
    for layer, arrays in zip(weighted_layers(model), matched.arrays):
        layer.set_weights(arrays)
    return model, matched


def run_model(run_dir: Path) -> keras.Model:
    """A finished run's saved model, loaded as ``export`` loads it (RunStateError if not)."""
    from masktrainer.export.cli import ExportError, load_run_model

    try:
        model = load_run_model(run_dir)
    except ExportError as err:
        raise RunStateError(str(err)) from None
    for weight in model.weights:  # a score of NaN or infinite weights means nothing
        values = np.asarray(weight)
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            bad = int(values.size - np.count_nonzero(np.isfinite(values)))
            raise RunStateError(f"{run_dir / layout.MODEL_FILE}: {weight.path} holds {bad} NaN or "
                                "infinite value(s); refusing to score non-finite weights")
    return model


def score_test_split(cfg: RunConfig, model: keras.Model, data: Any, seed: int = 1) -> dict[str, float]:
    """loss, accuracy and top5 of the test split, evaluated as a run of ``cfg`` does."""
    images = getattr(data, "x_test", None)  # ImageNet streams its images: its model is built
    takes = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
    if images is not None and takes and None not in takes and (
            math.prod(takes) != math.prod(images.shape[1:])):
        raise RunStateError(f"the model takes inputs of shape {takes}, the test images of "
                            f"{cfg.dataset} are {tuple(images.shape[1:])}: the run's settings "
                            "do not describe its model")
    method = methods.method_of(cfg)
    model.compile(**evaluation_compile_args(cfg, method))
    return EpochEvaluator(cfg, method, data, seed).split(model, "test")
