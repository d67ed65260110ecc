"""Per-epoch checkpoints of a run, and resuming a killed run from the last one.

``RUN_DIR/checkpoint/`` holds the model and optimizer variables (which include
LaPerm's sorted initial values and the layers' random-generator states) of the
last two checkpointed points, and the resume state the point they belong to and
the one before (:mod:`masktrainer.run.resume` reads and checks it). The data
order of every epoch is a function of (seed, epoch) alone, so a resumed run
sees the same batches as an uninterrupted one. No checkpoint file is ever written through a
link: TensorFlow writes into a private folder, and the files are renamed into place
(:class:`RunCheckpoint`).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from masktrainer import layout, safe_io
from masktrainer.errors import RunStateError, RunWriteError
from masktrainer.nn.seeds import EVAL_SAMPLER
from masktrainer.quiet import unrestored_values_unsaid
from masktrainer.run.monitors import step_after
from masktrainer.run.resume import (
    FOLDER,
    NOT_SERIES,
    STATE_FILE,
    ResumePoint,
    fallback_hint,
)

_CHECKPOINT_FILE = re.compile(layout.CHECKPOINT_FILE_PATTERN)


def _identity(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def _pinned(fd: int, fallback: Path) -> str:
    """A path that reaches the folder open as ``fd`` whatever is renamed meanwhile (Linux's
    /proc/self/fd); elsewhere the folder's own path, checked again after the write."""
    proc = f"/proc/self/fd/{fd}"
    return proc if os.path.isdir(proc) else str(fallback)


