"""Per-epoch checkpoints of a run, and resuming a killed run from the last one.

``RUN_DIR/checkpoint/`` holds the model and optimizer variables (which include
LaPerm's sorted initial values and the layers' random-generator states) of the
last two completed epochs, and ``resume.json`` the epoch they belong to. The
data order of every epoch is a function of (seed, epoch) alone, so a resumed run
sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

STATE_FILE = "resume.json"
FOLDER = "checkpoint"


class RunCheckpoint:
    def __init__(self, run_path: Path, model: keras.Model) -> None:
        self.folder = Path(run_path) / FOLDER
        # The layers' random-generator states (dropout, augmentation, slot sampling) are
        # model variables that tf.train.Checkpoint does not reach through the model.
        rng = [v.value for v in model.variables if "seed_generator_state" in v.path]
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer, rng=rng)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.folder), max_to_keep=2)

    def save(self, epoch: int, partial: dict[str, Any] | None = None) -> None:
        """Checkpoint, then record it (atomically) as resumable.

        ``epoch`` is the last *completed* epoch; ``partial`` describes progress
        inside the next one: ``{"epoch", "step", "metric_state"}``.
        """
        step = int(self.checkpoint.optimizer.iterations.numpy())
        path = self.manager.save(checkpoint_number=step)
        state = {"epoch": epoch, "checkpoint": os.path.basename(path)}
        if partial is not None:
            state["partial"] = partial
        tmp = self.folder / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, self.folder / STATE_FILE)

    def restore(self, state: dict[str, Any]) -> None:
        self.checkpoint.restore(str(self.folder / state["checkpoint"])).assert_existing_objects_matched()


def resume_state(run_path: Path) -> dict[str, Any] | None:
    """The last resumable epoch of a run directory, or None."""
    path = Path(run_path) / FOLDER / STATE_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def truncate_metrics(metrics: dict[str, Any], epoch: int) -> dict[str, Any]:
    """Per-epoch series cut to epochs 0..epoch (metrics.json may be one epoch ahead)."""
    out = dict(metrics)
    for key, value in metrics.items():
        if isinstance(value, list) and key not in ("layer_names", "layer_sizes"):
            out[key] = value[: epoch + 1]
    out["epochs_completed"] = epoch
    out["status"] = "running"
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


class StepCheckpoint(keras.callbacks.Callback):
    """Checkpoint every ``every`` steps inside an epoch (model, optimizer, data position,
    running-metric accumulators)."""

    def __init__(self, every: int, checkpoint: RunCheckpoint, epoch: int, offset: int = 0,
                 steps_per_epoch: int = 0) -> None:
        super().__init__()
        self.every, self.checkpoint, self.epoch, self.offset = every, checkpoint, epoch, offset
        self.steps_per_epoch = steps_per_epoch

    def on_train_batch_end(self, batch, logs=None) -> None:
        step = self.offset + int(batch) + 1
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            return  # never checkpoint diverged weights
        if step >= self.steps_per_epoch > 0:
            return  # the epoch-end checkpoint follows
        if step % self.every == 0:
            self.checkpoint.save(self.epoch - 1, {"epoch": self.epoch, "step": step,
                                                  "metric_state": metric_state(self.model)})


class RestoreMetricState(keras.callbacks.Callback):
    """Put back the running-metric accumulators of a partly done epoch (Keras resets
    them just before ``on_epoch_begin``)."""

    def __init__(self, values: list[list[float]]) -> None:
        super().__init__()
        self.values = values

    def on_epoch_begin(self, epoch, logs=None) -> None:
        set_metric_state(self.model, self.values)
