"""--steps_per_execution: the per-step duties run at the ends of executions of N steps.

Keras calls ``on_train_batch_end`` once per execution with the index of the last batch that
execution would reach (past the epoch's end for a short last one); the duties turn that
into exact steps. Bitwise equality of chunked and unchunked training is in the contract
test (tests/test_contract.py) and the kill + resume test (tests/run/test_scale.py).
"""

from __future__ import annotations

import keras
import numpy as np

from masktrainer.run.checkpoints import StepCheckpoint
from masktrainer.run.monitors import StopOnNonFiniteLoss, step_after
from masktrainer.run.signals import StopAtStepBoundary


class _Saves:
    def __init__(self) -> None:
        self.steps: list[int] = []

    def save(self, epoch, partial) -> None:
        self.steps.append(partial["step"])


def _model() -> keras.Model:
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)  # builds the metrics
    return model


def _ends(steps: int, chunk: int, offset: int = 0) -> list[int]:
    """The batch indices Keras passes for an epoch of ``steps`` resumed after ``offset``."""
    return [start + chunk - 1 for start in range(0, steps - offset, chunk)]


def test_step_after_counts_from_the_resume_point_and_stops_at_the_epoch_end():
    assert step_after(0, 0, 10) == 1
    assert step_after(4, 0, 10) == 5
    assert step_after(11, 0, 10) == 10  # the short last execution of 10 steps in chunks of 4
    assert step_after(3, 6, 10) == 10 and step_after(1, 6, None) == 8


def test_step_checkpoints_land_at_the_execution_that_passes_each_multiple():
    for chunk, offset, expected in ((1, 0, [7, 14, 21]), (5, 0, [10, 15, 25]),
                                    (4, 0, [8, 16, 24]), (5, 9, [14, 24]),
                                    (30, 0, [])):
        saves = _Saves()
        callback = StepCheckpoint(7, saves, epoch=2, offset=offset, steps_per_epoch=27,
                                  started=0.0)
        callback.set_model(_model())
        for batch in _ends(27, chunk, offset):
            callback.on_train_batch_end(batch, {"loss": 0.5})
        assert saves.steps == expected, (chunk, offset)


def test_a_stop_and_a_non_finite_loss_are_placed_at_the_execution_end():
    class Requested:
        requested = True

    stopper = StopAtStepBoundary(Requested(), offset=3, steps=10)
    stopper.set_model(_model())
    stopper.on_train_batch_end(7, {})  # an execution of 8 from step 4: past the epoch's end
    assert stopper.step == 10 and stopper.model.stop_training
    monitor = StopOnNonFiniteLoss(steps=10)
    monitor.set_model(_model())
    monitor.on_train_batch_end(3, {"loss": 0.1})
    assert monitor.bad_step is None
    monitor.on_train_batch_end(7, {"loss": float("nan")})
    assert monitor.bad_step == 8 and monitor.model.stop_training