class RunCheckpoint:
    """The run's checkpoint folder. TensorFlow writes each checkpoint into a fresh private
    folder created exclusively inside it, reached through a handle (never a path a link could
    redirect); the files are then renamed into place relative to the checkpoint folder's own
    handle (a rename replaces a link planted at the name, never writes through it) and the
    resume state is written by :mod:`masktrainer.safe_io`. The run folder and the checkpoint
    folder must stay the folders first seen: one swapped for a link or another folder stops
    the run's writes with one line."""

    def __init__(self, run_path: Path, model: keras.Model,
                 last: ResumePoint | None = None) -> None:
        self.run_path = Path(run_path)
        self.folder = self.run_path / FOLDER
        # The layers' random-generator states (dropout, augmentation, slot sampling) are
        # model variables that tf.train.Checkpoint does not reach through the model.
        states = [v for v in model.variables if "seed_generator_state" in v.path]
        rng = [v.value for v in states if not v.path.startswith(f"{EVAL_SAMPLER}/")]
        # Evaluation samplers are a list of their own, so the training states keep the
        # positions that checkpoints written before evaluation had its own stream used.
        eval_rng = [v.value for v in states if v.path.startswith(f"{EVAL_SAMPLER}/")]
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer, rng=rng,
                                              **({"eval_rng": eval_rng} if eval_rng else {}))
        self.without_eval_rng = tf.train.Checkpoint(model=model, optimizer=model.optimizer,
                                                    rng=rng) if eval_rng else None
        # The newest point written or restored, and the one before it: both checkpoints are
        # kept (the others are removed after each save).
        self.last = last
        self.previous = last.previous if last is not None else None
        self._identities: dict[str, tuple[int, int]] = {}
        for key, path in (("run", self.run_path), ("folder", self.folder)):
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                self._identities[key] = (info.st_dev, info.st_ino)

    def _same(self, key: str, fd: int, path: Path) -> None:
        identity = _identity(fd)
        if self._identities.setdefault(key, identity) != identity:
            raise RunStateError(f"{path} no longer leads to this run's folder (it was replaced "
                                "while the run was writing); nothing more is written there")

    def _folder_handle(self) -> int:
        """A handle on the checkpoint folder (created if missing), reached from the run folder
        without following a link; both must be the folders this run has been writing."""
        run_fd = safe_io.open_folder(self.run_path)
        try:
            self._same("run", run_fd, self.run_path)
            try:
                os.mkdir(FOLDER, dir_fd=run_fd)
            except FileExistsError:
                pass
            except OSError as err:
                raise RunWriteError(f"cannot create {self.folder}: {err.strerror}") from None
            fd = safe_io.open_folder(FOLDER, dir_fd=run_fd, shown=self.folder)
        finally:
            os.close(run_fd)
        try:
            self._same("folder", fd, self.folder)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def record(self, point: ResumePoint) -> None:
        """Write the resume state for ``point`` (atomically), the point before it as ``previous``."""
        if self.last is not None and self.last.checkpoint != point.checkpoint:
            self.previous = self.last
        state = point.to_json()
        if self.previous is not None and self.previous.checkpoint is not None:
            state["previous"] = self.previous.to_json()
        os.close(self._folder_handle())
        safe_io.atomic_write_json(self.folder / STATE_FILE, state)
        self.last = point

    def save(self, epoch: int, partial: dict[str, Any] | None = None) -> None:
        """Checkpoint, then record it (atomically) as resumable.

        ``epoch`` is the last *completed* epoch; ``partial`` describes progress
        inside the next one: ``{"epoch", "step", "metric_state"[, "seconds"]}``.
        """
        name = f"ckpt-{int(self.checkpoint.optimizer.iterations.numpy())}"
        fd = self._folder_handle()
        try:
            safe_io.refuse_links_in(self.folder, depth=1)  # one line now; a later one is replaced
            self._write(fd, name)
        except (tf.errors.OpError, OSError) as err:
            reason = getattr(err, "message", None) or getattr(err, "strerror", None) or err
            raise RunWriteError(f"cannot write checkpoint {self.folder / name}: "
                                f"{str(reason).strip().splitlines()[-1]}") from None
        finally:
            os.close(fd)
        self.record(ResumePoint(epoch, name, partial))
        self._sweep()

    def _write(self, fd: int, name: str) -> None:
        """TensorFlow writes checkpoint ``name`` into a fresh private folder; its files are then
        renamed into the folder open as ``fd`` (data first, the index last)."""
        for _ in range(100):
            staging = f"{layout.CHECKPOINT_STAGING_PREFIX}{secrets.token_hex(4)}"
            try:
                os.mkdir(staging, 0o700, dir_fd=fd)  # exclusive: never an existing name
                break
            except FileExistsError:
                continue
        else:
            raise RunWriteError(f"cannot create a private folder in {self.folder}")
        try:
            stage_fd = safe_io.open_folder(staging, dir_fd=fd, shown=self.folder / staging)
            try:
                self.checkpoint.save_counter.assign_add(1)  # as tf.train.CheckpointManager does
                self.checkpoint.write(os.path.join(_pinned(stage_fd, self.folder / staging), name))
                info = os.lstat(staging, dir_fd=fd)
                if (info.st_dev, info.st_ino) != _identity(stage_fd):
                    raise RunStateError(f"{self.folder / staging} was replaced while the "
                                        "checkpoint was written; nothing is kept from it")
                files = [f for f in os.listdir(stage_fd)
                         if _CHECKPOINT_FILE.fullmatch(f) and f.startswith(f"{name}.")]
                for file in sorted(files, key=lambda f: f.endswith(".index")):
                    if not stat.S_ISREG(os.lstat(file, dir_fd=stage_fd).st_mode):
                        raise RunStateError(f"{self.folder / staging / file} is not a file")
                    os.replace(file, file, src_dir_fd=stage_fd, dst_dir_fd=fd)
                os.fsync(fd)
            finally:
                os.close(stage_fd)
        finally:
            shutil.rmtree(staging, ignore_errors=True, dir_fd=fd)

    def _sweep(self) -> None:
        """Remove the checkpoints neither recorded point names, and private folders a killed
        save left; by name inside the checkpoint folder, so nothing outside it is touched."""
        keep = {p.checkpoint for p in (self.last, self.previous) if p is not None}
        fd = self._folder_handle()
        try:
            for entry in os.listdir(fd):
                match = _CHECKPOINT_FILE.fullmatch(entry)
                if match and match.group(1) not in keep:
                    os.unlink(entry, dir_fd=fd)  # a link is removed, never followed
                elif entry.startswith(layout.CHECKPOINT_STAGING_PREFIX) and stat.S_ISDIR(
                        os.lstat(entry, dir_fd=fd).st_mode):
                    shutil.rmtree(entry, ignore_errors=True, dir_fd=fd)
        except OSError:
            pass  # an old file left over costs room only; the recorded points are whole
        finally:
            os.close(fd)

    def restore(self, point: ResumePoint | dict[str, Any]) -> None:
        """Load ``point``'s checkpoint; RunStateError naming the fallback if it is unreadable."""
        if isinstance(point, dict):  # a resume-state entry, as read by callers of the old API
            point = ResumePoint(point["epoch"], point["checkpoint"], point.get("partial"))
        prefix = self.folder / str(point.checkpoint)
        failure = None
        with unrestored_values_unsaid():  # a damaged file: our one line, not TF's warnings
            try:
                self._restore(prefix)
            except Exception as err:  # TF raises many types for a damaged file (IndexError, ...)
                failure = type(err).__name__
        if failure is not None:
            raise RunStateError(f"checkpoint {prefix} cannot be restored ({failure}); "
                                f"{fallback_hint(self.run_path, point)}")
        for weight in self.checkpoint.model.weights:  # training on from them means nothing
            values = np.asarray(weight)
            if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
                bad = int(values.size - np.count_nonzero(np.isfinite(values)))
                raise RunStateError(f"checkpoint {prefix}: {weight.path} holds {bad} NaN or "
                                    f"infinite value(s); {fallback_hint(self.run_path, point)}")
        self.last, self.previous = point, point.previous

    def _restore(self, prefix: Path) -> None:
        for checkpoint in filter(None, (self.checkpoint, self.without_eval_rng)):
            # Created now, not deferred by the restore: a deferred value would keep a failed
            # restore's bookkeeping (and its warnings) alive as long as the checkpoint object.
            checkpoint.save_counter  # noqa: B018
        try:
            self.checkpoint.restore(str(prefix)).assert_existing_objects_matched()
        except AssertionError:
            if self.without_eval_rng is None:
                raise
            # Written before evaluation sampled from a stream of its own: training
            # resumes exactly, evaluation samples from its stream's start.
            self.without_eval_rng.restore(str(prefix)).assert_existing_objects_matched()

    def restored_step(self) -> int:
        return int(self.checkpoint.optimizer.iterations.numpy())


