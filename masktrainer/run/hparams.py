"""TensorBoard's HParams dashboard: each run's TensorBoard folder is one session.

When a run starts, its folder receives the experiment's columns (every configuration field,
the headline metrics) and the run's values; when it finishes, the numbers it reports. Point
TensorBoard at a sweep's output folder and the dashboard lists its members side by side.
Seeds of one configuration share a session group (the seed is not a column), so the
dashboard can aggregate them, as the plotter pools them.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from masktrainer import layout

#: Configuration fields that are not columns: how, where or how fast a run is made, and the
#: seed (seeds of one configuration form one group).
NOT_COLUMNS = frozenset(layout.SETTING_KEYS) | {"seed"}
#: Scalars written at the session's root when a run finishes: the reported epoch's numbers.
REPORTED = (("reported/test_accuracy", "testAccuracy"),
            ("reported/validation_accuracy", "valAccuracy"),
            ("reported/epoch", "epoch"))
#: (tag, subrun) of the dashboard's metric columns: what a run reports, then the curves'
#: accuracy and loss per set (the subrun names of :mod:`masktrainer.run.monitors`).
METRICS = (*((tag, "") for tag, _ in REPORTED),
           ("epoch_accuracy", "test"), ("epoch_accuracy", "validation"),
           ("epoch_accuracy", "train"), ("epoch_loss", "train"), ("epoch_loss", "validation"))


def session_folder(maxepochs: int, extended: bool) -> str:
    """The subfolder of the run's TensorBoard folder that holds its session: the folder itself
    for a run as first configured; ``extended-N`` once its schedule was extended to N epochs (a
    session of its own, with the new columns and group, nested so the first session keeps the
    numbers it reported: TensorBoard keeps a run's first session record)."""
    return f"extended-{maxepochs}" if extended else ""


def hparam_values(config: dict[str, Any]) -> dict[str, bool | int | float | str]:
    """The run's configuration fields as HParams values: numbers, booleans and text stay as
    they are; None, lists and non-finite numbers become their JSON text."""
    values: dict[str, bool | int | float | str] = {}
    for name, value in sorted(config.items()):
        if name in NOT_COLUMNS:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            value = str(value)
        if not isinstance(value, (bool, int, float, str)):
            value = json.dumps(value, sort_keys=True)
        values[name] = value
    return values


def group_name(values: dict[str, Any]) -> str:
    """The session group of a configuration: equal values, equal group."""
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def write_session_start(writer: Any, config: dict[str, Any]) -> None:
    """Write the experiment's columns and this run's values with ``writer`` (a summary writer
    for the run's TensorBoard folder). Every run of one library version writes the same
    columns, so whichever run TensorBoard reads them from, they describe all."""
    from tensorboard.plugins.hparams import api as hp

    values = hparam_values(config)
    with writer.as_default(step=0):
        hp.hparams_config(hparams=[hp.HParam(name) for name in values],
                          metrics=[hp.Metric(tag, group=group) for tag, group in METRICS])
        hp.hparams(values, trial_id=group_name(values))
    writer.flush()


def write_reported(writer: Any, best: dict[str, Any] | None) -> None:
    """Write the numbers a finished run reports (:func:`~masktrainer.run.evaluation.best_epoch`),
    at the reported epoch; nothing for a number the run did not measure."""
    import tensorflow as tf

    if not best:
        return
    with writer.as_default(step=int(best["epoch"])):
        for tag, key in REPORTED:
            value = best.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                tf.summary.scalar(tag, float(value))
    writer.flush()
