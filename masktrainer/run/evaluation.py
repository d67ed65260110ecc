"""What a run evaluates at the end of every epoch, with each original's definitions.

* validation and test: loss, top-1 and top-5 accuracy (edge-popup reports top-5);
  the loss is Keras' mean over samples, or the mean over batches for a method
  whose original averages per batch (Slot Machines, ``Method.loss_over_batches``,
  with batches of the training batch size, as its evaluation loaders);
* a random training subset in evaluation mode for a method whose original
  measures "train accuracy" that way (LaPerm: 30 000 images,
  ``Method.train_subset_size``); the subset of epoch ``e`` is a function of
  (seed, e) alone, so resumed runs draw the same images.

``best_epoch`` picks the epoch with the best validation accuracy, as the
originals report their best accuracies.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.methods.base import Method

_PACKAGE = "masktrainer"
TOP5_KEYS = ("valTop5Accuracy", "testTop5Accuracy")
SUBSET_KEYS = ("trainSubsetLoss", "trainSubsetAccuracy")
BEST_KEYS = ("valAccuracy", "valTop5Accuracy", "testAccuracy", "testTop5Accuracy")
JIT = {"auto": "auto", "on": True, "off": False}  # --jit_compile -> Keras' jit_compile


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


def compile_metrics(method: Method) -> list[keras.metrics.Metric]:
    metrics = [keras.metrics.CategoricalAccuracy(name="accuracy"),
               keras.metrics.TopKCategoricalAccuracy(5, name="top5")]
    if method.loss_over_batches:
        metrics.append(BatchMeanLoss())
    return metrics


def evaluation_compile_args(cfg: RunConfig, method: Method) -> dict[str, Any]:
    """``model.compile`` arguments (loss, metrics, XLA) that every run evaluates with."""
    return {"loss": keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
            "metrics": compile_metrics(method), "jit_compile": JIT[cfg.jit_compile]}


class EpochEvaluator:
    """The evaluations of one run (see the module docstring)."""

    def __init__(self, cfg: RunConfig, method: Method, data: Splits, run_seed: int) -> None:
        self.cfg, self.method, self.data, self.seed = cfg, method, data, run_seed
        self.batch_size = cfg.batchsize if method.loss_over_batches else cfg.eval_batchsize
        size = method.train_subset_size
        self.subset_size = None if size is None else min(size, data.sizes()["train"])
        self._stream_model, self._stream_fn = None, None

    @property
    def series(self) -> tuple[str, ...]:
        """The per-epoch keys this evaluator adds to the core ones."""
        return TOP5_KEYS + (SUBSET_KEYS if self.subset_size is not None else ())

    def split(self, model: keras.Model, split: str, limit: int | None = None) -> dict[str, float]:
        """loss, accuracy and top5 of ``split`` (train, val, test) in evaluation mode."""
        return self._scores(model, self.data.evaluation(split, self.batch_size, limit))

    def _scores(self, model: keras.Model, inputs: dict) -> dict[str, float]:
        if isinstance(inputs["x"], tf.data.Dataset):
            return self._stream_scores(model, inputs["x"])
        result = model.evaluate(**inputs, verbose=0, return_dict=True)
        loss = result["batch_loss"] if self.method.loss_over_batches else result["loss"]
        return {"loss": float(loss), "accuracy": float(result["accuracy"]),
                "top5": float(result["top5"])}

    def _stream_scores(self, model: keras.Model, batches: tf.data.Dataset) -> dict[str, float]:
        """A streamed split, batch by batch on the model itself: Keras' distributed evaluate
        fails on a last batch that does not split evenly across the replicas."""
        if self._stream_model is not model:  # trace once per model
            self._stream_model, self._stream_fn = model, self._batch_scores(model)
        sums = np.zeros(6)  # loss * n, loss, correct, top-5 correct, n, batches
        for x, y in batches:
            loss, hits, top5, n = (float(v) for v in self._stream_fn(x, y))
            sums += (loss * n, loss, hits, top5, n, 1)
        weighted, summed, hits, top5, n, count = sums
        loss = summed / count if self.method.loss_over_batches else weighted / n
        return {"loss": float(loss), "accuracy": float(hits / n), "top5": float(top5 / n)}

    @staticmethod
    def _batch_scores(model: keras.Model):
        @tf.function
        def scores(x, y):
            p = model(x, training=False)
            loss = model.loss(y, p) + tf.add_n(model.losses or [tf.constant(0.0)])
            label = tf.argmax(y, -1, output_type=tf.int32)
            hits = tf.cast(tf.argmax(p, -1, output_type=tf.int32) == label, tf.float32)
            top5 = tf.cast(tf.math.in_top_k(label, p, 5), tf.float32)
            return loss, tf.reduce_sum(hits), tf.reduce_sum(top5), tf.cast(tf.shape(x)[0],
                                                                             tf.float32)

        return scores

    def epoch(self, model: keras.Model, epoch: int) -> dict[str, float]:
        """Validation, test and (if any) training-subset values of the end of ``epoch``."""
        test = self.split(model, "test")
        val = test if self.cfg.split == "test" else self.split(model, "val")  # val is the test set
        values = {"valLoss": val["loss"], "valAccuracy": val["accuracy"],
                  "valTop5Accuracy": val["top5"], "testLoss": test["loss"],
                  "testAccuracy": test["accuracy"], "testTop5Accuracy": test["top5"]}
        if self.subset_size is not None:
            subset = self._scores(model, self.data.train_subset(self.subset_size, self.seed, epoch,
                                                                self.batch_size))
            values.update(trainSubsetLoss=subset["loss"], trainSubsetAccuracy=subset["accuracy"])
        return values


def best_epoch(metrics: dict[str, Any]) -> dict[str, Any] | None:
    """The trained epoch (epoch 0 if none) with the best validation accuracy, first on ties."""
    accuracy = metrics.get("valAccuracy") or []
    epochs = [e for e in range(1, len(accuracy)) if accuracy[e] is not None] or \
        [e for e in range(len(accuracy)) if accuracy[e] is not None]
    if not epochs:
        return None
    best = max(epochs, key=lambda e: (accuracy[e], -e))
    return {"epoch": best, **{key: (metrics.get(key) or [None] * (best + 1))[best]
                              for key in BEST_KEYS}}
