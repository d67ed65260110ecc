"""Training monitors: stop on a non-finite loss, and TensorBoard summaries."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from masktrainer.errors import RunWriteError


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the run stopped."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop training at the first batch whose loss is NaN or infinite and remember where."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch = 0
        self.offset = 0  # steps already done when the epoch was resumed
        self.bad_step: int | None = None
        self.bad_value: float | None = None

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.bad_step, self.bad_value = self.offset + int(batch) + 1, float(loss)
            self.model.stop_training = True


class TensorBoardLog:
    """Per-epoch scalars (losses, accuracies, lr, method statistics) and score histograms."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writer = tf.summary.create_file_writer(str(folder))

    def write(self, epoch: int, metrics: dict[str, Any], model: keras.Model, lr: float | None,
              layer_names: list[str], layer_fields: dict[str, list[str]] | None = None) -> None:
        try:
            self._write(epoch, metrics, model, lr, layer_names, layer_fields or {})
        except tf.errors.OpError as err:  # e.g. a full disk
            raise RunWriteError(f"cannot write TensorBoard events in {self.folder}: "
                                f"{err.message.strip().splitlines()[-1]}") from None

    def _write(self, epoch: int, metrics: dict[str, Any], model: keras.Model, lr: float | None,
               layer_names: list[str], layer_fields: dict[str, list[str]]) -> None:
        with self.writer.as_default(step=epoch):
            for key, series in metrics.items():
                if not isinstance(series, list) or len(series) <= epoch:
                    continue
                value = series[epoch]
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    tf.summary.scalar(key, float(value))
                elif isinstance(value, list) and layer_names and len(value) == len(layer_names):
                    for name, item in zip(layer_names, value):
                        if isinstance(item, (int, float)) and not isinstance(item, bool):
                            tf.summary.scalar(f"{key}/{name}", float(item))
                        elif isinstance(item, list):  # named values per layer
                            fields = layer_fields.get(key) or [str(i) for i in range(len(item))]
                            for field, number in zip(fields, item):
                                if isinstance(number, (int, float)):
                                    tf.summary.scalar(f"{key}/{name}/{field}", float(number))
            if lr is not None:
                tf.summary.scalar("learning_rate", lr)
            for layer in model._flatten_layers(include_self=False):
                for attribute in ("score", "scores"):
                    variable = getattr(layer, attribute, None)
                    if variable is not None:
                        tf.summary.histogram(f"{attribute}/{layer.name}", np.asarray(variable))
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
