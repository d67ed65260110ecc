"""The training loop of the original ``NetworkTrainer``, on Keras 3.

Epoch 0 is an evaluation before any training. Each epoch then trains once
over the shuffled training split (train loss/accuracy are Keras' running
means over the epoch, as in the original), evaluates on the validation split
and the test set, counts the masks, and writes the run's metrics.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np
import tensorflow as tf

from masktrainer.config import RunConfig
from masktrainer.data import DataError, load_raw
from masktrainer.initializers import binary_input_scale
from masktrainer.methods import build_model
from masktrainer.networks import get_architecture, kernel_fan_ins
from masktrainer.preprocessing import Splits, prepare
from masktrainer.rundir import RunDirectory, group_folder
from masktrainer.seeds import resolve_run_seed
from masktrainer.stats import ConnectivityStats, connectivity_stats, kernel_arrays, mask_arrays

JIT = {"auto": "auto", "on": True, "off": False}


@dataclasses.dataclass
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]


def load_data(cfg: RunConfig) -> Splits:
    """Raw data -> the original's splits and normalisation (+ binary input scale)."""
    raw = load_raw(cfg.dataset, cfg.data_source, cfg.data_dir, cfg.manual_dir, cfg.tfds_data_dir)
    scale = 1.0
    if cfg.initializer == "binary":
        fans = kernel_fan_ins(get_architecture(cfg.nettype), raw.x_train.shape[1:], raw.num_classes)
        scale = binary_input_scale(cfg.nettype, fans, cfg.binary_input_scale)
    if not cfg.validation_size < len(raw.x_train):
        raise DataError(
            f"--validation_size={cfg.validation_size} leaves no training images "
            f"({cfg.dataset} has {len(raw.x_train)})"
        )
    return prepare(raw, cfg.validation_size, cfg.normalization, scale)


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None):
    """Batches by index gathering, so shuffling never copies the images."""
    x_t, y_t = tf.constant(x), tf.constant(y)
    indices = tf.data.Dataset.range(len(x))
    if shuffle_seed is not None:
        indices = indices.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    batches = indices.batch(batch_size).map(
        lambda idx: (tf.gather(x_t, idx), tf.gather(y_t, idx)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return batches.prefetch(tf.data.AUTOTUNE)


def _versions() -> dict[str, str]:
    return {
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def _pct(value: float) -> str:
    return f"{100.0 * value:.2f}%"


class Trainer:
    """Runs one configuration end to end and writes its run directory."""

    def __init__(
        self,
        cfg: RunConfig,
        data: Splits | None = None,
        echo: Callable[[str], None] | None = print,
    ) -> None:
        self.cfg = cfg
        self.echo = echo
        self.run_seed = resolve_run_seed(cfg.seed)
        self.data = data if data is not None else load_data(cfg)

    # -- pieces ----------------------------------------------------------------
    def build(self) -> keras.Model:
        cfg = self.cfg
        keras.utils.set_random_seed(self.run_seed)
        model = build_model(cfg, self.data.input_shape, self.data.num_classes, self.run_seed)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=cfg.lr),
            loss=keras.losses.CategoricalCrossentropy(),
            metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
            jit_compile=JIT[cfg.jit_compile],
        )
        return model

    def _progress_verbosity(self) -> int:
        if self.cfg.progress == "bar":
            return 1
        if self.cfg.progress == "auto" and sys.stdout.isatty():
            return 1
        return 0

    def _evaluate(self, model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        result = model.evaluate(x, y, batch_size=self.cfg.eval_batchsize, verbose=0, return_dict=True)
        return float(result["loss"]), float(result["accuracy"])

    def _epoch_line(self, epoch: int, metrics: dict[str, Any], stats: ConnectivityStats, seconds: float) -> str:
        frac = stats.fractions()
        e = epoch
        return (
            f"epoch {e:>3}/{self.cfg.maxepochs}"
            f" | train loss {metrics['trainLoss'][e]:.4f} acc {_pct(metrics['trainAccuracy'][e])}"
            f" | val loss {metrics['valLoss'][e]:.4f} acc {_pct(metrics['valAccuracy'][e])}"
            f" | test loss {metrics['testLoss'][e]:.4f} acc {_pct(metrics['testAccuracy'][e])}"
            f" | remaining {_pct(stats.remaining / stats.total)} ({stats.remaining:,}/{stats.total:,})"
            f" | masks -/0/+ {_pct(frac['neg_masks'])}/{_pct(frac['zero_masks'])}/{_pct(frac['pos_masks'])}"
            f" | weights -/0/+ {_pct(frac['neg_effective'])}/{_pct(frac['zero_effective'])}"
            f"/{_pct(frac['pos_effective'])}"
            f" | {seconds:.1f}s"
        )

    @staticmethod
    def _record(metrics: dict[str, Any], stats: ConnectivityStats, seconds: float, **values: float) -> None:
        for key, value in values.items():
            metrics[key].append(value)
        metrics["remainingWeights"].append(stats.remaining)
        metrics["remainingWeightsPerLayer"].append(stats.per_layer)
        metrics["epochSeconds"].append(round(seconds, 3))

    # -- the run ---------------------------------------------------------------
    def run(self) -> TrainResult:
        cfg, data = self.cfg, self.data
        model = self.build()
        parent = group_folder(cfg.outputpath, cfg.traintype, cfg.nettype, cfg.p1, cfg.masktype,
                              cfg.activation, cfg.initializer, cfg.lr)
        run = RunDirectory.create(parent, self.echo)
        run.write_json("config.json", {
            **cfg.to_dict(),
            "format_version": 1,
            "method": "self_pruning",
            "resolved_seed": self.run_seed,
            "run_id": run.run_id,
            "run_dir": str(run.path),
            "created": datetime.datetime.now().isoformat(timespec="seconds"),
            "data": {"source": data.source, **data.sizes()},
            "versions": _versions(),
        })
        run.save_arrays("initial_weights.npz", kernel_arrays(model))
        run.log(f"run directory: {run.path}")
        run.log(
            f"{cfg.traintype} {cfg.nettype} on {cfg.dataset} ({data.source}); "
            f"init {cfg.initializer}, mask {cfg.masktype}, activation {cfg.activation}, "
            f"lr {cfg.lr}, batch {cfg.batchsize}, epochs {cfg.maxepochs}, seed {self.run_seed}; "
            f"train/val/test {len(data.x_train)}/{len(data.x_val)}/{len(data.x_test)}"
        )

        metrics: dict[str, Any] = {key: [] for key in (
            "trainLoss", "valLoss", "testLoss", "trainAccuracy", "valAccuracy", "testAccuracy",
            "remainingWeights", "remainingWeightsPerLayer", "epochSeconds")}
        stats = connectivity_stats(model)
        metrics.update(format_version=1, status="running", epochs_completed=0,
                       layer_names=stats.layer_names, layer_sizes=stats.layer_sizes)

        start = time.perf_counter()
        train_loss, train_acc = self._evaluate(model, data.x_train, data.y_train)
        val_loss, val_acc = self._evaluate(model, data.x_val, data.y_val)
        test_loss, test_acc = self._evaluate(model, data.x_test, data.y_test)
        seconds = time.perf_counter() - start
        self._record(metrics, stats, seconds, trainLoss=train_loss, trainAccuracy=train_acc,
                     valLoss=val_loss, valAccuracy=val_acc, testLoss=test_loss, testAccuracy=test_acc)
        run.write_metrics(metrics)
        run.log(self._epoch_line(0, metrics, stats, seconds))

        train_ds = make_dataset(data.x_train, data.y_train, cfg.batchsize, self.run_seed)
        val_ds = make_dataset(data.x_val, data.y_val, cfg.eval_batchsize, None)
        for epoch in range(1, cfg.maxepochs + 1):
            start = time.perf_counter()
            history = model.fit(train_ds, validation_data=val_ds, initial_epoch=epoch - 1,
                                epochs=epoch, shuffle=False,
                                verbose=self._progress_verbosity())
            test_loss, test_acc = self._evaluate(model, data.x_test, data.y_test)
            seconds = time.perf_counter() - start
            logs = {k: float(v[-1]) for k, v in history.history.items()}
            stats = connectivity_stats(model)
            self._record(metrics, stats, seconds, trainLoss=logs["loss"],
                         trainAccuracy=logs["accuracy"], valLoss=logs["val_loss"],
                         valAccuracy=logs["val_accuracy"], testLoss=test_loss,
                         testAccuracy=test_acc)
            metrics["epochs_completed"] = epoch
            run.write_metrics(metrics)
            run.log(self._epoch_line(epoch, metrics, stats, seconds))

        run.save_arrays("masks.npz", mask_arrays(model))
        if cfg.train_weights:
            run.save_arrays("final_weights.npz", kernel_arrays(model))
        model.save(run.path / "model.keras")
        metrics["status"] = "complete"
        run.write_metrics(metrics)
        run.log(
            f"done: test accuracy {_pct(metrics['testAccuracy'][-1])}, remaining "
            f"{_pct(metrics['remainingWeights'][-1] / sum(metrics['layer_sizes']))}; "
            f"results in {run.path}"
        )
        return TrainResult(run.path, json.loads(json.dumps(metrics)))


def train(cfg: RunConfig, data: Splits | None = None, echo: Callable[[str], None] | None = print) -> TrainResult:
    """Train one configuration; returns the run directory and its metrics."""
    return Trainer(cfg, data, echo).run()
