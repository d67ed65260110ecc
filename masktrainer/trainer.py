"""The training loop of the original ``NetworkTrainer``, on Keras 3, for every method.

Epoch 0 is an evaluation before any training. Each epoch then sets the
epoch's learning rate, trains once over the shuffled training split (train
loss/accuracy are Keras' running means over the epoch, as in the original),
evaluates on the validation split and the test set, records the method's
statistics (:mod:`masktrainer.recorders`), and writes the run's metrics.
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

from masktrainer.checkpoints import (
    RestoreMetricState,
    RunCheckpoint,
    StepCheckpoint,
    resume_state,
    truncate_metrics,
)
from masktrainer.config import RunConfig
from masktrainer.data import DataError, load_raw
from masktrainer.finetune import FinetuneSource, apply_source, check_compatible, load_source
from masktrainer.initializers import binary_input_scale
from masktrainer.methods import build_model
from masktrainer.monitors import StopOnNonFiniteLoss, TensorBoardLog, TrainingDiverged
from masktrainer.networks import get_architecture, kernel_fan_ins
from masktrainer.optim import epoch_learning_rate, make_optimizer
from masktrainer.preprocessing import Splits, prepare
from masktrainer.recorders import CORE_KEYS, Recorder, recorder_for
from masktrainer.rundir import RunDirectory, config_group_folder
from masktrainer.runtime import check_runtime, configure_runtime, output_root
from masktrainer.seeds import resolve_run_seed
from masktrainer.splits import slot_machines_split

JIT = {"auto": "auto", "on": True, "off": False}


@dataclasses.dataclass
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]


def load_data(cfg: RunConfig) -> Splits:
    """Raw data -> the original's splits and normalisation (+ binary input scale)."""
    raw = load_raw(cfg.dataset, cfg.data_source, cfg.data_dir, cfg.manual_dir, cfg.tfds_data_dir)
    scale = 1.0
    if cfg.initializer == "binary" and cfg.nettype != "ResNet":  # ResNet never scaled inputs
        fans = kernel_fan_ins(get_architecture(cfg.nettype), raw.x_train.shape[1:], raw.num_classes)
        scale = binary_input_scale(cfg.nettype, fans, cfg.binary_input_scale)
    if cfg.split == "slot_machines":
        indices = slot_machines_split(cfg.dataset, len(raw.x_train), cfg.split_dir)
        return prepare(raw, normalization=cfg.normalization, input_scale=scale,
                       split_indices=indices)
    if cfg.split == "test":  # the LaPerm notebooks: train on every image, validate on test
        every = np.arange(len(raw.x_train))
        splits = prepare(raw, normalization=cfg.normalization, input_scale=scale,
                         split_indices=(every, every[:0]))
        return dataclasses.replace(splits, x_val=splits.x_test, y_val=splits.y_test)
    if not cfg.validation_size < len(raw.x_train):
        raise DataError(
            f"--validation_size={cfg.validation_size} leaves no training images "
            f"({cfg.dataset} has {len(raw.x_train)})"
        )
    splits = prepare(raw, cfg.validation_size, cfg.normalization, scale)
    if cfg.resnet_quirks:  # the original's ResNet "validated" on the test set
        splits = dataclasses.replace(splits, x_val=splits.x_test, y_val=splits.y_test)
    return splits


