"""Sync-period (``k``) schedules for :class:`laperm.LaPerm`.

A schedule is called inside the training step with the 1-based global step
(an int64 tensor) and returns ``k``. ``PiecewiseSyncPeriod`` is serializable
(saved with the optimizer); ``EpochSyncPeriod`` adapts any TF-traceable
function of the 0-based epoch (not serializable: rebuild it after loading).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import keras
import tensorflow as tf

_PACKAGE = "laperm"


def _epoch_of(step: tf.Tensor, steps_per_epoch: int) -> tf.Tensor:
    return (tf.cast(step, tf.int64) - 1) // steps_per_epoch


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PiecewiseSyncPeriod:
    """``values[i]`` while the epoch (or step) is below ``boundaries[i]``.

    With ``steps_per_epoch`` the boundaries count 0-based epochs, otherwise
    1-based steps. ``len(values) == len(boundaries) + 1``.
    """

    def __init__(self, boundaries: Sequence[int], values: Sequence[int],
                 steps_per_epoch: int | None = None) -> None:
        if len(values) != len(boundaries) + 1:
            raise ValueError("need len(values) == len(boundaries) + 1")
        if any(int(v) < 1 for v in values):
            raise ValueError(f"sync periods must be >= 1, got {list(values)}")
        if list(boundaries) != sorted(boundaries):
            raise ValueError("boundaries must be increasing")
        if steps_per_epoch is not None and steps_per_epoch < 1:
            raise ValueError("steps_per_epoch must be >= 1")
        self.boundaries = [int(b) for b in boundaries]
        self.values = [int(v) for v in values]
        self.steps_per_epoch = steps_per_epoch

    def __call__(self, step) -> tf.Tensor:
        step = tf.cast(step, tf.int64)
        x = _epoch_of(step, self.steps_per_epoch) if self.steps_per_epoch else step
        index = tf.searchsorted(tf.constant(self.boundaries, tf.int64), tf.reshape(x, (1,)),
                                side="right")[0]
        return tf.gather(tf.constant(self.values, tf.int64), index)

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values,
                "steps_per_epoch": self.steps_per_epoch}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "PiecewiseSyncPeriod":
        return cls(**config)


class EpochSyncPeriod:
    """``fn(epoch)`` for a TF-traceable ``fn`` of the 0-based epoch (not serializable)."""

    def __init__(self, fn: Callable[[tf.Tensor], Any], steps_per_epoch: int) -> None:
        if steps_per_epoch < 1:
            raise ValueError("steps_per_epoch must be >= 1")
        self.fn = fn
        self.steps_per_epoch = int(steps_per_epoch)

    def __call__(self, step) -> tf.Tensor:
        return tf.cast(self.fn(_epoch_of(step, self.steps_per_epoch)), tf.int64)


def serialize_sync_period(period: Any) -> Any:
    if isinstance(period, int):
        return period
    if hasattr(period, "get_config"):
        return keras.saving.serialize_keras_object(period)
    raise ValueError(
        "this sync_period cannot be saved (a plain callable); use an int or "
        "laperm.PiecewiseSyncPeriod to save the optimizer"
    )


def deserialize_sync_period(config: Any) -> Any:
    if isinstance(config, int):
        return config
    return keras.saving.deserialize_keras_object(config)
