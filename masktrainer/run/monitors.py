"""Training monitors: stop on a non-finite loss, and TensorBoard summaries (with the HParams
dashboard's session, :mod:`masktrainer.run.hparams`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import keras
import numpy as np
import tensorflow as tf

from masktrainer.errors import RunWriteError
from masktrainer.run import hparams


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the run stopped."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop training at the first execution whose running loss is NaN or infinite and
    remember where (with ``steps_per_execution`` N, the last step of those N: the running
    mean stays non-finite once a step's loss was)."""

    def __init__(self, steps: int | None = None, every: int = 1) -> None:
        super().__init__()
        self.epoch = 0
        self.offset = 0  # steps already done when the epoch was resumed
        self.steps = steps  # steps in the whole epoch (bounds the last execution's end)
        self.every = every  # steps per execution: how often the loss is seen
        self.bad_step: int | None = None
        self.bad_value: float | None = None

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.bad_step = step_after(batch, self.offset, self.steps)
            self.bad_value = float(loss)
            self.model.stop_training = True

    def message(self, epoch: int, last: Any, folder: Path) -> str:
        """The one-line report of the stop; ``last``: the newest checkpointed ResumePoint."""
        if last is not None and last.checkpoint is not None:
            where = (f"The last checkpoint before it (none is written from a non-finite step) is "
                     f"{last.checkpoint} in {folder}, {last.describe()}")
        else:
            where = "No checkpoint had been written before it (the run diverged in its first epoch)"
        at = f"step {self.bad_step}" if self.every == 1 else \
            f"the execution ending at step {self.bad_step} (checked every {self.every} steps)"
        return f"loss became {self.bad_value} at epoch {epoch}, {at}; training stopped. {where}"


def step_after(batch: int, offset: int, steps: int | None) -> int:
    """The 1-based step of the epoch that ``on_train_batch_end(batch)`` follows: Keras numbers
    the batches of a resumed epoch from 0 (``offset`` steps were done before) and names the
    last batch an execution of N steps would reach, past the epoch's end for the last one."""
    step = int(offset) + int(batch) + 1
    return step if steps is None else min(step, int(steps))


# metrics key prefix -> TensorBoard subrun (Keras' layout: train/ and validation/, so the
# curves of one metric overlay); the longest prefix first.
SUBRUNS = (("trainSubset", "train_subset"), ("train", "train"), ("val", "validation"),
           ("test", "test"))
# metrics key suffix -> the tag Keras' TensorBoard callback would write.
TAGS = {"Loss": "epoch_loss", "Accuracy": "epoch_accuracy",
        "Top5Accuracy": "epoch_top5_accuracy", "CrossEntropy": "epoch_cross_entropy"}


def subrun_tag(key: str) -> tuple[str, str]:
    """(subrun, tag) of a per-epoch metrics key: ``valLoss`` -> (validation, epoch_loss);
    the method's statistics (and the penalty, the epoch time) go to ``train``."""
    for prefix, subrun in SUBRUNS:
        if key.startswith(prefix) and key[len(prefix):] in TAGS:
            return subrun, TAGS[key[len(prefix):]]
    return "train", key


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class TensorBoardLog:
    """Per-epoch scalars (losses, accuracies, lr, method statistics) and score histograms,
    in one subrun folder per set (``train/``, ``validation/``, ``test/``,
    ``train_subset/``). Only the per-epoch ``series`` are logged (not, e.g., the layer
    sizes); an epoch that evaluated nothing writes nothing for those sets."""

    def __init__(self, folder: Path, series: Sequence[str],
                 layer_fields: dict[str, list[str]] | None = None, session: str = "") -> None:
        self.folder = folder
        self.session = session  # the HParams session's subfolder (hparams.session_folder)
        self.series = tuple(series)
        self.layer_fields = layer_fields or {}
        self.writers: dict[str, Any] = {}

    def _writer(self, subrun: str):
        if subrun not in self.writers:
            self.writers[subrun] = tf.summary.create_file_writer(str(self.folder / subrun))
        return self.writers[subrun]

    def write(self, epoch: int, metrics: dict[str, Any], model: keras.Model, lr: float | None,
              layer_names: list[str]) -> None:
        self._guarded(self._write, epoch, metrics, model, lr, layer_names)

    def start_session(self, config: dict[str, Any]) -> None:
        """Make the run a session of TensorBoard's HParams dashboard (:mod:`.hparams`)."""
        self._guarded(hparams.write_session_start, self._writer(self.session), config)

    def report(self, best: dict[str, Any] | None) -> None:
        """The numbers the finished run reports, as the dashboard's metric columns."""
        self._guarded(hparams.write_reported, self._writer(self.session), best)

    def _guarded(self, write: Callable[..., None], *args: Any) -> None:
        try:
            write(*args)
        except tf.errors.OpError as err:  # e.g. a full disk
            raise RunWriteError(f"cannot write TensorBoard events in {self.folder}: "
                                f"{err.message.strip().splitlines()[-1]}") from None

    def _scalars(self, epoch: int, metrics: dict[str, Any],
                 layer_names: list[str]) -> Iterator[tuple[str, str, float]]:
        for key in self.series:
            series = metrics.get(key)
            if not isinstance(series, list) or len(series) <= epoch:
                continue
            value = series[epoch]
            if _number(value):
                yield (*subrun_tag(key), float(value))
            elif isinstance(value, list) and layer_names and len(value) == len(layer_names):
                for name, item in zip(layer_names, value):
                    if _number(item):
                        yield "train", f"{key}/{name}", float(item)
                    elif isinstance(item, list):  # named values per layer
                        fields = self.layer_fields.get(key) or [str(i) for i in range(len(item))]
                        for field, number in zip(fields, item):
                            if _number(number):
                                yield "train", f"{key}/{name}/{field}", float(number)

    def _write(self, epoch: int, metrics: dict[str, Any], model: keras.Model, lr: float | None,
               layer_names: list[str]) -> None:
        for subrun, tag, value in self._scalars(epoch, metrics, layer_names):
            with self._writer(subrun).as_default(step=epoch):
                tf.summary.scalar(tag, value)
        with self._writer("train").as_default(step=epoch):
            if lr is not None:
                tf.summary.scalar("epoch_learning_rate", lr)
            for layer in model._flatten_layers(include_self=False):
                for attribute in ("score", "scores"):
                    variable = getattr(layer, attribute, None)
                    if variable is not None:
                        tf.summary.histogram(f"{attribute}/{layer.name}", np.asarray(variable))
        for writer in self.writers.values():
            writer.flush()

    def close(self) -> None:
        self._guarded(lambda: [writer.close() for writer in self.writers.values()])
