"""What a run evaluates at the end of an epoch, with each original's definitions.

* the sets of ``--eval_sets`` at the epochs :mod:`masktrainer.eval_plan` says (each
  method's default is what its original evaluates); a set not evaluated is ``None``;
* validation and test: loss, top-1 and top-5 accuracy (edge-popup reports top-5);
  the loss is Keras' mean over samples, or the mean over batches for a method
  whose original averages per batch (Slot Machines, ``Runtime.loss_over_batches``,
  with batches of the training batch size, as its evaluation loaders);
* ``train_subset``: a random training subset in evaluation mode (LaPerm's "train
  accuracy": 30 000 images, ``--eval_train_size``); the subset of epoch ``e`` is a
  function of (seed, e) alone, so resumed runs draw the same images;
* a run with a penalty on its masks (self-pruning's Min*: ``Recipe.alpha``) also
  records the cross-entropy of every set (``*CrossEntropy``) and the penalty itself;
  ``*Loss`` stay their sum, the original's keys.

``best_epoch`` picks the epoch on the set the run's ``--protocol`` selects on
(:func:`masktrainer.protocols.selection_set`: validation, or test where the original
selects on its test loader) and reports the test accuracy there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from masktrainer.config import RunConfig
from masktrainer.data.pipeline import evaluation_batches
from masktrainer.data.preprocessing import Splits
from masktrainer.eval_plan import evaluates, parse_sets
from masktrainer.methods.base import Method
from masktrainer.nn.metrics import BatchMeanLoss

TOP5_KEYS = ("valTop5Accuracy", "testTop5Accuracy")
SUBSET_KEYS = ("trainSubsetLoss", "trainSubsetAccuracy")
BEST_KEYS = ("valAccuracy", "valTop5Accuracy", "testAccuracy", "testTop5Accuracy")
JIT = {"auto": "auto", "on": True, "off": False}  # --jit_compile -> Keras' jit_compile


def compile_metrics(method: Method, penalised: bool = False,
                    label_smoothing: float = 0.0) -> list[keras.metrics.Metric]:
    """The metrics every run compiles; a penalised run also tracks its cross-entropy."""
    metrics = [keras.metrics.CategoricalAccuracy(name="accuracy"),
               keras.metrics.TopKCategoricalAccuracy(5, name="top5")]
    if method.runtime.loss_over_batches:
        metrics.append(BatchMeanLoss())
    if penalised:
        metrics.append(keras.metrics.CategoricalCrossentropy(
            name="cross_entropy", label_smoothing=label_smoothing))
    return metrics


def evaluation_compile_args(cfg: RunConfig, method: Method,
                            penalised: bool = False) -> dict[str, Any]:
    """``model.compile`` arguments (loss, metrics, XLA) that every run evaluates with."""
    return {"loss": keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
            "metrics": compile_metrics(method, penalised, cfg.label_smoothing),
            "jit_compile": JIT[cfg.jit_compile]}


def model_penalty(model: keras.Model, input_shape: tuple[int, ...]) -> float:
    """The penalty terms the model adds to its loss (``add_loss``; they depend on the masks,
    not on the inputs), from one forward pass."""
    model(np.zeros((1, *input_shape), np.float32), training=False)
    return float(sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses))


class EpochEvaluator:
    """The evaluations of one run (see the module docstring)."""

    def __init__(self, cfg: RunConfig, method: Method, data: Splits, run_seed: int) -> None:
        self.cfg, self.method, self.data, self.seed = cfg, method, data, run_seed
        self.batch_size = cfg.batchsize if method.runtime.loss_over_batches else cfg.eval_batchsize
        self.sets = parse_sets(cfg.eval_sets)
        size, train = cfg.eval_train_size, data.sizes()["train"]
        self.subset_size = (min(size, train) or train) if "train_subset" in self.sets else None
        self.penalised = cfg.alpha != 0.0
        self.heartbeat = None  # a console.Heartbeat told which set is being evaluated
        self._stream_model, self._stream_fn = None, None
        self.distributed = cfg.distribute != "none"

    @property
    def series(self) -> tuple[str, ...]:
        """The per-epoch keys this evaluator adds to the core ones."""
        keys = TOP5_KEYS + (SUBSET_KEYS if self.subset_size is not None else ())
        if self.penalised:
            keys += tuple(f"{prefix}CrossEntropy" for prefix in
                          ("train", "val", "test") + (("trainSubset",) if self.subset_size
                                                      is not None else ())) + ("penalty",)
        return keys

    def split(self, model: keras.Model, split: str, limit: int | None = None) -> dict[str, float]:
        """loss, accuracy and top5 (and the cross-entropy, if penalised) of ``split`` (train,
        val, test) in evaluation mode."""
        return self._scores(model, self.data.evaluation(split, self.batch_size, limit), split)

    def _scores(self, model: keras.Model, inputs: dict, label: str) -> dict[str, float]:
        if self.heartbeat is not None:
            self.heartbeat.phase = f"evaluating {label}"
        if isinstance(inputs["x"], tf.data.Dataset):
            return self._stream_scores(model, inputs["x"])
        if self.distributed:
            # Keras' evaluate of arrays under a tf.distribute strategy crashes TensorFlow now
            # and then (a segfault as it drops the distributed iterator it peeked into; plain
            # Keras does it too): stream the arrays instead.
            x, y, size = inputs["x"], inputs["y"], inputs["batch_size"]
            return self._stream_scores(model, ((x[i:i + size], y[i:i + size])
                                               for i in range(0, len(x), size)))
        callbacks = [] if self.heartbeat is None else [self.heartbeat]
        batches = evaluation_batches(inputs["x"], inputs["y"], inputs["batch_size"])
        result = model.evaluate(batches, verbose=0, return_dict=True, callbacks=callbacks)
        loss = result["batch_loss"] if self.method.runtime.loss_over_batches else result["loss"]
        scores = {"loss": float(loss), "accuracy": float(result["accuracy"]),
                  "top5": float(result["top5"])}
        if self.penalised:
            scores["cross_entropy"] = float(result["cross_entropy"])
        return scores

    def _stream_scores(self, model: keras.Model, batches: Iterable) -> dict[str, float]:
        """A streamed split (a dataset or (x, y) array batches), batch by batch on the model
        itself: Keras' distributed evaluate fails on a last batch that does not split evenly
        across the replicas."""
        if self._stream_model is not model:  # trace once per model
            self._stream_model, self._stream_fn = model, self._batch_scores(model)
        sums = np.zeros(7)  # loss * n, loss, correct, top-5 correct, n, batches, CE * n
        for x, y in batches:
            loss, hits, top5, n, ce = (float(v) for v in self._stream_fn(x, y))
            sums += (loss * n, loss, hits, top5, n, 1, ce * n)
        weighted, summed, hits, top5, n, count, ce = sums
        loss = summed / count if self.method.runtime.loss_over_batches else weighted / n
        scores = {"loss": float(loss), "accuracy": float(hits / n), "top5": float(top5 / n)}
        if self.penalised:
            scores["cross_entropy"] = float(ce / n)
        return scores

    @staticmethod
    def _batch_scores(model: keras.Model):
        @tf.function
        def scores(x, y):
            p = model(x, training=False)
            ce = model.loss(y, p)
            loss = ce + tf.add_n(model.losses or [tf.constant(0.0)])
            label = tf.argmax(y, -1, output_type=tf.int32)
            hits = tf.cast(tf.argmax(p, -1, output_type=tf.int32) == label, tf.float32)
            top5 = tf.cast(tf.math.in_top_k(label, p, 5), tf.float32)
            return loss, tf.reduce_sum(hits), tf.reduce_sum(top5), tf.cast(tf.shape(x)[0],
                                                                             tf.float32), ce

        return scores

    def _record(self, values: dict[str, float | None], prefix: str,
                scores: dict[str, float], top5: bool = True) -> None:
        values[f"{prefix}Loss"], values[f"{prefix}Accuracy"] = scores["loss"], scores["accuracy"]
        if top5:
            values[f"{prefix}Top5Accuracy"] = scores["top5"]
        if self.penalised:
            values[f"{prefix}CrossEntropy"] = scores["cross_entropy"]

    def epoch(self, model: keras.Model, epoch: int) -> dict[str, float | None]:
        """The values of the end of ``epoch`` (0: before training): every key of
        :attr:`series` and the validation and test keys, None where not evaluated."""
        values: dict[str, float | None] = dict.fromkeys(
            ("valLoss", "valAccuracy", "testLoss", "testAccuracy") + self.series)
        if self.penalised:
            values["penalty"] = model_penalty(model, self.data.input_shape)
        if not evaluates(self.cfg, epoch):
            return values
        if epoch == 0 and self.cfg.initial_eval == "full":
            self._record(values, "train", self.split(model, "train"), top5=False)
        val_is_test = self.cfg.split == "test"  # the validation set is the test set
        if "test" in self.sets or ("val" in self.sets and val_is_test):
            test = self.split(model, "test")
            self._record(values, "test", test)
            if val_is_test:
                self._record(values, "val", test)
        if "val" in self.sets and not val_is_test:
            self._record(values, "val", self.split(model, "val"))
        if self.subset_size is not None:
            inputs = self.data.train_subset(self.subset_size, self.seed, epoch, self.batch_size)
            self._record(values, "trainSubset", self._scores(model, inputs, "train subset"),
                         top5=False)
        return values


def best_epoch(metrics: dict[str, Any], selected_on: str | None = None,
               protocol: str | None = None) -> dict[str, Any] | None:
    """The trained epoch (epoch 0 if none) with the best accuracy on ``selected_on`` (the
    run's :func:`~masktrainer.protocols.selection_set`; None: validation if evaluated, else
    test), first on ties; the test accuracy there is what the run reports."""
    candidates = (selected_on,) if selected_on else ("val", "test")
    for selected_on in candidates:
        accuracy = metrics.get(f"{selected_on}Accuracy") or []
        epochs = [e for e in range(1, len(accuracy)) if accuracy[e] is not None] or \
            [e for e in range(len(accuracy)) if accuracy[e] is not None]
        if epochs:
            break
    else:
        return None
    best = max(epochs, key=lambda e: (accuracy[e], -e))
    return {"epoch": best, "selected_on": selected_on, "reported": "testAccuracy",
            **({"protocol": protocol} if protocol else {}),
            **{key: (metrics.get(key) or [None] * (best + 1))[best] for key in BEST_KEYS}}