class EpochBatches:
    """Batches of one split by index gathering (shuffling never copies the images).

    The order of epoch ``e`` is a function of (seed, e) alone, so a run resumed
    at any epoch sees exactly the batches an uninterrupted run would.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None) -> None:
        self.x, self.y = tf.constant(x), tf.constant(y)
        self.size, self.batch_size, self.seed = len(x), batch_size, seed

    def epoch(self, epoch: int):
        if self.seed is None:
            order = np.arange(self.size)
        else:
            order = np.random.RandomState([self.seed % 2**32, epoch]).permutation(self.size)
        x, y = self.x, self.y
        batches = tf.data.Dataset.from_tensor_slices(order).batch(self.batch_size).map(
            lambda idx: (tf.gather(x, idx), tf.gather(y, idx)), num_parallel_calls=tf.data.AUTOTUNE
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
        resume_dir: str | Path | None = None,
        resolved_seed: int | None = None,
    ) -> None:
        self.cfg = cfg
        self.echo = echo
        self.resume_dir = None if resume_dir is None else Path(resume_dir)
        self.run_seed = resolved_seed if resolved_seed is not None else resolve_run_seed(cfg.seed)
        self.source: FinetuneSource | None = None
        if cfg.finetune_from:  # read and check before anything is written
            self.source = load_source(cfg.finetune_from)
            check_compatible(cfg, self.source)
        check_runtime(cfg)  # e.g. --mixed_precision without a GPU
        self.data = data if data is not None else load_data(cfg)

    # -- pieces ----------------------------------------------------------------
    def build(self) -> keras.Model:
        cfg = self.cfg
        self.strategy = configure_runtime(cfg, self.run_seed)
        with self.strategy.scope():
            model = build_model(cfg, self.data.input_shape, self.data.num_classes, self.run_seed)
            if self.source is not None:
                apply_source(model, self.source)
            model.compile(
                optimizer=make_optimizer(cfg, self.run_seed),
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

    def _epoch_line(self, epoch: int, metrics: dict[str, Any], extra: str, seconds: float) -> str:
        e = epoch
        return (
            f"epoch {e:>3}/{self.cfg.maxepochs}"
            f" | train loss {metrics['trainLoss'][e]:.4f} acc {_pct(metrics['trainAccuracy'][e])}"
            f" | val loss {metrics['valLoss'][e]:.4f} acc {_pct(metrics['valAccuracy'][e])}"
            f" | test loss {metrics['testLoss'][e]:.4f} acc {_pct(metrics['testAccuracy'][e])}"
            f"{extra} | {seconds:.1f}s"
        )

    def _record(self, metrics: dict[str, Any], model: keras.Model, seconds: float,
                **values: float) -> str:
        """Append one epoch's values and the method's statistics; returns the line's extra part."""
        for key, value in values.items():
            metrics[key].append(value)
        measured = self.recorder.measure(model)
        for key, value in measured.items():
            if not key.startswith("_"):
                metrics[key].append(value)
        metrics["epochSeconds"].append(round(seconds, 3))
        return self.recorder.describe(measured)

    def _write(self, run: RunDirectory, metrics: dict[str, Any]) -> None:
        run.write_metrics(metrics, CORE_KEYS + self.recorder.flat_keys,
                          self.recorder.per_layer_fields())

    def _describe_run(self) -> str:
        cfg = self.cfg
        if cfg.method == "edge_popup":
            what = (f"keep_ratio {cfg.keep_ratio}, init {cfg.initializer}"
                    f"{' (scale_fan ' + cfg.scale_fan_rule + ')' if cfg.scale_fan else ''}")
        elif cfg.method == "slot_machines":
            what = f"K {cfg.slots}, {cfg.selection} selection (eval {cfg.eval_selection})"
        elif cfg.method == "laperm":
            keep = "" if cfg.random_keep_ratio is None else f", random keep {cfg.random_keep_ratio}"
            what = (f"notebook model, k {cfg.sync_period}, skip bias {cfg.skip_bias}, "
                    f"skip BN {cfg.skip_bn}{keep}, normalization {cfg.normalization}")
        elif cfg.method == "slot_finetune":
            what = f"fine-tuning the selection of {cfg.finetune_from}"
        else:
            what = f"init {cfg.initializer}, mask {cfg.masktype}"
        optimizer = cfg.optimizer + (
            f" (momentum {cfg.momentum}, L2 {cfg.weight_decay})" if cfg.optimizer == "sgd" else "")
        return (f"{what}, activation {cfg.activation}, {optimizer}, lr {cfg.lr} "
                f"{cfg.lr_schedule}")

    # -- the run ---------------------------------------------------------------
    def _start(self, model: keras.Model) -> tuple[RunDirectory, dict[str, Any]]:
        """A fresh run directory with its config, initial arrays and the epoch-0 evaluation."""
        cfg, data = self.cfg, self.data
        run = RunDirectory.create(output_root(config_group_folder(cfg)), self.echo)
        source = {}
        if self.source is not None:
            source = {"finetune_source": {
                key: self.source.config.get(key)
                for key in ("run_id", "resolved_seed", "slots", "selection", "maxepochs")}}
        run.write_json("config.json", {
            **cfg.to_dict(),
            **source,
            "format_version": 1,
            "method": cfg.method,
            "architecture": cfg.architecture,
            "resolved_seed": self.run_seed,
            "run_id": run.run_id,
            "run_dir": str(run.path),
            "created": datetime.datetime.now().isoformat(timespec="seconds"),
            "data": {"source": data.source, **data.sizes()},
            "versions": _versions(),
        })
        for name, arrays in self.recorder.initial_arrays(model).items():
            run.save_arrays(name, arrays)
        run.log(f"run directory: {run.path}")
        run.log(
            f"{cfg.traintype} {cfg.nettype} on {cfg.dataset} ({data.source}); "
            f"{self._describe_run()}, batch {cfg.batchsize}, epochs {cfg.maxepochs}, "
            f"seed {self.run_seed}, distribute {cfg.distribute} "
            f"({self.strategy.num_replicas_in_sync} replica(s)); "
            f"train/val/test {len(data.x_train)}/{len(data.x_val)}/{len(data.x_test)}"
        )
        series = (*CORE_KEYS, *self.recorder.flat_keys, *self.recorder.per_layer_fields(),
                  "epochSeconds")
        metrics: dict[str, Any] = {key: [] for key in series}
        metrics.update(format_version=1, status="running", epochs_completed=0,
                       layer_names=self.recorder.layer_names,
                       layer_sizes=self.recorder.layer_sizes)
        start = time.perf_counter()
        train_loss, train_acc = self._evaluate(model, data.x_train, data.y_train)
        val_loss, val_acc = self._evaluate(model, data.x_val, data.y_val)
        test_loss, test_acc = self._evaluate(model, data.x_test, data.y_test)
        seconds = time.perf_counter() - start
        extra = self._record(metrics, model, seconds, trainLoss=train_loss,
                             trainAccuracy=train_acc, valLoss=val_loss, valAccuracy=val_acc,
                             testLoss=test_loss, testAccuracy=test_acc)
        self._write(run, metrics)
        run.log(self._epoch_line(0, metrics, extra, seconds))
        return run, metrics

    def _resume(self, model: keras.Model) -> tuple[RunDirectory, dict[str, Any], int]:
        """Reopen a run directory at its last checkpointed epoch."""
        run = RunDirectory(self.resume_dir, self.echo)
        state = resume_state(run.path)
        if state is None:  # killed before the first epoch ended: start it again
            state = {"epoch": 0}
        else:
            with self.strategy.scope():
                model.optimizer.build(model.trainable_variables)
            RunCheckpoint(run.path, model).restore(state)
            self.recorder.measure(model)  # re-prime statistics that compare with the last epoch
        metrics = json.loads((run.path / "metrics.json").read_text(encoding="utf-8"))
        metrics = truncate_metrics(metrics, state["epoch"])
        self._partial = state.get("partial")
        if self._partial:
            # Keras creates the compiled metrics' variables lazily; build them now so
            # the running accumulators of the partial epoch can be put back.
            data = self.data
            self._evaluate(model, data.x_val[: self.cfg.batchsize], data.y_val[: self.cfg.batchsize])
        where = f"after epoch {state['epoch']}"
        if self._partial:
            where = f"in epoch {self._partial['epoch']} after step {self._partial['step']}"
        run.log(f"resuming {run.path} {where}")
        return run, metrics, state["epoch"] + 1

    def run(self) -> TrainResult:
        cfg, data = self.cfg, self.data
        model = self.build()
        self.recorder: Recorder = recorder_for(cfg.method, model, cfg.train_weights)
        self._partial = None
        if self.resume_dir is None:
            run, metrics = self._start(model)
            first = 1
        else:
            run, metrics, first = self._resume(model)
        checkpoint = RunCheckpoint(run.path, model)
        board = TensorBoardLog(run.path / "tensorboard") if cfg.tensorboard else None
        if board is not None and first == 1:
            board.write(0, metrics, model, None, self.recorder.layer_names,
                        self.recorder.per_layer_fields())
        batches = EpochBatches(data.x_train, data.y_train, cfg.batchsize, self.run_seed)
        for epoch in range(first, cfg.maxepochs + 1):
            start = time.perf_counter()
            lr = epoch_learning_rate(cfg, epoch - 1)
            model.optimizer.learning_rate.assign(lr)
            monitor = StopOnNonFiniteLoss()
            callbacks: list[keras.callbacks.Callback] = [monitor]
            dataset, done = batches.epoch(epoch), 0
            if self._partial and self._partial["epoch"] == epoch:  # resume inside the epoch
                done = int(self._partial["step"])
                dataset = dataset.skip(done)
                callbacks.append(RestoreMetricState(self._partial["metric_state"]))
            monitor.offset = done
            if cfg.checkpoint_every:
                steps = -(-len(data.x_train) // cfg.batchsize)
                callbacks.append(StepCheckpoint(cfg.checkpoint_every, checkpoint, epoch, done,
                                                steps_per_epoch=steps))
            history = model.fit(dataset, initial_epoch=epoch - 1, epochs=epoch, shuffle=False,
                                callbacks=callbacks, verbose=self._progress_verbosity())
            if monitor.bad_step is not None:
                self._diverged(run, metrics, epoch, monitor)
            logs = {k: float(v[-1]) for k, v in history.history.items()}
            # Validation and test at the end of the epoch, on the weights the method
            # evaluates (LaPerm: the reconnected ones).
            self.recorder.prepare_evaluation(model)
            val_loss, val_acc = self._evaluate(model, data.x_val, data.y_val)
            test_loss, test_acc = self._evaluate(model, data.x_test, data.y_test)
            seconds = time.perf_counter() - start
            extra = self._record(metrics, model, seconds, trainLoss=logs["loss"],
                                 trainAccuracy=logs["accuracy"], valLoss=val_loss,
                                 valAccuracy=val_acc, testLoss=test_loss, testAccuracy=test_acc)
            self.recorder.finish_evaluation(model)
            metrics["epochs_completed"] = epoch
            self._write(run, metrics)
            checkpoint.save(epoch)
            if board is not None:
                board.write(epoch, metrics, model, lr, self.recorder.layer_names,
                            self.recorder.per_layer_fields())
            run.log(self._epoch_line(epoch, metrics, extra, seconds))
        if board is not None:
            board.close()
        return self._finish(run, model, metrics)

    def _diverged(self, run: RunDirectory, metrics: dict[str, Any], epoch: int,
                  monitor: StopOnNonFiniteLoss) -> None:
        metrics["status"] = "diverged"
        self._write(run, metrics)
        message = (f"loss became {monitor.bad_value} at epoch {epoch}, step {monitor.bad_step}; "
                   f"training stopped. The last checkpoint before it (no checkpoint is written "
                   f"from a non-finite step) is in {run.path / 'checkpoint'}")
        run.log(message)
        raise TrainingDiverged(message)

    def _finish(self, run: RunDirectory, model: keras.Model, metrics: dict[str, Any]) -> TrainResult:
        self.recorder.finalize(model)
        for name, arrays in self.recorder.final_arrays(model).items():
            run.save_arrays(name, arrays)
        model.save(run.path / "model.keras")
        metrics["status"] = "complete"
        self._write(run, metrics)
        run.log(
            f"done: test accuracy {_pct(metrics['testAccuracy'][-1])}"
            f"{self.recorder.summary(metrics)}; results in {run.path}"
        )
        return TrainResult(run.path, json.loads(json.dumps(metrics)))


def train(cfg: RunConfig, data: Splits | None = None, echo: Callable[[str], None] | None = print) -> TrainResult:
    """Train one configuration; returns the run directory and its metrics."""
    return Trainer(cfg, data, echo).run()
