"""The library's own Keras metric (registered, so a compiled saved model loads back)."""

from __future__ import annotations

from typing import Any

import keras

_PACKAGE = "masktrainer"  # the registered name stays masktrainer>BatchMeanLoss


@keras.saving.register_keras_serializable(package=_PACKAGE)
class BatchMeanLoss(keras.metrics.Metric):
    """Cross-entropy averaged per batch, then over batches (the last, smaller batch counts as
    much as the others, as in a PyTorch loop that averages batch losses)."""

    def __init__(self, name: str = "batch_loss", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.batches = self.add_variable(shape=(), initializer="zeros", name="batches")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        loss = keras.ops.mean(keras.losses.categorical_crossentropy(y_true, y_pred))
        self.total.assign_add(keras.ops.cast(loss, self.dtype))
        self.batches.assign_add(keras.ops.cast(1, self.dtype))

    def result(self):
        return keras.ops.divide_no_nan(self.total, self.batches)
