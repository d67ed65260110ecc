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
import tensorflow as tf

STATE_FILE = "resume.json"
FOLDER = "checkpoint"


class RunCheckpoint:
    def __init__(self, run_path: Path, model: keras.Model) -> None:
        self.folder = Path(run_path) / FOLDER
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.folder), max_to_keep=2)

    def save(self, epoch: int) -> None:
        """Checkpoint after ``epoch`` completed, then record it (atomically) as resumable."""
        path = self.manager.save(checkpoint_number=epoch)
        state = {"epoch": epoch, "checkpoint": os.path.basename(path)}
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
