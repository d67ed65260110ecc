"""The training loop of the original ``NetworkTrainer``, on Keras 3, for every method.

Epoch 0 is an evaluation before any training. Each epoch then sets the
epoch's learning rate, trains once over the shuffled training split (train
loss/accuracy are Keras' running means over the epoch, as in the original),
evaluates on the validation split and the test set, records the method's
statistics (the method's recorder, :mod:`masktrainer.methods.recording`), and writes
the run's metrics.
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

from masktrainer import methods
from masktrainer.config import RunConfig
from masktrainer.data.loading import load_data
from masktrainer.data.preprocessing import Splits
from masktrainer.methods.recording import CORE_KEYS, Recorder
from masktrainer.nn.seeds import resolve_run_seed
from masktrainer.run.checkpoints import (
    RestoreMetricState,
    RunCheckpoint,
    StepCheckpoint,
    resume_state,
    truncate_metrics,
)
from masktrainer.run.evaluation import EpochEvaluator, best_epoch, compile_metrics
from masktrainer.run.monitors import (
    StopOnNonFiniteLoss,
    TensorBoardLog,
    TrainingDiverged,
)
from masktrainer.run.rundir import RunDirectory
from masktrainer.run.runtime import check_runtime, configure_runtime, output_root
from masktrainer.text import pct

JIT = {"auto": "auto", "on": True, "off": False}


@dataclasses.dataclass
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]


def _versions() -> dict[str, str]:
    return {
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


class Trainer:
    """Runs one configuration end to end and writes its run directory."""

    def __init__(
        self,
        cfg: RunConfig,
        data: Splits | None = None,
        echo: Callable[[str], None] | None = print,
        resume_dir: str | Path | None = None,
        resolved_seed: int | None = None,
        invocation: dict[str, Any] | None = None,
    ) -> None:
        self.cfg = cfg
        self.invocation = invocation
        self.echo = echo
        self.resume_dir = None if resume_dir is None else Path(resume_dir)
        self.run_seed = resolved_seed if resolved_seed is not None else resolve_run_seed(cfg.seed)
        self.method = methods.method_of(cfg)
        self.prepared = self.method.prepare(cfg)  # read and check before anything is written
        check_runtime(cfg)  # e.g. --mixed_precision without a GPU
        self.data = data if data is not None else load_data(cfg)
        self.evaluator = EpochEvaluator(cfg, self.method, self.data, self.run_seed)

    # -- pieces ----------------------------------------------------------------
    def build(self) -> keras.Model:
        cfg = self.cfg
        self.strategy = configure_runtime(cfg, self.run_seed)
        methods.register_keras_objects()
        with self.strategy.scope():
            model = self.method.build_model(cfg, self.data.input_shape, self.data.num_classes,
                                            self.run_seed, self.prepared)
            model.compile(
                optimizer=self.method.make_optimizer(cfg, self.run_seed),
                loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
                metrics=compile_metrics(self.method),
                jit_compile=JIT[cfg.jit_compile],
            )
        return model

    def _progress_verbosity(self) -> int:
        if self.cfg.progress == "bar":
            return 1
        if self.cfg.progress == "auto" and sys.stdout.isatty():
            return 1
        return 0

    def _epoch_line(self, epoch: int, metrics: dict[str, Any], extra: str, seconds: float) -> str:
        e = epoch
        return (
            f"epoch {e:>3}/{self.cfg.maxepochs}"
            f" | train loss {metrics['trainLoss'][e]:.4f} acc {pct(metrics['trainAccuracy'][e])}"
            f" | val loss {metrics['valLoss'][e]:.4f} acc {pct(metrics['valAccuracy'][e])}"
            f" | test loss {metrics['testLoss'][e]:.4f} acc {pct(metrics['testAccuracy'][e])}"
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

    def _save_epoch_arrays(self, run: RunDirectory, model: keras.Model, epoch: int) -> None:
        for name, arrays in self.recorder.epoch_arrays(model, epoch).items():
            run.save_arrays(name, arrays)

    @property
    def _flat_keys(self) -> tuple[str, ...]:
        return CORE_KEYS + self.evaluator.series + self.recorder.flat_keys

    def _write(self, run: RunDirectory, metrics: dict[str, Any]) -> None:
        run.write_metrics(metrics, self._flat_keys, self.recorder.per_layer_fields())

    def _describe_run(self) -> str:
        cfg = self.cfg
        optimizer = cfg.optimizer + (
            f" (momentum {cfg.momentum}, L2 {cfg.weight_decay})" if cfg.optimizer == "sgd" else "")
        return (f"{self.method.describe(cfg)}, activation {cfg.activation}, {optimizer}, "
                f"lr {cfg.lr} {cfg.lr_schedule}")

    # -- the run ---------------------------------------------------------------
    def _start(self, model: keras.Model) -> tuple[RunDirectory, dict[str, Any]]:
        """A fresh run directory with its config, initial arrays and the epoch-0 evaluation."""
        cfg, data = self.cfg, self.data
        run = RunDirectory.create(output_root(self.method.run_folder(cfg)), self.echo)
        run.write_json("config.json", {
            **cfg.to_dict(),
            **self.method.run_metadata(cfg, self.prepared),
            "format_version": 1,
            "method": cfg.method,
            "architecture": cfg.architecture,
            "resolved_seed": self.run_seed,
            "run_id": run.run_id,
            "run_dir": str(run.path),
            "created": datetime.datetime.now().isoformat(timespec="seconds"),
            "data": {"source": data.source, **data.sizes()},
            "versions": _versions(),
            **({"invocation": self.invocation} if self.invocation else {}),
        })
        for name, arrays in self.recorder.initial_arrays(model).items():
            run.save_arrays(name, arrays)
        run.log(f"run directory: {run.path}")
        run.log(
            f"{cfg.traintype} {cfg.nettype} on {cfg.dataset} ({data.source}); "
            f"{self._describe_run()}, batch {cfg.batchsize}, epochs {cfg.maxepochs}, "
            f"seed {self.run_seed}, distribute {cfg.distribute} "
            f"({self.strategy.num_replicas_in_sync} replica(s)); "
            f"train/val/test {'/'.join(str(n) for n in data.sizes().values())}"
        )
        series = (*self._flat_keys, *self.recorder.per_layer_fields(), "epochSeconds")
        metrics: dict[str, Any] = {key: [] for key in series}
        metrics.update(format_version=1, status="running", epochs_completed=0,
                       layer_names=self.recorder.layer_names,
                       layer_sizes=self.recorder.layer_sizes)
        start = time.perf_counter()
        train = self.evaluator.split(model, "train")
        values = self.evaluator.epoch(model, 0)
        seconds = time.perf_counter() - start
        extra = self._record(metrics, model, seconds, trainLoss=train["loss"],
                             trainAccuracy=train["accuracy"], **values)
        self._save_epoch_arrays(run, model, 0)
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
        for key in (*self._flat_keys, *self.recorder.per_layer_fields()):  # added by a newer version
            metrics.setdefault(key, [None] * (state["epoch"] + 1))
        self._partial = state.get("partial")
        if self._partial:
            # Keras creates the compiled metrics' variables lazily; build them now so
            # the running accumulators of the partial epoch can be put back.
            self.evaluator.split(model, "val", limit=self.cfg.batchsize)
        where = f"after epoch {state['epoch']}"
        if self._partial:
            where = f"in epoch {self._partial['epoch']} after step {self._partial['step']}"
        run.log(f"resuming {run.path} {where}")
        return run, metrics, state["epoch"] + 1

    def run(self) -> TrainResult:
        cfg, data = self.cfg, self.data
        model = self.build()
        self.recorder: Recorder = self.method.recorder(cfg, model)
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
        batches = data.train_batches(cfg.batchsize, self.run_seed)
        for epoch in range(first, cfg.maxepochs + 1):
            start = time.perf_counter()
            lr = self.method.learning_rate(cfg, epoch - 1)
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
                callbacks.append(StepCheckpoint(cfg.checkpoint_every, checkpoint, epoch, done,
                                                steps_per_epoch=batches.steps))
            history = model.fit(dataset, initial_epoch=epoch - 1, epochs=epoch, shuffle=False,
                                callbacks=callbacks, verbose=self._progress_verbosity())
            if monitor.bad_step is not None:
                self._diverged(run, metrics, epoch, monitor)
            logs = {k: float(v[-1]) for k, v in history.history.items()}
            # Validation and test at the end of the epoch, on the weights the method
            # evaluates (LaPerm: the reconnected ones).
            self.recorder.prepare_evaluation(model)
            values = self.evaluator.epoch(model, epoch)
            seconds = time.perf_counter() - start
            extra = self._record(metrics, model, seconds, trainLoss=logs["loss"],
                                 trainAccuracy=logs["accuracy"], **values)
            self._save_epoch_arrays(run, model, epoch)
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
        metrics["best"] = best = best_epoch(metrics)
        self._write(run, metrics)
        if best is not None:
            def share(key: str) -> str:
                return "-" if best[key] is None else pct(best[key])

            run.log(f"best validation accuracy {share('valAccuracy')} (top-5 "
                    f"{share('valTop5Accuracy')}) at epoch {best['epoch']}; test there "
                    f"{share('testAccuracy')} (top-5 {share('testTop5Accuracy')})")
        run.log(
            f"done: test accuracy {pct(metrics['testAccuracy'][-1])}"
            f"{self.recorder.summary(metrics)}; results in {run.path}"
        )
        return TrainResult(run.path, json.loads(json.dumps(metrics)))


def train(cfg: RunConfig, data: Splits | None = None, echo: Callable[[str], None] | None = print) -> TrainResult:
    """Train one configuration; returns the run directory and its metrics."""
    return Trainer(cfg, data, echo).run()