def check_position(checkpoint: RunCheckpoint, point: ResumePoint, steps_per_epoch: int) -> None:
    """The restored optimizer step must be the one ``point`` describes (a checkpoint of another
    point, or of another run, is refused)."""
    inside = point.partial["step"] if point.partial else 0
    if point.partial and not inside < steps_per_epoch:
        raise RunStateError(f"{STATE_FILE} resumes {point.describe()}, but an epoch of this run has "
                            f"{steps_per_epoch} steps")
    expected = point.epoch * steps_per_epoch + inside
    restored = checkpoint.restored_step()
    if restored != expected or point.checkpoint != f"ckpt-{restored}":
        raise RunStateError(
            f"checkpoint {point.checkpoint} holds step {restored}, but {STATE_FILE} resumes "
            f"{point.describe()} (step {expected} at {steps_per_epoch} steps per epoch): it is "
            "not that point's checkpoint")


def check_metric_state(model: keras.Model, point: ResumePoint) -> None:
    """Put back a partial epoch's running-metric accumulators now, so a mismatch is refused
    before training (Keras resets them at the epoch start; RestoreMetricState sets them again)."""
    try:
        set_metric_state(model, point.partial["metric_state"])
    except (RuntimeError, ValueError) as err:
        raise RunStateError(f"{STATE_FILE}'s metric_state does not fit this model ({err})") from None


def truncate_metrics(metrics: dict[str, Any], epoch: int) -> dict[str, Any]:
    """Per-epoch series cut to epochs 0..epoch (the metrics file may be one epoch ahead)."""
    out = dict(metrics)
    for key, value in metrics.items():
        if isinstance(value, list) and key not in NOT_SERIES:
            out[key] = value[: epoch + 1]
    out["epochs_completed"] = epoch
    out["status"] = layout.RUNNING
    return out


def metric_state(model: keras.Model) -> list[list[float]]:
    """The accumulators of the model's running metrics (loss and accuracy sums, counts)."""
    return [np.asarray(v).ravel().tolist() for m in model.metrics for v in m.variables]


def set_metric_state(model: keras.Model, values: list[list[float]]) -> None:
    """Put back saved accumulators; a run of an earlier version saved fewer (loss and accuracy
    only), and the metrics added since start from zero for the rest of that epoch."""
    variables = [v for m in model.metrics for v in m.variables]
    if len(variables) < len(values):
        raise RuntimeError(f"{len(values)} saved metric accumulators for {len(variables)} metrics")
    for variable, value in zip(variables, values):
        variable.assign(np.asarray(value, dtype=variable.dtype).reshape(variable.shape))


def partial_point(epoch: int, step: int, state: list[list[float]],
                  started: float) -> dict[str, Any]:
    """The resume state's ``partial``: ``step`` steps into ``epoch``, the running-metric
    accumulators, and the seconds trained in it since ``started`` (a perf_counter value)."""
    return {"epoch": epoch, "step": step, "metric_state": state,
            "seconds": round(time.perf_counter() - started, 3)}


class StepCheckpoint(keras.callbacks.Callback):
    """Checkpoint every ``every`` steps inside an epoch (model, optimizer, data position,
    running-metric accumulators)."""

    def __init__(self, every: int, checkpoint: RunCheckpoint, epoch: int, offset: int,
                 steps_per_epoch: int, started: float) -> None:
        super().__init__()
        self.every, self.checkpoint, self.epoch, self.offset = every, checkpoint, epoch, offset
        self.steps_per_epoch = steps_per_epoch
        self.started = started  # time.perf_counter() when the epoch (as resumed) began
        self.last_step = offset

    def on_train_batch_end(self, batch, logs=None) -> None:
        # With steps_per_execution N this runs every N steps: checkpoint at the end of the
        # execution that passed a multiple of ``every`` (at that end, an exact step).
        step = step_after(batch, self.offset, self.steps_per_epoch)
        passed, self.last_step = step // self.every > self.last_step // self.every, step
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            return  # never checkpoint diverged weights
        if step >= self.steps_per_epoch > 0:
            return  # the epoch-end checkpoint follows
        if passed:
            self.checkpoint.save(self.epoch - 1, partial_point(
                self.epoch, step, metric_state(self.model), self.started))


class RestoreMetricState(keras.callbacks.Callback):
    """Put back the running-metric accumulators of a partly done epoch (Keras resets
    them just before ``on_epoch_begin``)."""

    def __init__(self, values: list[list[float]]) -> None:
        super().__init__()
        self.values = values

    def on_epoch_begin(self, epoch, logs=None) -> None:
        set_metric_state(self.model, self.values)
