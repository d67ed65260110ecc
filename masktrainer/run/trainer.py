"""The training loop of the original ``NetworkTrainer``, on Keras 3, for every method.

Epoch 0 is an evaluation before any training (``--initial_eval``). Each epoch then sets
the epoch's learning rate, trains once over the shuffled training split (train
loss/accuracy are Keras' running means over the epoch, as in the original),
evaluates what the method's original evaluates (``--eval_sets``, every
``--eval_every`` epochs: :mod:`masktrainer.run.evaluation`), records the method's
statistics (the method's recorder, :mod:`masktrainer.methods.recording`), and writes
the run's metrics. A run holds an exclusive lock on its directory while it trains
(:mod:`masktrainer.run.lock`), and SIGINT/SIGTERM stop it at a step boundary with a
checkpoint (:mod:`masktrainer.run.signals`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import keras
import tensorflow as tf

from masktrainer import layout, methods, safe_io
from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.errors import RunInterrupted, WorkerFailed
from masktrainer.methods.recording import Recorder
from masktrainer.nn.seeds import resolve_run_seed
from masktrainer.protocols import describe as describe_protocol
from masktrainer.protocols import selection_set
from masktrainer.run.checkpoints import (
    RestoreMetricState,
    RunCheckpoint,
    StepCheckpoint,
    check_metric_state,
    check_position,
    partial_point,
    truncate_metrics,
)
from masktrainer.run.console import (
    RunClock,
    epoch_line,
    final_lines,
    heartbeat_for,
    progress_verbosity,
    run_line,
    short_line,
)
from masktrainer.run.evaluation import (
    EpochEvaluator,
    best_epoch,
    evaluation_compile_args,
)
from masktrainer.run.extend import EXTENDED_KEY, record_extension
from masktrainer.run.hparams import session_folder
from masktrainer.run.loading import load_data
from masktrainer.run.lock import RunLock
from masktrainer.run.monitors import (
    StopOnNonFiniteLoss,
    TensorBoardLog,
    TrainingDiverged,
)
from masktrainer.run.provenance import run_git_state, versions
from masktrainer.run.resume import ResumePoint, open_for_resume, resume_command
from masktrainer.run.rundir import RunDirectory
from masktrainer.run.runtime import (
    check_runtime,
    configure_runtime,
    is_chief,
    output_root,
    precision_note,
    replica_note,
)
from masktrainer.run.signals import StopAtStepBoundary, StopSignals


@dataclasses.dataclass
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]


class Trainer:
    """Runs one configuration end to end and writes its run directory."""

    def __init__(
        self,
        cfg: RunConfig,
        data: Splits | None = None,
        echo: Callable[[str], None] | None = print,
        resume_dir: str | Path | None = None,
        resolved_seed: int | None = None,
        resume_checkpoint: str | None = None,
        invocation: dict[str, Any] | None = None,
        callbacks: tuple[keras.callbacks.Callback, ...] = (),
    ) -> None:
        self.cfg = cfg
        self.callbacks = tuple(callbacks)  # the caller's own, added to every epoch's fit
        self.invocation = invocation
        self.echo = echo
        self.resume_dir = None if resume_dir is None else Path(resume_dir)
        self.resume_checkpoint = resume_checkpoint  # an earlier kept checkpoint to resume from
        self.run_path: Path | None = None  # the run directory, once known
        self.run_seed = resolved_seed if resolved_seed is not None else resolve_run_seed(cfg.seed)
        self.method = methods.method_of(cfg)
        self.prepared = self.method.runtime.prepare(cfg)  # read and check before any write
        check_runtime(cfg)  # e.g. --precision=mixed_float16 without a GPU
        self.data = data if data is not None else load_data(cfg)
        self.evaluator = EpochEvaluator(cfg, self.method, self.data, self.run_seed)
        self.clock = RunClock()

    # -- pieces ----------------------------------------------------------------
    def build(self) -> keras.Model:
        cfg = self.cfg
        self.strategy = configure_runtime(cfg, self.run_seed)
        for note in (replica_note(cfg, self.strategy.num_replicas_in_sync), precision_note(cfg)):
            if note and self.echo is not None:
                self.echo(note)
        methods.register_keras_objects()
        with self.strategy.scope():
            model = self.method.runtime.build_model(cfg, self.data.input_shape,
                                                    self.data.num_classes, self.run_seed,
                                                    self.prepared)
            model.compile(optimizer=self.method.runtime.make_optimizer(cfg, self.run_seed),
                          steps_per_execution=cfg.steps_per_execution,
                          **evaluation_compile_args(cfg, self.method,
                                                    self.evaluator.penalised))
        return model

    def _record(self, metrics: dict[str, Any], model: keras.Model, seconds: float,
                values: dict[str, float | None]) -> str:
        """Append one epoch's values and the method's statistics; returns the line's extra part."""
        for key, value in values.items():
            metrics[key].append(value)
        measured = self.recorder.measure(model)
        for key, value in measured.items():
            if not key.startswith("_"):
                metrics[key].append(value)
        metrics[layout.EPOCH_SECONDS].append(round(seconds, 3))
        return self.recorder.describe(measured)

    def _save_epoch_arrays(self, run: RunDirectory, model: keras.Model, epoch: int) -> None:
        for name, arrays in self.recorder.epoch_arrays(model, epoch).items():
            run.save_arrays(name, arrays)

    @property
    def _flat_keys(self) -> tuple[str, ...]:
        return layout.CORE_SERIES + self.evaluator.series + self.recorder.flat_keys

    def _write(self, run: RunDirectory, metrics: dict[str, Any]) -> None:
        run.write_metrics(metrics, self._flat_keys, self.recorder.per_layer_fields())

    # -- the run ---------------------------------------------------------------
    def _start(self, model: keras.Model) -> tuple[RunDirectory, dict[str, Any]]:
        """A fresh run directory with its config, initial arrays and the epoch-0 evaluation."""
        cfg, data = self.cfg, self.data
        run = self._new_directory()
        run.write_config({
            **cfg.to_dict(),
            **self.method.runtime.run_metadata(cfg, self.prepared),
            "format_version": layout.FORMAT_VERSION,
            "method": cfg.method,
            "architecture": cfg.architecture,
            "resolved_seed": self.run_seed,
            "run_id": run.run_id,
            "run_dir": str(run.path),
            "created": datetime.datetime.now().isoformat(timespec="seconds"),
            "data": {"source": data.source, **data.sizes()},
            "versions": versions(),
            "git": run_git_state(),
            **({"invocation": self.invocation} if self.invocation else {}),
        })
        for name, arrays in self.recorder.initial_arrays(model).items():
            run.save_arrays(name, arrays)
        if getattr(data, "raw_mean", None) is not None:  # what an export puts in front
            run.save_arrays(layout.PREPROCESSING_FILE,
                            {"mean": data.raw_mean, "std": data.raw_std})
        run.log(f"run directory: {run.path}")
        self._session, self._session_new = "", True  # the HParams session (run.hparams)
        run.log(run_line(cfg, self.method.recipe.describe(cfg), data.source, self.run_seed,
                         self.strategy.num_replicas_in_sync, data.sizes()))
        run.log(describe_protocol(cfg, data.sizes()))
        series = (*self._flat_keys, *self.recorder.per_layer_fields(), layout.EPOCH_SECONDS)
        metrics = layout.new_metrics(series, self.recorder.layer_names,
                                     self.recorder.layer_sizes)
        if self.evaluator.penalised:
            layers = len(self.recorder.layer_names)
            run.log(f"loss = cross-entropy (CE) + penalty, the sum over the {layers} masked "
                    f"layers of alpha * mean(M) with alpha {cfg.alpha:g} ({layers * cfg.alpha:g} "
                    f"while every mask is 1); {layout.METRICS_FILE}: *Loss the sum (the "
                    "original's keys), *CrossEntropy, penalty")
        if self.recorder.legend():
            run.log(self.recorder.legend())
        start = time.perf_counter()
        self.evaluator.heartbeat = heartbeat_for(cfg, self.echo, 0, 0)
        values = {"trainLoss": None, "trainAccuracy": None, **self.evaluator.epoch(model, 0)}
        seconds = time.perf_counter() - start
        extra = self._record(metrics, model, seconds, values)
        self._save_epoch_arrays(run, model, 0)
        self._write(run, metrics)
        line = epoch_line(cfg, 0, metrics, extra, seconds)
        run.log(line, short_line(line))
        return run, metrics

    def _new_directory(self) -> RunDirectory:
        """A fresh run folder, locked; the other workers of a multi-worker run get a scratch
        folder (removed at the end)."""
        folder = self.method.recipe.run_folder(self.cfg)
        root = Path(self.cfg.outputpath) if is_chief() else None  # workers: a scratch folder
        run = RunDirectory.create(output_root(folder), self.echo, root=root)
        if not is_chief():
            self._scratch = run.path.parent.parent
        self._lock.acquire(run.path)
        self.run_path = run.path
        return run

    def _resume(self, model: keras.Model) -> tuple[RunDirectory, dict[str, Any], ResumePoint]:
        """Reopen a run directory at its last checkpoint, every piece of its state checked
        (under the run's lock: no other process writes it meanwhile)."""
        source = Path(self.resume_dir)
        if is_chief():
            self._lock.acquire(source)
            self.run_path = source
        found = open_for_resume(source, self.resume_checkpoint, self.cfg.maxepochs)
        point = found.point
        if point.checkpoint is not None:
            with self.strategy.scope():
                model.optimizer.build(model.trainable_variables)
            restored = RunCheckpoint(source, model)
            restored.restore(point)
            check_position(restored, point, self._steps_per_epoch())
            self.recorder.measure(model)  # re-prime statistics that compare with the last epoch
        # Other workers of a multi-worker run read the chief's run and write a scratch copy.
        run = RunDirectory(source, self.echo) if is_chief() else self._new_directory()
        metrics = truncate_metrics(found.metrics, point.epoch)
        for key in (*self._flat_keys, *self.recorder.per_layer_fields()):  # added by a newer version
            metrics.setdefault(key, [None] * (point.epoch + 1))
        self._partial = point.partial
        if self._partial:
            # Keras creates the compiled metrics' variables lazily; build them now so
            # the running accumulators of the partial epoch can be put back.
            self.evaluator.split(model, "val", limit=self.cfg.batchsize)
            check_metric_state(model, point)
        run.log(f"resuming {source} {point.describe()}")
        extending = is_chief() and self.cfg.maxepochs > found.config["maxepochs"]
        if extending:
            run.log(record_extension(source, found.config, metrics, self.cfg, point.epoch))
        self._session = session_folder(self.cfg.maxepochs,
                                       extending or EXTENDED_KEY in found.config)
        self._session_new = extending
        return run, metrics, point

    def _steps_per_epoch(self) -> int:
        return -(-self.data.sizes()["train"] // self.cfg.batchsize)

    def run(self) -> TrainResult:
        """Train (or resume) the run: holds the run's lock, and turns SIGINT/SIGTERM into a
        stop at a step boundary with a checkpoint (RunInterrupted)."""
        self._lock, self._scratch = RunLock(), None
        try:
            with StopSignals() as self._stop:
                return self._train()
        except tf.errors.OpError as err:
            if self.cfg.distribute != "multiworker":
                raise
            where = "" if self.run_path is None else \
                f"; resume with: {resume_command(self.run_path)} on every worker (same TF_CONFIG)"
            raise WorkerFailed(f"a worker of the multi-worker run failed or became unreachable "
                               f"({type(err).__name__}); training stopped{where}") from None
        finally:
            self._lock.release()
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)

    def _train(self) -> TrainResult:
        cfg, data = self.cfg, self.data
        model = self.build()
        self.recorder: Recorder = self.method.runtime.recorder(cfg, model)
        self._partial = None
        if self.resume_dir is None:
            run, metrics = self._start(model)
            point = None
        else:
            run, metrics, point = self._resume(model)
        first = 1 if point is None else point.epoch + 1
        checkpoint = RunCheckpoint(run.path, model, last=point)
        if point is None:
            checkpoint.record(ResumePoint(0, None))  # resumable from epoch 0 from now on
        steps = self._steps_per_epoch()
        if self._stop.requested:
            self._interrupted(run, metrics, checkpoint.last)
        fields = self.recorder.per_layer_fields()
        board = None if not cfg.tensorboard else TensorBoardLog(
            run.path / layout.TENSORBOARD_FOLDER,
            (*self._flat_keys, *fields, layout.EPOCH_SECONDS), fields, self._session)
        if board is not None and self._session_new:
            board.start_session(cfg.to_dict())
        if board is not None and first == 1:
            board.write(0, metrics, model, None, self.recorder.layer_names)
        batches = data.train_batches(cfg.batchsize, self.run_seed)
        for epoch in range(first, cfg.maxepochs + 1):
            start = time.perf_counter()
            lr = self.method.runtime.learning_rate(cfg, epoch - 1)
            model.optimizer.learning_rate.assign(lr)
            monitor = StopOnNonFiniteLoss(steps, cfg.steps_per_execution)
            callbacks: list[keras.callbacks.Callback] = [monitor]
            dataset, done = batches.epoch(epoch), 0
            if self._partial and self._partial["epoch"] == epoch:  # resume inside the epoch
                done = int(self._partial["step"])
                dataset = dataset.skip(done)
                callbacks.append(RestoreMetricState(self._partial["metric_state"]))
                start -= float(self._partial.get("seconds", 0.0))  # the epoch's time is whole
            monitor.offset = done
            stopper = StopAtStepBoundary(self._stop, done, steps)
            callbacks.append(stopper)
            verbose = progress_verbosity(cfg)
            self.evaluator.heartbeat = heartbeat_for(cfg, self.echo, epoch, steps, done)
            if self.evaluator.heartbeat is not None:
                callbacks.append(self.evaluator.heartbeat)
            if cfg.checkpoint_every:
                callbacks.append(StepCheckpoint(cfg.checkpoint_every, checkpoint, epoch, done,
                                                steps_per_epoch=batches.steps, started=start))
            history = model.fit(dataset, initial_epoch=epoch - 1, epochs=epoch, shuffle=False,
                                callbacks=[*callbacks, *self.callbacks], verbose=verbose)
            if monitor.bad_step is not None:
                self._diverged(run, metrics, epoch, monitor, checkpoint)
            if stopper.step is not None and stopper.step < steps:  # stopped inside the epoch
                checkpoint.save(epoch - 1, partial_point(epoch, stopper.step,
                                                         stopper.metric_state, start))
                self._interrupted(run, metrics, checkpoint.last)
            logs = {k: float(v[-1]) for k, v in history.history.items()}
            # Validation and test at the end of the epoch, on the weights the method
            # evaluates (LaPerm: the reconnected ones).
            self.recorder.prepare_evaluation(model)
            values = {**self.evaluator.epoch(model, epoch), "trainLoss": logs["loss"],
                      "trainAccuracy": logs["accuracy"]}
            if self.evaluator.penalised:
                values["trainCrossEntropy"] = logs["cross_entropy"]
            seconds = time.perf_counter() - start
            extra = self._record(metrics, model, seconds, values)
            self._save_epoch_arrays(run, model, epoch)
            self.recorder.finish_evaluation(model)
            metrics["epochs_completed"] = epoch
            self._write(run, metrics)
            checkpoint.save(epoch)
            if board is not None:
                board.write(epoch, metrics, model, lr, self.recorder.layer_names)
            self.clock.add(seconds)
            line = epoch_line(cfg, epoch, metrics, extra, seconds,
                              self.clock.eta(cfg.maxepochs - epoch))
            run.log(line, short_line(line))  # the whole line in the run's log
            if self._stop.requested:
                self._interrupted(run, metrics, checkpoint.last)
        return self._finish(run, model, metrics, board)

    def _interrupted(self, run: RunDirectory, metrics: dict[str, Any], point: ResumePoint) -> None:
        metrics["status"] = layout.INTERRUPTED
        self._write(run, metrics)
        message = (f"interrupted by {self._stop.name} {point.describe()} (checkpointed); "
                   f"resume with: {resume_command(run.path)}")
        run.log(message, echo=False)  # the exception carries it (the CLI prints it once)
        raise RunInterrupted(message, int(self._stop.signum))

    def _diverged(self, run: RunDirectory, metrics: dict[str, Any], epoch: int,
                  monitor: StopOnNonFiniteLoss, checkpoint: RunCheckpoint) -> None:
        metrics["status"] = layout.DIVERGED
        self._write(run, metrics)
        message = monitor.message(epoch, checkpoint.last, checkpoint.folder)
        run.log(message, echo=False)  # the exception carries it (the CLI prints it once)
        raise TrainingDiverged(message)

    def _finish(self, run: RunDirectory, model: keras.Model, metrics: dict[str, Any],
                board: TensorBoardLog | None) -> TrainResult:
        self.recorder.finalize(model)
        for name, arrays in self.recorder.final_arrays(model).items():
            run.save_arrays(name, arrays)
        run.check_in_place()
        safe_io.atomic_write_path(run.path / layout.MODEL_FILE, model.save, suffix=".keras")
        metrics["status"] = layout.COMPLETE
        metrics["trained"] = self.cfg.maxepochs > 0  # --maxepochs 0: an evaluation only
        metrics["best"] = best = best_epoch(metrics, selection_set(self.cfg), self.cfg.protocol)
        if board is not None:  # before the run is complete: a failed write leaves it resumable
            try:
                board.report(best)
            finally:
                board.close()
        self._write(run, metrics)
        for line in final_lines(metrics, best, self.recorder.summary(metrics), run.path):
            run.log(line)
        return TrainResult(run.path, json.loads(json.dumps(metrics)))


def train(cfg: RunConfig, data: Splits | None = None,
          echo: Callable[[str], None] | None = print) -> TrainResult:
    """Train one configuration; returns the run directory and its metrics."""
    return Trainer(cfg, data, echo).run()
